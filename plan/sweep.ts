/**
 * `scaling.sweep(shards, options)`: a barrier stage that trains a grid of small models (sizes ×
 * token budgets) on the token shards with the trainer, records each run's final loss, fits
 * L(C) = a·C^−α + L∞ and L(N, D) = E + A/N^α + B/D^β with bootstrap intervals, and writes
 * `sweep.json` (read back by `sluice plan --fit <dir>`) and `report.html` (inline SVG chart).
 *
 * Runs are trained one after another in the task (the trainer uses the cores itself). Each
 * finished run's result is cached under `<workdir>/_cache/scaling.sweep/`, keyed by the shard
 * dataset (its fingerprinted directory), the model, the token budget and the training options:
 * an interrupted sweep resumes at the first unfinished run (the trainer resumes that run from its
 * own checkpoint), and changing only the analysis (target, bootstrap, paramsKind) or adding a
 * size to the grid retrains nothing that was already trained.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseConfig } from '../engine/operator.ts';
import { canonicalJson } from '../engine/runtime.ts';
import { isShardManifest, shardSet } from '../formats/shards.ts';
import type { CustomStage, CustomTaskContext, Dataset, Json, StageRef } from '../engine/types.ts';
import type { ModelConfig, ModelSpec } from '../formats/model.ts';
import type { ShardSet, TrainModelOptions, TrainResult } from '../trainer/api.ts';
import { analysisJson, analyzeRuns, type SweepRun } from './analysis.ts';
import { fmtCount } from './format.ts';
import { renderReport } from './report.ts';
import { toJson } from '../engine/json.ts';

const TYPE = 'scaling.sweep';
const VERSION = '1';

const posInt = z.number().int().positive();
const modelSchema = z.object({
  layers: posInt,
  dModel: posInt,
  heads: posInt,
  contextLength: posInt,
  vocabSize: posInt.optional(),
  mlpRatio: posInt.optional(),
  tiedHead: z.boolean().optional(),
  positions: z.enum(['learned', 'rotary']).optional(),
  bias: z.boolean().optional(),
  layerNormEps: z.number().positive().optional(),
}).strict();

const trainSchema = z.object({
  backend: z.enum(['tfjs', 'torch']).optional(),
  optimizer: z.record(z.string(), z.number()).optional(),
  schedule: z.record(z.string(), z.union([z.number(), z.string()])).optional(),
  batchSize: posInt.optional(),
  gradAccum: posInt.optional(),
  evalEvery: posInt.optional(),
  evalBatches: posInt.optional(),
  checkpointEvery: posInt.optional(),
  logEvery: posInt.optional(),
  seed: z.number().int().optional(),
  valTokens: posInt.optional(),
  tfjs: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
  torch: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
}).strict();

const configSchema = z.object({
  /** Model shapes (vocabulary from the shards when absent). */
  models: z.array(modelSchema).min(2, 'give at least 2 model sizes'),
  /** Training-token budgets; every model is trained on each. */
  tokens: z.array(z.number().positive()).min(2, 'give at least 2 token budgets'),
  train: trainSchema.default({}),
  paramsKind: z.enum(['total', 'nonEmbedding']).default('total'),
  target: z.object({ params: z.number().positive().optional(), tokens: z.number().positive().optional(), flops: z.number().positive().optional() }).strict().optional(),
  resamples: z.number().int().min(0).default(200),
  level: z.number().gt(0).lt(1).default(0.95),
  seed: z.number().int().default(1),
}).strict()
  .refine((c) => c.models.length * c.tokens.length >= 6, { message: 'the grid needs at least 6 runs (sizes × token budgets) to fit L(N, D)', path: ['models'] })
  .refine((c) => !c.target || (c.target.flops !== undefined ? !(c.target.params !== undefined && c.target.tokens !== undefined) : c.target.params !== undefined && c.target.tokens !== undefined), {
    message: 'give params and tokens, or flops with at most one of them',
    path: ['target'],
  });

/** Options of `scaling.sweep` (JSON, part of the stage fingerprint). */
export type SweepOptions = z.input<typeof configSchema>;

