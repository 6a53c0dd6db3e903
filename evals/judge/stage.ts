/**
 * The judge inside the eval stage: `evaluate(model, { judge: { endpoint, model, template, baseline, … } })`.
 * The evaluated model's answers come from a `model_outputs.json` (`outputs`), from `generator` (an
 * OpenAI-compatible endpoint serving it), from `serve` (a function serving the model stage), or by
 * default from `sluice serve` of the model stage, started for the run. The judge is any
 * OpenAI-compatible endpoint, or, offline, `sluice serve` of the checkpoint `judge.checkpoint`
 * names (a directory, or a train stage of the pipeline), or a local GGUF file `judge.gguf` run by
 * llama.cpp in the stage's process. The stage writes
 * `annotations.json` (AlpacaEval's format), `model_outputs.json` and `judge-run.json` next to its
 * scores, and records the run summary in its manifest info under `judge`.
 *
 * Endpoint addresses, concurrency and the cache path are transport settings and stay out of the
 * fingerprint; the judge model, prompt, baseline (by content), order seed, limit and generation
 * settings are in it, and a GGUF judge by its path, size and modification time.
 *
 * A model served here is named `<stage>@<fingerprint>` (a checkpoint directory:
 * `<name>@<digest of its files>`), so the client's response cache, keyed by model name, never
 * answers a retrained model with an earlier model's generations or verdicts.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import type { CustomTaskContext, Dataset, Json, StageRef } from '../../engine/types.ts';
import { toJson } from '../../engine/json.ts';
import { runJudge, type GeneratorOptions, type JudgeRunResult } from './run.ts';
import { judgeRunFiles } from './write.ts';
import { spawnServe, type ServeProcess } from '../../llm/serve-process.ts';
import type { GgufOptions } from '../../llm/gguf.ts';
import { hasScheme } from '../../engine/storage/index.ts';

/** A served model: its endpoint, the model name to ask for, and how to stop it (what `spawnServe` returns). */
export type ServedModel = ServeProcess;

