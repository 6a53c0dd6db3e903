/**
 * A judge run: the model's answers to the evaluation instructions (generated through an
 * OpenAI-compatible endpoint, or read from a `model_outputs.json`), then one pairwise judgement per
 * instruction against the baseline's output under AlpacaEval's `weighted_alpaca_eval_gpt4_turbo`
 * protocol (protocol.ts), giving AlpacaEval-format annotations (outputs.ts).
 *
 * Every model call goes through the shared client (llm/client.ts) and its JSONL cache: a judge
 * call is keyed by (judge model, template, instruction, both outputs, order), a generation by
 * (model, messages, decoding settings). Re-running is free, and a killed run resumes from the
 * answers already stored. An answer that cannot be parsed, or a judge request the endpoint
 * refuses for its content (400/413/422: a prompt over the judge's context), becomes
 * `preference: null` with its `parse_error`; a generation that cannot be read or is refused skips
 * its instruction with the reason. Any other failure (bad key, unknown model, retries exhausted)
 * stops the run.
 */
import { readFile } from 'node:fs/promises';
import { ResponseCache, cacheKey, defaultCachePath } from '../../llm/cache.ts';
import { EndpointError, ModelClient, type CallResult, type ChatBackend } from '../../llm/client.ts';
import { GgufClient, ggufModelName, type GgufOptions } from '../../llm/gguf.ts';
import { resolveEndpoint } from '../../llm/endpoint.ts';
import type { ChatMessage } from '../../formats/chat.ts';
import type { ChatRequest } from '../../llm/types.ts';
import { PROTOCOL, fillPrompt, judgeRequest, modelFirst, parseChatmlTemplate, parseJudgement, unswap } from './protocol.ts';
import { readModelOutputs, type Annotation, type ModelOutput } from './outputs.ts';

/** How the model's answers are generated: chat completions from an OpenAI-compatible endpoint. */
export interface GeneratorOptions {
  /** Base URL (default `OPENAI_BASE_URL`). */
  endpoint?: string;
  /** Model name sent to the endpoint. */
  model: string;
  /** Name written as `generator` / `generator_2` (default `model`). */
  name?: string;
  /** Longest answer in tokens (default 2048). */
  maxTokens?: number;
  /** Sampling temperature (default 0: greedy, so the answers are reproducible). */
  temperature?: number;
  /** Sampling seed sent to the endpoint (default 0). */
  seed?: number;
  /** Optional system message before each instruction. */
  system?: string;
}

