/**
 * Options of DPO training (`train.dpo`, `trainDpo`) and their resolved form, every default filled
 * in: the form the tfjs loop consumes directly and the torch subprocess reads as `run.json`.
 */
import type { OptimizerConfig, ScheduleConfig, TfjsOptions, TorchOptions, TrainerBackend } from '../api.ts';
import { fullSchedule } from '../optim/schedule.ts';
import { fullOptimizer, fullTfjs, positiveInt, type ResolvedRun } from '../options.ts';
import { checkLossConfig, type DpoLossConfig, type DpoLossType } from './loss.ts';

/** What shapes the reference pass: the backend and the micro-batches (not β, not the loss). */
export interface DpoReferenceOptions {
  /** Pairs per micro-batch (default 4; each pair is two sequences). */
  batchSize?: number;
  /** Share of the pairs held out for evaluation, split by pair (default 0.2). */
  heldout?: number;
  /** Seed of the split, the micro-batch grouping and the epoch order (default 1337). */
  seed?: number;
  /** Default `tfjs`. */
  backend?: TrainerBackend;
  tfjs?: TfjsOptions;
  torch?: TorchOptions;
}

/** The training options of DPO (besides the data, the models and where outputs go). */
export interface DpoTrainOptions extends DpoReferenceOptions {
  /** `sigmoid` (DPO, default), `ipo` or `simpo` (see trainer/dpo/loss.ts). */
  loss?: DpoLossType;
  /** β (default 0.1). SimPO's paper uses β = 2–2.5 with γ/β ≈ 0.5. */
  beta?: number;
  /** SimPO's target reward margin γ (default 0.5; ignored by `sigmoid` and `ipo`). */
  gamma?: number;
  /** AdamW; defaults as for pretraining except `lr` 1e-5 and `weightDecay` 0 (fine-tuning). */
  optimizer?: OptimizerConfig;
  schedule?: ScheduleConfig;
  /** Optimizer steps. Default: `epochs` over the training pairs. */
  steps?: number;
  /** Passes over the training pairs when `steps` is not given (default 1). */
  epochs?: number;
  /** Micro-batches per optimizer step (default 1). */
  gradAccum?: number;
  /** Evaluate the held-out pairs every this many steps, and before the first and after the last (default 50). */
  evalEvery?: number;
  /** Resumable checkpoint every this many steps (default: `evalEvery`). */
  checkpointEvery?: number;
  /** A metrics line every this many steps (default 1). */
  logEvery?: number;
}

/** A DPO run with nothing left to default. */
export interface DpoRun extends Pick<ResolvedRun, 'optimizer' | 'schedule' | 'backend' | 'steps' | 'batchSize' | 'gradAccum' | 'evalEvery' | 'checkpointEvery' | 'logEvery' | 'seed' | 'tfjs' | 'torch'> {
  loss: DpoLossConfig;
}

const posInt = (name: string, v: unknown) => positiveInt('train.dpo', name, v);

/** The reference pass's options, resolved. */
export function resolveReference(o: DpoReferenceOptions): Required<Pick<DpoReferenceOptions, 'batchSize' | 'heldout' | 'seed' | 'backend'>> & { tfjs: Required<TfjsOptions>; torch: TorchOptions } {
  const heldout = o.heldout ?? 0.2;
  if (typeof heldout !== 'number' || !(heldout >= 0 && heldout < 1)) throw new Error(`train.dpo: heldout must be a number in [0, 1), got ${JSON.stringify(o.heldout)}`);
  const backend = o.backend ?? 'tfjs';
  if (backend !== 'tfjs' && backend !== 'torch') throw new Error(`train.dpo: backend must be 'tfjs' or 'torch', got ${JSON.stringify(backend)}`);
  const seed = o.seed ?? 1337;
  if (!Number.isInteger(seed)) throw new Error(`train.dpo: seed must be an integer, got ${JSON.stringify(seed)}`);
  return { batchSize: posInt('batchSize', o.batchSize ?? 4), heldout, seed, backend, tfjs: fullTfjs(o.tfjs), torch: { ...o.torch } };
}

/** Fills every default; `trainBatches` (micro-batches per epoch) turns `epochs` into steps. */
export function resolveDpoRun(o: DpoTrainOptions, trainBatches: number): DpoRun {
  const ref = resolveReference(o);
  const loss: DpoLossConfig = { loss: o.loss ?? 'sigmoid', beta: o.beta ?? 0.1, gamma: o.gamma ?? 0.5 };
  checkLossConfig(loss);
  const gradAccum = posInt('gradAccum', o.gradAccum ?? 1);
  let steps: number;
  if (o.steps !== undefined) steps = posInt('steps', o.steps);
  else {
    const epochs = o.epochs ?? 1;
    if (typeof epochs !== 'number' || !(epochs > 0)) throw new Error(`train.dpo: epochs must be a positive number, got ${JSON.stringify(o.epochs)}`);
    steps = Math.max(1, Math.ceil((epochs * Math.max(1, trainBatches)) / gradAccum));
  }
  const evalEvery = posInt('evalEvery', o.evalEvery ?? 50);
  const opt = fullOptimizer(o.optimizer, { lr: 1e-5, weightDecay: 0 }, 'train.dpo');
  return {
    loss,
    optimizer: opt,
    schedule: fullSchedule(o.schedule, steps),
    backend: ref.backend,
    steps,
    batchSize: ref.batchSize,
    gradAccum,
    evalEvery,
    checkpointEvery: posInt('checkpointEvery', o.checkpointEvery ?? evalEvery),
    logEvery: posInt('logEvery', o.logEvery ?? 1),
    seed: ref.seed,
    tfjs: ref.tfjs,
    torch: ref.torch,
  };
}
