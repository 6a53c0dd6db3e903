/** `sluice judge run`: AlpacaEval-style pairwise judging of a model against a baseline (evals/judge/run.ts). */
import { UsageError } from '../command.ts';
import { intOption, parse } from '../args.ts';

/** Usage text of `sluice judge run` (printed by `sluice judge --help` and on usage errors). */
export const JUDGE_RUN_USAGE = `sluice judge run --baseline F --template F
                 (--judge-model M [--judge-endpoint URL] | --judge-serve CKPT | --judge-gguf F)
                 (--outputs F | --model M [--model-endpoint URL] | --model-serve CKPT)
                 [--max-tokens N] [--temperature T] [--system S] [--chat-template T]
                 [--name N] --out DIR [--limit N] [--seed S] [--concurrency N] [--cache F] [--json]

Generates the model's answers to the baseline's instructions (chat completions from an
OpenAI-compatible endpoint) or reads them from --outputs, then asks the judge which answer is
better under AlpacaEval's weighted_alpaca_eval_gpt4_turbo protocol: outputs shown in an order
randomised per instruction (recorded --seed), a one-token answer with top_logprobs, preference =
2 − P(m) from the logprobs of the labels m/M (text fallback when the endpoint gives none). Writes
DIR/annotations.json (AlpacaEval's format: preference 1 = baseline … 2 = model; null with
parse_error when the answer could not be read), DIR/model_outputs.json and DIR/judge-run.json
(the run's settings and counts). Every call is cached (--cache): a re-run is free, a killed run
resumes. Endpoints default to OPENAI_BASE_URL; OPENAI_API_KEY is sent, never printed.
  --baseline F        the baseline's model_outputs.json (its instructions are the evaluation set)
  --template F        the judge prompt (ChatML text with {instruction}, {output_1}, {output_2};
                      AlpacaEval's alpaca_eval_clf.txt)
  --judge-model M     judge model name at the judge endpoint (required)
  --judge-endpoint U  judge base URL (default OPENAI_BASE_URL)
  --judge-serve CKPT  offline judge: run 'sluice serve CKPT --port 0' for the run and judge with
                      it (a checkpoint or train stage output; --judge-model defaults to its id)
  --judge-gguf F      local judge: the GGUF file F run by llama.cpp (node-llama-cpp) in this
                      process, its own chat template (tokenizer.chat_template, or --chat-template),
                      greedy, one request at a time; --judge-model defaults to F's name without .gguf
  --judge-context N   context size of the --judge-gguf model (default: its training context, ≤ 8192)
  --judge-threads N   CPU threads of the --judge-gguf model (default: node-llama-cpp's, every core)
  --outputs F         the model's answers as a model_outputs.json (instead of generating)
  --model M           model name to generate with at --model-endpoint (default OPENAI_BASE_URL)
  --model-serve CKPT  generate with 'sluice serve CKPT --port 0', started for the run
  --chat-template T   --template of the servers started by --judge-serve / --model-serve, and the
                      chat template of --judge-gguf (default: the GGUF's own)
  --max-tokens N      longest generated answer (default 2048); --temperature T (default 0)
  --system S          a system message before each instruction when generating
  --name N            the model's name in the annotations (default --model, or the outputs' generator)
  --limit N           only the first N instructions
  --seed S            seed of the per-instruction order (default 0)
  --concurrency N     requests in flight per endpoint (default 4)
  --cache F           response cache, JSONL (default ~/.cache/sluice/llm/responses.jsonl, SLUICE_CACHE)
  --json              print the run summary as JSON

Example:
  sluice judge run --baseline alpaca-eval/baseline_gpt4_1106_preview.model_outputs.json \\
    --template alpaca-eval/alpaca_eval_clf.txt --judge-endpoint http://127.0.0.1:8000/v1 \\
    --judge-model judge --model my-model --model-endpoint http://127.0.0.1:8001/v1 --out runs/judge`;