/** `evaluate`'s `judge` option. */
export interface JudgeEvalOptions {
  /** Judge base URL (default `OPENAI_BASE_URL`). */
  endpoint?: string;
  /** Judge model name at that endpoint (with `checkpoint`: the id it is served under, default `<stage>@<fingerprint>`). */
  model?: string;
  /**
   * Offline judge: `sluice serve` of this checkpoint, started for the run: a checkpoint directory,
   * a train stage's output or stage directory (its digest of file names, sizes and mtimes enters
   * the fingerprint), or a train stage of this pipeline (its ref: it runs first, its fingerprint
   * enters this stage's).
   */
  checkpoint?: string | StageRef;
  /**
   * Local judge: a GGUF file (or its options: context size, GPU, threads) run by llama.cpp through
   * node-llama-cpp, with its own chat template (llm/gguf.ts). `model` defaults to the file name
   * without `.gguf`.
   */
  gguf?: string | Omit<GgufOptions, 'chatTemplate'>;
  /** `--template` of the `sluice serve` processes started here, and the chat template of a `gguf` judge (default: the tokenizer's, the GGUF's own). */
  chatTemplate?: string;
  /**
   * `--truncate` of the `sluice serve` processes started here: `left` keeps the last tokens of a
   * prompt longer than the model's context (a tiny model behind AlpacaEval's judge prompt of over
   * 1,000 tokens); default `error`, each such request refused and recorded as such.
   */
  truncate?: 'error' | 'left';
  /** Judge prompt file (AlpacaEval's `alpaca_eval_clf.txt`). */
  template: string;
  /** Baseline `model_outputs.json` (its instructions are the evaluation set). */
  baseline: string;
  /** Generate the evaluated model's answers at this endpoint (overrides `serve`). */
  generator?: GeneratorOptions;
  /** Serves the evaluated model stage for generation (default: `sluice serve` of its output directory). */
  serve?: (model: Dataset, ctx: CustomTaskContext) => Promise<ServedModel>;
  /** Or: the evaluated model's answers as a `model_outputs.json`. */
  outputs?: string;
  /** Generation settings used with `serve` (max tokens default 2048, temperature 0). */
  maxTokens?: number;
  temperature?: number;
  /** Name written as `generator_2` (default: the model stage's name). */
  name?: string;
  seed?: number;
  limit?: number;
  concurrency?: number;
  cache?: string;
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex').slice(0, 16);

/** The judge option with paths made absolute (against `base`) and checked to exist. */
export function resolveJudgeOptions(j: JudgeEvalOptions, base: string): JudgeEvalOptions {
  if (!j || ((typeof j.model !== 'string' || !j.model) && !j.checkpoint && !j.gguf)) throw new Error("evaluate: judge.model (the judge's model name), judge.checkpoint (a judge model to serve) or judge.gguf (a GGUF file) is required");
  if ([j.checkpoint, j.endpoint, j.gguf].filter(Boolean).length > 1) throw new Error('evaluate: judge.checkpoint, judge.endpoint and judge.gguf exclude each other');
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  let gguf: JudgeEvalOptions['gguf'];
  if (j.gguf !== undefined) {
    const g = typeof j.gguf === 'string' ? { path: j.gguf } : j.gguf;
    if (!g || typeof g.path !== 'string' || !g.path) throw new Error('evaluate: judge.gguf must be a .gguf file path or { path, contextSize?, gpu?, threads? }');
    gguf = { ...g, path: abs(g.path) };
    if (!existsSync(gguf.path)) throw new Error(`evaluate: judge.gguf ${gguf.path}: no such file`);
  }
  for (const k of ['template', 'baseline'] as const) if (typeof j[k] !== 'string') throw new Error(`evaluate: judge.${k} (a file path) is required`);
  if (j.checkpoint !== undefined && typeof j.checkpoint !== 'string' && j.checkpoint?.kind !== 'stage') throw new Error('evaluate: judge.checkpoint must be a checkpoint path or a stage ref (what p.stage returns)');
  if (j.truncate !== undefined && j.truncate !== 'error' && j.truncate !== 'left') throw new Error(`evaluate: judge.truncate must be 'error' or 'left', got ${JSON.stringify(j.truncate)}`);
  const checkpoint = typeof j.checkpoint === 'string' ? abs(j.checkpoint) : j.checkpoint;
  return { ...j, template: abs(j.template), baseline: abs(j.baseline), ...(j.outputs ? { outputs: abs(j.outputs) } : {}), ...(checkpoint ? { checkpoint } : {}), ...(gguf ? { gguf } : {}) };
}

/** A checkpoint directory's identity for the fingerprint: its path and each file's name, size and mtime. */
function dirStamp(dir: string): string {
  const h = createHash('sha256').update(dir);
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const st = statSync(p);
        h.update(`${p}\0${st.size}\0${st.mtimeMs}\0`);
      }
    }
  };
  try {
    walk(dir);
  } catch (e) {
    throw new Error(`evaluate: judge.checkpoint ${dir}: ${(e as Error).message}`);
  }
  return h.digest('hex').slice(0, 16);
}