/** What the stage calls to train one run (the trainer's `trainModel`; replaceable in tests). */
export type TrainFn = (opts: TrainModelOptions) => Promise<TrainResult>;

/**
 * The token shards of a dataset as the trainer reads them. A `shard.tokens` stage (manifest
 * `info.format` = `sluice.tokens/1`) gives its train/val shard lists, vocabulary and end-of-text
 * id, exactly as the `train` stage reads them. Any other artifact stage: its `.bin` files in
 * manifest order, those with `val` in their file name as the validation split, `vocabSize` and
 * `eotToken` from the manifest's `info` when recorded.
 */
export function shardSetOf(ds: Dataset): ShardSet {
  const info = ds.manifest.info ?? {};
  if (isShardManifest(info)) return shardSet(info);
  const bins = ds.files().filter((f) => f.endsWith('.bin'));
  if (bins.length === 0) throw new Error(`${TYPE}: input stage '${ds.stage}' is not a shard.tokens stage and has no .bin token shards (files: ${ds.files().slice(0, 5).join(', ') || 'none'}); use shard.tokens({ format: 'bin' })`);
  const base = (f: string) => f.slice(f.lastIndexOf('/') + 1);
  const val = bins.filter((f) => /(^|[^a-z])val/i.test(base(f)));
  const train = bins.filter((f) => !val.includes(f));
  if (train.length === 0) throw new Error(`${TYPE}: input stage '${ds.stage}' has only validation shards`);
  const set: ShardSet = { train, tokenizer: `${ds.stage} (${ds.dir})` };
  if (val.length) set.val = val;
  if (typeof info.vocabSize === 'number') set.vocabSize = info.vocabSize;
  if (typeof info.eotToken === 'number') set.eotToken = info.eotToken;
  return set;
}

function runName(m: ModelSpec, tokens: number): string {
  return `L${m.layers}-d${m.dModel}-h${m.heads}-t${fmtCount(tokens)}`;
}

/**
 * Declares the sweep stage over a token-shard stage. Options: `models` (≥ 2 shapes), `tokens`
 * (≥ 2 budgets; ≥ 6 runs in all), `train` (trainer options shared by all runs: backend,
 * optimizer, schedule, batchSize, …), `paramsKind` (`total`, default, or `nonEmbedding`: the N
 * of the fits), `target` (params/tokens/flops to predict), `resamples` (bootstrap, default 200),
 * `level` (default 0.95), `seed` (default 1). Output: an artifact with `sweep.json`,
 * `report.html` and `runs.jsonl`; the manifest's `info` carries the fitted coefficients.
 * `deps.train` replaces the trainer's `trainModel` (tests, or an external trainer); it is not
 * part of the stage fingerprint.
 */
