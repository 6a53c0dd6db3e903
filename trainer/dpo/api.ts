/**
 * DPO's programmatic API, below the `train.dpo` stage: the reference pass over a pair set
 * (`dpoReference`) and the training run (`trainDpo`), on the tfjs backend in-process or the
 * PyTorch subprocess. `trainDpo` writes the final checkpoint (`sluice.gpt/1`, loadable by the
 * scorer and by further stages), `metrics.jsonl` and `report.html` (loss and reward-margin curves).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storage as defaultStorage, type Storage } from '../../engine/storage/index.ts';
import type { TfjsOptions, TorchOptions, TrainerBackend } from '../api.ts';
import { readModelCheckpoint } from '../checkpoint.ts';
import { paramCounts, type ParamCounts } from '../../formats/model.ts';
import type { PairSet } from './data.ts';
import { DpoMetricsLog, type DpoMetricsRecord, type RewardFigures } from './metrics.ts';
import { resolveDpoRun, type DpoTrainOptions } from './options.ts';
import { renderDpoReport } from './report.ts';
import { tfjsModel, tfjsPairLogps, trainDpoTfjs, type DpoBackendResult, type LoadedCheckpoint } from './tfjs.ts';
import { torchPairLogps, trainDpoTorch } from './torch.ts';

/** Options of the reference pass. */
export interface DpoReferenceRun {
  backend: TrainerBackend;
  tfjs: Required<TfjsOptions>;
  torch: TorchOptions;
  tmpDir: string;
  log?(message: string): void;
}

/**
 * The reference model's summed response log-probabilities of every pair, computed in the pair
 * set's own micro-batches (so that a policy starting from the same weights on the same backend
 * reproduces them bit for bit). Returns the set with `header.ref` filled.
 */
export async function dpoReference(set: PairSet, ref: LoadedCheckpoint, o: DpoReferenceRun): Promise<PairSet> {
  const batches = [...set.header.train, ...set.header.heldoutBatches];
  let lp: { chosen: Float64Array; rejected: Float64Array };
  switch (o.backend) {
    case 'tfjs': {
      const { tf, model } = await tfjsModel(ref, o.tfjs);
      try {
        lp = tfjsPairLogps(tf, model, set, batches);
      } finally {
        model.dispose();
      }
      break;
    }
    case 'torch':
      lp = await torchPairLogps(set, ref, o);
      break;
    default: {
      const never: never = o.backend;
      throw new Error(`train.dpo: unknown backend ${String(never)}`);
    }
  }
  for (let i = 0; i < lp.chosen.length; i++) {
    if (!Number.isFinite(lp.chosen[i]!) || !Number.isFinite(lp.rejected[i]!)) throw new Error(`train.dpo: reference log-probability of pair ${set.header.pairs[i]!.id} is ${lp.chosen[i]} / ${lp.rejected[i]}`);
  }
  return { ...set, header: { ...set.header, ref: { chosen: Array.from(lp.chosen), rejected: Array.from(lp.rejected), backend: o.backend, model: ref.dir } } };
}

/** Options of `trainDpo`. */
export interface TrainDpoOptions extends DpoTrainOptions {
  /** Pairs with reference log-probabilities (`dpoReference`). */
  set: PairSet;
  /** The policy's starting checkpoint directory. */
  from: string;
  /** Where the checkpoint, `metrics.jsonl` and `report.html` go. */
  outDir: string;
  /** Where they are published, when the caller copies them (named in the report). Default `outDir`. */
  publishDir?: string;
  /** The resumable state (default `<outDir>/_state`). */
  stateDir?: string;
  tmpDir?: string;
  storage?: Storage;
  onMetrics?(r: DpoMetricsRecord): void;
  log?(message: string): void;
  signal?: AbortSignal;
}

/** What a DPO run reports. */
export interface DpoResult {
  backend: TrainerBackend;
  loss: string;
  beta: number;
  params: ParamCounts;
  steps: number;
  pairs: number;
  tokens: number;
  finalLoss: number;
  /** Held-out figures of the starting model and of the trained one (null without held-out pairs). */
  before: RewardFigures | null;
  after: RewardFigures | null;
  tokensPerSecond: number;
  resumedFromStep: number;
  seconds: number;
  checkpoint: string;
  metricsPath: string;
  reportPath: string;
}

/** Trains a policy with DPO (see the module comment). */
export async function trainDpo(o: TrainDpoOptions): Promise<DpoResult> {
  const store = o.storage ?? defaultStorage;
  if (!o.set.header.ref) throw new Error('train.dpo: the pair set has no reference log-probabilities (run dpoReference first)');
  const run = resolveDpoRun(o, o.set.header.train.length);
  if (run.batchSize !== o.set.header.batchSize) throw new Error(`train.dpo: batchSize ${run.batchSize} differs from the pair set's micro-batches (${o.set.header.batchSize})`);
  const { meta, tensors } = await readModelCheckpoint(o.from, store);
  const from: LoadedCheckpoint = { dir: o.from, meta, tensors };
  const ownTmp = o.tmpDir ? null : mkdtempSync(join(tmpdir(), 'sluice-dpo-'));
  const tmpDir = o.tmpDir ?? ownTmp!;
  const metrics = new DpoMetricsLog(o.onMetrics);
  const args = { run, set: o.set, from, outDir: o.outDir, stateDir: o.stateDir ?? store.join(o.outDir, '_state'), tmpDir, store, metrics, log: o.log ?? (() => {}), signal: o.signal };
  let r: DpoBackendResult;
  try {
    switch (run.backend) {
      case 'tfjs':
        r = await trainDpoTfjs(args);
        break;
      case 'torch':
        r = await trainDpoTorch(args);
        break;
      default: {
        const never: never = run.backend;
        throw new Error(`train.dpo: unknown backend ${String(never)}`);
      }
    }
  } finally {
    if (ownTmp) rmSync(ownTmp, { recursive: true, force: true });
  }
  const published = o.publishDir ?? o.outDir;
  const result: DpoResult = {
    backend: run.backend,
    loss: run.loss.loss,
    beta: run.loss.beta,
    params: paramCounts(meta.model),
    steps: r.steps,
    pairs: r.pairs,
    tokens: r.tokens,
    finalLoss: r.finalLoss,
    before: r.before && pickFigures(r.before),
    after: r.after && pickFigures(r.after),
    tokensPerSecond: r.tokensPerSecond,
    resumedFromStep: r.resumedFromStep,
    seconds: r.seconds,
    checkpoint: published,
    metricsPath: store.join(published, 'metrics.jsonl'),
    reportPath: store.join(published, 'report.html'),
  };
  await store.write(store.join(o.outDir, 'metrics.jsonl'), metrics.jsonl());
  await store.write(store.join(o.outDir, 'report.html'), renderDpoReport(result, metrics.records));
  return result;
}

function pickFigures(f: RewardFigures): RewardFigures {
  return { loss: f.loss, chosenReward: f.chosenReward, rejectedReward: f.rejectedReward, rewardMargin: f.rewardMargin, rewardAccuracy: f.rewardAccuracy };
}