/** A GGUF file's identity for the fingerprint (its path, size and mtime: hashing gigabytes per plan would be slow). */
function fileStamp(path: string): string {
  try {
    const st = statSync(path);
    return createHash('sha256').update(`${path}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 16);
  } catch (e) {
    throw new Error(`evaluate: judge.gguf ${path}: ${(e as Error).message}`);
  }
}

/** What of the judge option enters the stage fingerprint. */
export function judgeFingerprint(j: JudgeEvalOptions): Json {
  const read = (p: string, what: string) => {
    try {
      return sha(p);
    } catch (e) {
      throw new Error(`evaluate: judge.${what} ${p}: ${(e as Error).message}`);
    }
  };
  return toJson({
    judge: j.model ?? null,
    checkpoint: typeof j.checkpoint === 'string' ? dirStamp(j.checkpoint) : j.checkpoint ? { stage: j.checkpoint.name } : null,
    // The context size decides which prompts are refused; GPU and threads decide nothing recorded.
    ...(j.gguf ? { gguf: typeof j.gguf === 'string' ? { file: fileStamp(j.gguf) } : { file: fileStamp(j.gguf.path), contextSize: j.gguf.contextSize ?? null } } : {}),
    chatTemplate: j.chatTemplate ?? null,
    template: read(j.template, 'template'),
    baseline: read(j.baseline, 'baseline'),
    outputs: j.outputs ? read(j.outputs, 'outputs') : null,
    generator: j.generator ? { model: j.generator.model, name: j.generator.name, maxTokens: j.generator.maxTokens ?? 2048, temperature: j.generator.temperature ?? 0, seed: j.generator.seed ?? 0, system: j.generator.system ?? null } : null,
    serve: j.serve ? { maxTokens: j.maxTokens ?? 2048, temperature: j.temperature ?? 0 } : null,
    name: j.name ?? null,
    seed: j.seed ?? 0,
    limit: j.limit ?? null,
    // Only when set, so the fingerprints of judge stages without it are unchanged.
    ...(j.truncate ? { truncate: j.truncate } : {}),
  });
}

/** The id a checkpoint directory is served under: its stage (from its manifest) or directory name, then `@` and the digest of its files. */
function checkpointName(dir: string): string {
  let name = basename(dir);
  try {
    const stage = (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { stage?: unknown }).stage;
    if (typeof stage === 'string' && stage) name = stage;
  } catch {
    // Not a stage output (a bare checkpoint, or a stage directory): the directory's name.
  }
  return `${name}@${dirStamp(dir)}`;
}

/** Runs the judge for the eval stage, writes its files, and returns the summary for the stage info. */
export async function runJudgeEval(j: JudgeEvalOptions, modelDs: Dataset | null, ctx: CustomTaskContext): Promise<JudgeRunResult['summary']> {
  const servers: ServedModel[] = [];
  const serveLog = (what: string) => (l: string) => ctx.log(`judge: [serve ${what}] ${l}`);
  try {
    let model: Parameters<typeof runJudge>[0]['model'];
    if (j.outputs) model = { outputs: j.outputs, name: j.name };
    else if (j.generator) model = { ...j.generator, name: j.generator.name ?? j.name };
    else if (modelDs) {
      let served: ServedModel;
      if (j.serve) served = await j.serve(modelDs, ctx);
      else {
        if (hasScheme(modelDs.dir)) throw new Error(`evaluate: judge: sluice serve needs a local model stage, not ${modelDs.dir}; pass judge.generator or judge.serve`);
        served = await spawnServe(modelDs.dir, { template: j.chatTemplate, truncate: j.truncate, name: `${modelDs.stage}@${modelDs.manifest.fingerprint}`, log: serveLog('model') });
      }
      servers.push(served);
      model = { endpoint: served.endpoint, model: served.model, name: j.name ?? modelDs.stage, maxTokens: j.maxTokens, temperature: j.temperature };
    } else throw new Error('evaluate: judge needs the answers to judge: a model stage, judge.outputs (a model_outputs.json) or judge.generator (an endpoint serving the model)');
    let judge: Parameters<typeof runJudge>[0]['judge'] = { endpoint: j.endpoint, model: j.model ?? '' };
    if (j.gguf) {
      const g = typeof j.gguf === 'string' ? { path: j.gguf } : j.gguf;
      judge = { ...(j.model ? { model: j.model } : {}), gguf: { ...g, ...(j.chatTemplate ? { chatTemplate: j.chatTemplate } : {}) } };
    } else if (j.checkpoint) {
      let dir: string;
      let name: string;
      if (typeof j.checkpoint === 'string') {
        dir = j.checkpoint;
        name = checkpointName(dir);
      } else {
        const ds = await ctx.dataset(j.checkpoint);
        if (hasScheme(ds.dir)) throw new Error(`evaluate: judge.checkpoint: sluice serve needs a local model stage, not ${ds.dir}; pass judge.endpoint`);
        dir = ds.dir;
        name = `${ds.stage}@${ds.manifest.fingerprint}`;
      }
      const s = await spawnServe(dir, { template: j.chatTemplate, truncate: j.truncate, name: j.model ?? name, log: serveLog('judge') });
      servers.push(s);
      judge = { endpoint: s.endpoint, model: j.model ?? s.model };
    }
    const r = await runJudge({
      baseline: j.baseline,
      template: j.template,
      judge,
      model,
      seed: j.seed,
      limit: j.limit,
      concurrency: j.concurrency,
      cache: j.cache,
      signal: ctx.signal,
      log: (l) => ctx.log(`judge: ${l}`),
    });
    for (const [name, text] of Object.entries(judgeRunFiles(r))) await ctx.writeFile(name, text, name === 'judge-run.json' ? 0 : name === 'annotations.json' ? r.annotations.length : r.modelOutputs.length);
    const s = r.summary;
    ctx.log(`judge ${s.judge}: ${s.generator} vs ${s.baseline}: ${s.judged} judged, ${s.unparseable} unparseable, ${s.skipped.length} skipped (calls ${s.calls}, cached ${s.cacheHits})`);
    return s;
  } finally {
    await Promise.all(servers.map((s) => s.close()));
  }
}
