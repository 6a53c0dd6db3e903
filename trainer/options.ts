/**
 * Resolves TrainOptions into a fully specified run (every default filled in), the form both
 * backends consume: the tfjs loop directly, the torch subprocess as `run.json`.
 */
import type { AttentionMode, ModelSpec, OptimizerConfig, ShardSet, TfjsOptions, TorchOptions, TrainerBackend, TrainOptions } from './api.ts';
import { fullModelConfig, type FullModelConfig, type ModelConfig } from '../formats/model.ts';
import { fullSchedule, type FullSchedule } from './optim/schedule.ts';
import { defaultBackend } from './tfjs/backend.ts';

export type FullOptimizer = Required<OptimizerConfig>;

/** A run with nothing left to default. */
export interface ResolvedRun {
  model: FullModelConfig;
  optimizer: FullOptimizer;
  schedule: FullSchedule;
  backend: TrainerBackend;
  steps: number;
  batchSize: number;
  gradAccum: number;
  evalEvery: number;
  evalBatches: number;
  checkpointEvery: number;
  logEvery: number;
  seed: number;
  /** null: the default hold-out rule (5%, at most 1M tokens). */
  valTokens: number | null;
  attention: AttentionMode;
  tfjs: Required<TfjsOptions>;
  torch: TorchOptions;
}

/** `v` when it is a positive integer; else an error `<who>: <name> must be a positive integer`. */
export function positiveInt(who: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new Error(`${who}: ${name} must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

const posInt = (name: string, v: unknown) => positiveInt('trainer', name, v);

/**
 * The optimizer config with every default filled in and checked (errors prefixed `who`): β1 0.9,
 * β2 0.95, ε 1e-8, gradient clip 1.0; `lr` and `weightDecay` default to the caller's.
 */
export function fullOptimizer(o: OptimizerConfig | undefined, defaults: { lr: number; weightDecay: number }, who: string): FullOptimizer {
  const opt: FullOptimizer = {
    lr: o?.lr ?? defaults.lr,
    beta1: o?.beta1 ?? 0.9,
    beta2: o?.beta2 ?? 0.95,
    eps: o?.eps ?? 1e-8,
    weightDecay: o?.weightDecay ?? defaults.weightDecay,
    gradClip: o?.gradClip ?? 1.0,
  };
  if (!(opt.lr > 0)) throw new Error(`${who}: optimizer.lr must be > 0, got ${opt.lr}`);
  for (const k of ['beta1', 'beta2'] as const) if (!(opt[k] >= 0 && opt[k] < 1)) throw new Error(`${who}: optimizer.${k} must be in [0, 1), got ${opt[k]}`);
  for (const k of ['eps', 'weightDecay', 'gradClip'] as const) if (!(opt[k] >= 0)) throw new Error(`${who}: optimizer.${k} must be >= 0, got ${opt[k]}`);
  return opt;
}

/** The tfjs options with their defaults: the platform's default backend, 1 thread. */
export function fullTfjs(o: TfjsOptions | undefined): Required<TfjsOptions> {
  return { backend: o?.backend ?? defaultBackend(), threads: o?.threads ?? 1 };
}

/** The model config, taking the vocabulary from the data when the spec has none. */
export function resolveModel(spec: ModelSpec, data?: Pick<ShardSet, 'vocabSize'>): FullModelConfig {
  const vocabSize = spec.vocabSize ?? data?.vocabSize;
  if (vocabSize === undefined) throw new Error('trainer: model.vocabSize is not set and the shards do not record the tokenizer vocabulary (manifest info.vocabSize)');
  return trainerModelConfig({ ...spec, vocabSize });
}

/**
 * The contract's defaults and checks (formats/model.ts), plus the trainer's own limit: both
 * backends size the MLP as `mlpRatio × dModel` without rounding, so `mlpRatio` must be an integer
 * (the planner accepts any positive ratio and rounds).
 */
export function trainerModelConfig(c: ModelConfig): FullModelConfig {
  const full = fullModelConfig(c);
  if (!Number.isInteger(full.mlpRatio)) throw new Error(`trainer: model.mlpRatio must be a positive integer, got ${JSON.stringify(full.mlpRatio)}`);
  return full;
}

/** Fills every default of TrainOptions (see trainer/api.ts for each). */
export function resolveRun(o: TrainOptions, data?: Pick<ShardSet, 'vocabSize' | 'attention'>): ResolvedRun {
  const model = resolveModel(o.model, data);
  const batchSize = posInt('batchSize', o.batchSize ?? 8);
  const gradAccum = posInt('gradAccum', o.gradAccum ?? 1);
  const perStep = batchSize * gradAccum * model.contextLength;
  let steps: number;
  if (o.steps !== undefined) steps = posInt('steps', o.steps);
  else if (o.tokens !== undefined) steps = Math.max(1, Math.ceil(o.tokens / perStep));
  else throw new Error('trainer: give steps or tokens');
  const evalEvery = posInt('evalEvery', o.evalEvery ?? 100);
  const opt = fullOptimizer(o.optimizer, { lr: 1e-3, weightDecay: 0.1 }, 'trainer');
  const backend = o.backend ?? 'tfjs';
  if (backend !== 'tfjs' && backend !== 'torch') throw new Error(`trainer: backend must be 'tfjs' or 'torch', got ${JSON.stringify(backend)}`);
  const attention = o.attention ?? data?.attention ?? 'causal';
  if (attention !== 'document' && attention !== 'causal') throw new Error(`trainer: attention must be 'document' or 'causal', got ${JSON.stringify(attention)}`);
  return {
    model,
    optimizer: opt,
    schedule: fullSchedule(o.schedule, steps),
    backend,
    steps,
    batchSize,
    gradAccum,
    evalEvery,
    evalBatches: posInt('evalBatches', o.evalBatches ?? 8),
    checkpointEvery: posInt('checkpointEvery', o.checkpointEvery ?? evalEvery),
    logEvery: posInt('logEvery', o.logEvery ?? 1),
    seed: o.seed ?? 1337,
    valTokens: o.valTokens ?? null,
    attention,
    tfjs: fullTfjs(o.tfjs),
    torch: { ...o.torch },
  };
}