export function sweep(shards: StageRef, options: SweepOptions, deps: { train?: TrainFn } = {}): CustomStage {
  const config = parseConfig(TYPE, configSchema, options);
  return {
    kind: 'custom',
    type: TYPE,
    name: TYPE,
    version: VERSION,
    config: toJson(config),
    inputs: [shards],
    output: 'artifact',
    taskCount: () => 1,
    async run(ctx: CustomTaskContext): Promise<void> {
      const train: TrainFn = deps.train ?? (await import('../trainer/api.ts')).trainModel;
      const ds = ctx.inputs[0];
      if (!ds) throw new Error(`${TYPE}: no input dataset (expected the token shards stage)`);
      const data = shardSetOf(ds);
      const grid = config.models.flatMap((m) => config.tokens.map((t) => ({ model: m as ModelSpec, tokens: t, name: runName(m, t) })));
      const names = new Set(grid.map((g) => g.name));
      if (names.size !== grid.length) throw new Error(`${TYPE}: two runs share a name (same layers, dModel, heads and tokens): ${grid.map((g) => g.name).join(', ')}`);
      const runs: SweepRun[] = [];
      let i = 0;
      for (const g of grid) {
        i++;
        if (ctx.signal.aborted) throw new Error(`${TYPE}: aborted`);
        const key = createHash('sha256').update(canonicalJson({ v: VERSION, data: ds.dir, model: g.model, tokens: g.tokens, train: config.train })).digest('hex').slice(0, 24);
        const doneUri = ctx.storage.join(ctx.workdir, '_cache', TYPE, `${g.name}-${key}.json`);
        let result: TrainResult;
        if (await ctx.storage.exists(doneUri)) {
          result = JSON.parse(await ctx.storage.readText(doneUri)) as TrainResult;
          ctx.log(`${TYPE}: run ${i}/${grid.length} ${g.name} already done (loss ${result.valLoss ?? result.finalLoss})`);
        } else {
          ctx.progress.note(`run ${i}/${grid.length} ${g.name}`);
          ctx.log(`${TYPE}: run ${i}/${grid.length} ${g.name}: ${fmtCount(g.tokens)} tokens`);
          result = await train({
            ...(config.train as Omit<TrainModelOptions, 'model' | 'data' | 'outDir'>),
            model: g.model,
            tokens: g.tokens,
            data,
            outDir: ctx.storage.join(ctx.stageDir, 'runs', g.name),
            stateDir: ctx.storage.join(ctx.stateDir, 'runs', g.name),
            log: (msg) => ctx.log(`${g.name}: ${msg}`),
            onMetrics: (r) => {
              if (r.kind === 'train') ctx.progress.note(`run ${i}/${grid.length} ${g.name} step ${r.step} loss ${r.loss.toFixed(3)}`);
            },
            signal: ctx.signal,
          });
          await ctx.storage.write(doneUri, JSON.stringify(result));
        }
        runs.push(toRun(g.name, result, config.paramsKind));
      }
      const analysis = analyzeRuns(runs, { paramsKind: config.paramsKind, target: config.target, resamples: config.resamples, level: config.level, seed: config.seed });
      await ctx.writeFile('runs.jsonl', runs.map((r) => JSON.stringify(r)).join('\n') + '\n', runs.length);
      await ctx.writeFile('sweep.json', analysisJson(analysis));
      await ctx.writeFile('report.html', renderReport(analysis, `Scaling sweep: ${ctx.pipeline}/${ctx.stage}`));
      const info: Record<string, Json> = { runs: runs.length, paramsKind: config.paramsKind };
      const p = analysis.parametricLaw;
      const c = analysis.computeLaw;
      info.parametricLaw = 'error' in p ? { error: p.error } : { E: p.E, A: p.A, B: p.B, alpha: p.alpha, beta: p.beta };
      info.computeLaw = 'error' in c ? { error: c.error } : { a: c.a, alpha: c.alpha, lInf: c.lInf };
      if (analysis.target) info.targetLoss = analysis.target.lossParametric ?? analysis.target.lossCompute;
      if (analysis.warnings.length) info.warnings = analysis.warnings;
      ctx.setInfo(JSON.parse(JSON.stringify(info, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v))) as Record<string, Json>);
      for (const [label, fit] of [['L(N, D)', p], ['L(C)', c]] as const) if ('error' in fit) ctx.log(`${TYPE}: ${label} not fitted: ${fit.error}`);
      for (const w of analysis.warnings) ctx.log(`${TYPE}: warning: ${w}`);
    },
  };
}

function toRun(name: string, r: TrainResult, kind: 'total' | 'nonEmbedding'): SweepRun {
  const params = kind === 'total' ? r.params.total : r.params.nonEmbedding;
  const loss = r.valLoss ?? r.finalLoss;
  if (!Number.isFinite(loss)) throw new Error(`${TYPE}: run ${name} ended with a non-finite loss (${loss}): lower the learning rate`);
  return {
    name,
    model: r.model as ModelConfig,
    params,
    paramsTotal: r.params.total,
    paramsNonEmbedding: r.params.nonEmbedding,
    tokens: r.tokensSeen,
    flops: 6 * params * r.tokensSeen,
    trainerFlops: r.totalFlops,
    loss,
    trainLoss: r.finalLoss,
    valLoss: r.valLoss,
    steps: r.steps,
    seconds: r.seconds,
  };
}