/** A judge run's settings. */
export interface JudgeRunOptions {
  /** The baseline's `model_outputs.json`: the instructions and the outputs to compare against. */
  baseline: string;
  /** The judge prompt, ChatML text with {instruction}, {output_1}, {output_2} (AlpacaEval's `alpaca_eval_clf.txt`). */
  template: string;
  /**
   * The judge: base URL (default `OPENAI_BASE_URL`) and model name; or `gguf`, a local GGUF file
   * run by llama.cpp (llm/gguf.ts), whose `model` (the name in cache keys and `annotator`)
   * defaults to the file name without `.gguf`.
   */
  judge: { endpoint?: string; model: string; gguf?: GgufOptions } | { model?: string; gguf: GgufOptions };
  /** The model's answers: generated (`GeneratorOptions`) or read from a `model_outputs.json` path. */
  model: GeneratorOptions | { outputs: string; name?: string };
  /** Name written as `annotator` (default `weighted_alpaca_eval_gpt4_turbo/<judge model>`). */
  annotator?: string;
  /** Seed of the per-instruction output order (default 0); recorded in the run summary. */
  seed?: number;
  /** Judge only the first `limit` instructions (default all). */
  limit?: number;
  /** Requests in flight per endpoint (default 4). */
  concurrency?: number;
  /** Response cache file (default `<SLUICE_CACHE or ~/.cache/sluice>/llm/responses.jsonl`). */
  cache?: string;
  /** Per-attempt timeout in ms (default 120,000) and retries (default 6). */
  timeoutMs?: number;
  retries?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

/** What a run produced. */
export interface JudgeRunResult {
  annotations: Annotation[];
  modelOutputs: ModelOutput[];
  summary: {
    protocol: string;
    judge: string;
    generator: string;
    baseline: string;
    seed: number;
    instructions: number;
    judged: number;
    unparseable: number;
    /** Instructions with no judgement: no model answer (missing from the outputs file, or a generation that could not be read). */
    skipped: Array<{ instruction: string; reason: string }>;
    /** Judgements read from log-probabilities vs from the answer text (fallback). */
    byMethod: { logprobs: number; text: number };
    /** Shown with the model's output first (the rest: baseline first). */
    modelFirst: number;
    calls: number;
    cacheHits: number;
    retries: number;
  };
}

const isGenerator = (m: JudgeRunOptions['model']): m is GeneratorOptions => 'model' in m;

/** Runs generation (if asked) and judging; see the module comment. */
export async function runJudge(opts: JudgeRunOptions): Promise<JudgeRunResult> {
  const log = opts.log ?? (() => {});
  const seed = opts.seed ?? 0;
  const templateText = await readFile(opts.template, 'utf8').catch((e: Error) => {
    throw new Error(`judge template ${opts.template}: ${e.message}`);
  });
  const template = parseChatmlTemplate(templateText, opts.template);
  let baseline = await readModelOutputs(opts.baseline, 'baseline');
  if (opts.limit !== undefined) {
    if (!Number.isInteger(opts.limit) || opts.limit < 1) throw new Error(`limit must be a positive integer, got ${opts.limit}`);
    baseline = baseline.slice(0, opts.limit);
  }
  const seen = new Set<string>();
  for (const b of baseline) {
    if (seen.has(b.instruction)) throw new Error(`${opts.baseline}: instruction ${JSON.stringify(b.instruction.slice(0, 60))} appears twice`);
    seen.add(b.instruction);
  }
  const cache = await ResponseCache.open(opts.cache ?? defaultCachePath());
  if (cache.skippedLines) log(`cache ${cache.path}: skipped ${cache.skippedLines} unreadable line(s) (a torn write from a killed run)`);
  // The first call that fails for good stops the others (their answers so far stay cached).
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const clientOpts = { concurrency: opts.concurrency ?? 4, timeoutMs: opts.timeoutMs, retries: opts.retries, cache, signal, onRetry: (n: number, why: string, ms: number) => log(`retry ${n} in ${(ms / 1000).toFixed(1)} s: ${why}`) };
  const jspec = opts.judge;
  if (jspec.gguf && 'endpoint' in jspec && jspec.endpoint !== undefined) throw new Error('judge: gguf and endpoint exclude each other');
  const judgeModel = jspec.model ?? (jspec.gguf ? ggufModelName(jspec.gguf.path) : '');
  if (!judgeModel) throw new Error("judge: model (the judge's model name) is required");
  // A GGUF judge runs one request at a time and loads its model on the first call the cache cannot
  // answer; the cache and its keys are the HTTP judge's.
  const judgeClient: ChatBackend = jspec.gguf ? new GgufClient({ ...jspec.gguf, cache, signal }) : new ModelClient(resolveEndpoint({ baseUrl: 'endpoint' in jspec ? jspec.endpoint : undefined }), clientOpts);
  const clients: ChatBackend[] = [judgeClient];
  const skipped: JudgeRunResult['summary']['skipped'] = [];
  try {
    // 1. The model's answers, in baseline order.
    let answers: Map<string, ModelOutput>;
    let generatorName: string;
    const spec = opts.model;
    if (isGenerator(spec)) {
      generatorName = spec.name ?? spec.model;
      const gen = new ModelClient(resolveEndpoint({ baseUrl: spec.endpoint }), clientOpts);
      clients.push(gen);
      answers = await generate(gen, baseline, spec, generatorName, skipped, log, stop);
    } else {
      const outs = await readModelOutputs(spec.outputs, spec.name);
      generatorName = spec.name ?? outs[0]?.generator ?? 'model';
      answers = new Map(outs.map((o) => [o.instruction, { ...o, generator: generatorName }]));
      for (const b of baseline) if (!answers.has(b.instruction)) skipped.push({ instruction: b.instruction, reason: `not in ${spec.outputs}` });
    }
    // 2. One judgement per instruction with an answer.
    const annotator = opts.annotator ?? `${PROTOCOL}/${judgeModel}`;
    const byMethod = { logprobs: 0, text: 0 };
    let firstCount = 0;
    let done = 0;
    const todo = baseline.filter((b) => answers.has(b.instruction));
    const annotations = await Promise.all(
      todo.map(async (b): Promise<Annotation> => {
        const model = answers.get(b.instruction)!;
        const swapped = modelFirst(seed, b.instruction);
        if (swapped) firstCount++;
        const [first, second] = swapped ? [model.output, b.output] : [b.output, model.output];
        const messages = fillPrompt(template, { instruction: b.instruction, output_1: first, output_2: second });
        const key = cacheKey({ kind: 'judge', protocol: PROTOCOL, judge: judgeModel, template: templateText, instruction: b.instruction, output_1: b.output, output_2: model.output, modelFirst: swapped });
        const t0 = performance.now();
        const res = await judgeClient.chat(judgeRequest(judgeModel, messages), key).catch((e: unknown) => rejected(e, stop));
        const seconds = res.ok && res.cached ? 0 : (performance.now() - t0) / 1000;
        const rec: Annotation = {
          instruction: b.instruction,
          output_1: b.output,
          generator_1: b.generator,
          dataset: b.dataset ?? null,
          output_2: model.output,
          generator_2: generatorName,
          annotator,
          preference: null,
          price_per_example: null,
          time_per_example: Number(seconds.toFixed(4)),
          raw_completion: res.ok ? res.value.choices[0]! : null,
        };
        if (!res.ok) rec.parse_error = res.body ? `${res.reason}: ${res.body.slice(0, 200)}` : res.reason;
        else {
          const p = parseJudgement(res.value.choices[0]!);
          if (p.ok) {
            rec.preference = unswap(p.preference, swapped);
            byMethod[p.method]++;
          } else rec.parse_error = p.reason;
        }
        if (++done % 50 === 0 || done === todo.length) log(`judged ${done}/${todo.length}`);
        return rec;
      }),
    );
    const order = new Map(baseline.map((b, i) => [b.instruction, i]));
    skipped.sort((x, y) => order.get(x.instruction)! - order.get(y.instruction)!);
    const unparseable = annotations.filter((a) => a.preference === null).length;
    const stats = clients.reduce((s, c) => ({ calls: s.calls + c.stats.requests, cacheHits: s.cacheHits + c.stats.cacheHits, retries: s.retries + c.stats.retries }), { calls: 0, cacheHits: 0, retries: 0 });
    return {
      annotations,
      modelOutputs: baseline.filter((b) => answers.has(b.instruction)).map((b) => answers.get(b.instruction)!),
      summary: {
        protocol: PROTOCOL,
        judge: judgeModel,
        generator: generatorName,
        baseline: baseline[0]?.generator ?? 'baseline',
        seed,
        instructions: baseline.length,
        judged: annotations.length - unparseable,
        unparseable,
        skipped,
        byMethod,
        modelFirst: firstCount,
        ...stats,
      },
    };
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await cache.flush();
  }
}

/**
 * A request the endpoint refused for its content (a prompt over the judge's context length):
 * that item's result, recorded with the reason and not cached, so the run goes on. Any other
 * failure stops the run: it concerns every request (a bad key, an unknown model, an outage).
 */
function rejected(e: unknown, stop: AbortController): CallResult<never> {
  if (e instanceof EndpointError && e.requestRejected) return { ok: false, reason: `the endpoint rejected the request: ${e.message}`, body: '' };
  stop.abort(e);
  throw e;
}

/** The model's answer to each instruction (chat completions); unreadable answers are skipped with their reason. */
async function generate(client: ModelClient, baseline: ModelOutput[], g: GeneratorOptions, name: string, skipped: JudgeRunResult['summary']['skipped'], log: (l: string) => void, stop: AbortController): Promise<Map<string, ModelOutput>> {
  const out = new Map<string, ModelOutput>();
  let done = 0;
  await Promise.all(
    baseline.map(async (b) => {
      const messages: ChatMessage[] = [...(g.system ? [{ role: 'system' as const, content: g.system }] : []), { role: 'user', content: b.instruction }];
      const req: ChatRequest = { model: g.model, messages, max_tokens: g.maxTokens ?? 2048, temperature: g.temperature ?? 0, seed: g.seed ?? 0 };
      const res = await client.chat(req, cacheKey({ kind: 'generate', ...req })).catch((e: unknown) => rejected(e, stop));
      const content = res.ok ? res.value.choices[0]!.message.content : null;
      if (!res.ok) skipped.push({ instruction: b.instruction, reason: `generation failed: ${res.reason}` });
      else if (typeof content !== 'string') skipped.push({ instruction: b.instruction, reason: 'generation has no message content' });
      else out.set(b.instruction, { instruction: b.instruction, output: content, generator: name, ...(b.dataset ? { dataset: b.dataset } : {}) });
      if (++done % 50 === 0 || done === baseline.length) log(`generated ${done}/${baseline.length}`);
    }),
  );
  return out;
}