/** Runs `sluice judge run`; see JUDGE_RUN_USAGE. */
export async function judgeRun(argv: string[]): Promise<number> {
  const { values: v, positionals } = parse(argv, {
    baseline: { type: 'string' },
    template: { type: 'string' },
    'judge-model': { type: 'string' },
    'judge-endpoint': { type: 'string' },
    'judge-serve': { type: 'string' },
    'judge-gguf': { type: 'string' },
    'judge-context': { type: 'string' },
    'judge-threads': { type: 'string' },
    'model-serve': { type: 'string' },
    'chat-template': { type: 'string' },
    outputs: { type: 'string' },
    model: { type: 'string' },
    'model-endpoint': { type: 'string' },
    'max-tokens': { type: 'string' },
    temperature: { type: 'string' },
    system: { type: 'string' },
    name: { type: 'string' },
    out: { type: 'string' },
    limit: { type: 'string' },
    seed: { type: 'string' },
    concurrency: { type: 'string' },
    cache: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  for (const k of ['baseline', 'template', 'out'] as const) if (!v[k]) throw new UsageError(`--${k} is required`);
  if (!v['judge-model'] && !v['judge-serve'] && !v['judge-gguf']) throw new UsageError('give --judge-model M (at --judge-endpoint or OPENAI_BASE_URL), --judge-serve CKPT or --judge-gguf F');
  if ([v['judge-serve'], v['judge-endpoint'], v['judge-gguf']].filter(Boolean).length > 1) throw new UsageError('--judge-serve, --judge-endpoint and --judge-gguf exclude each other');
  for (const k of ['judge-context', 'judge-threads'] as const) if (v[k] !== undefined && !v['judge-gguf']) throw new UsageError(`--${k} goes with --judge-gguf`);
  if (v['model-serve'] && v['model-endpoint']) throw new UsageError('--model-serve and --model-endpoint exclude each other');
  if ([v.outputs, v.model ?? v['model-serve']].filter(Boolean).length !== 1) throw new UsageError('give either --outputs F (answers to judge), or --model M / --model-serve CKPT (generate them)');
  let temperature: number | undefined;
  if (v.temperature !== undefined) {
    temperature = Number(v.temperature);
    if (!Number.isFinite(temperature) || temperature < 0) throw new UsageError(`--temperature must be a number ≥ 0 (got '${v.temperature}')`);
  }
  const limit = intOption('limit', v.limit);
  const seed = intOption('seed', v.seed, 0);
  const concurrency = intOption('concurrency', v.concurrency);
  const maxTokens = intOption('max-tokens', v['max-tokens']);
  const judgeContext = intOption('judge-context', v['judge-context'], 2);
  const judgeThreads = intOption('judge-threads', v['judge-threads']);
  const { runJudge } = await import('../../evals/judge/run.ts');
  const { writeJudgeRun } = await import('../../evals/judge/write.ts');
  const { spawnServe } = await import('../../llm/serve-process.ts');
  const log = (l: string) => process.stderr.write(`judge: ${l}\n`);
  const servers: Array<{ close(): Promise<void> }> = [];
  let result;
  try {
    const serve = async (target: string, what: string) => {
      log(`starting sluice serve ${target} (${what})`);
      const s = await spawnServe(target, { template: v['chat-template'], log: (l) => log(`[serve ${what}] ${l}`) });
      servers.push(s);
      log(`${what}: ${s.model} at ${s.endpoint}`);
      return s;
    };
    const judgeServer = v['judge-serve'] ? await serve(v['judge-serve'], 'judge') : undefined;
    const modelServer = v['model-serve'] ? await serve(v['model-serve'], 'model') : undefined;
    const gguf = v['judge-gguf'] ? { path: v['judge-gguf'], ...(judgeContext !== undefined ? { contextSize: judgeContext } : {}), ...(judgeThreads !== undefined ? { threads: judgeThreads } : {}), ...(v['chat-template'] ? { chatTemplate: v['chat-template'] } : {}) } : undefined;
    const judge = judgeServer
      ? { model: v['judge-model'] ?? judgeServer.model, endpoint: judgeServer.endpoint }
      : gguf
        ? { model: v['judge-model'], gguf }
        : { model: v['judge-model']!, endpoint: v['judge-endpoint'] };
    const gen = { name: v.name, maxTokens, temperature, system: v.system };
    result = await runJudge({
      baseline: v.baseline!,
      template: v.template!,
      judge,
      model: modelServer ? { ...gen, model: v.model ?? modelServer.model, endpoint: modelServer.endpoint } : v.model ? { ...gen, model: v.model, endpoint: v['model-endpoint'] } : { outputs: v.outputs!, name: v.name },
      limit,
      seed,
      concurrency,
      cache: v.cache,
      log,
    });
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
  await writeJudgeRun(v.out!, result);
  const s = result.summary;
  if (v.json) process.stdout.write(JSON.stringify(s, null, 1) + '\n');
  else {
    process.stdout.write(
      `${s.generator} vs ${s.baseline}, judged by ${s.judge} (${s.protocol}, order seed ${s.seed}): ${s.judged} judged, ${s.unparseable} unparseable, ${s.skipped.length} skipped of ${s.instructions}\n` +
        `calls ${s.calls}, from cache ${s.cacheHits}, retries ${s.retries}; logprobs ${s.byMethod.logprobs}, text fallback ${s.byMethod.text}\n` +
        `wrote ${v.out}/annotations.json, model_outputs.json, judge-run.json\n`,
    );
  }
  return 0;
}
