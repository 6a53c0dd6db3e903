/**
 * The DPO loop of the tfjs backend, and its reference pass. The policy starts from a `sluice.gpt/1`
 * checkpoint; each step runs its micro-batches (chosen and rejected sequences as one batch of
 * 2P rows), takes the preference loss of trainer/dpo/loss.ts through the op of tfjs-ops.ts,
 * clips and applies AdamW. The held-out pairs are evaluated before the first step (step 0: the
 * starting model) and every `evalEvery` steps. A resumable checkpoint (weights, AdamW moments,
 * the micro-batch cursor, the metrics so far) is written every `checkpointEvery` steps; a run
 * killed at any point and started again continues with the same losses, bit for bit.
 */
import type { NamedTensorMap, Scalar } from '@tensorflow/tfjs';
import type { Storage } from '../../engine/storage/index.ts';
import { runFingerprint, saveTrainState, writeModelCheckpoint, type CheckpointMeta, type NamedArray } from '../checkpoint.ts';
import type { FullModelConfig } from '../../formats/model.ts';
import { paramCounts } from '../../formats/model.ts';
import { AdamW } from '../optim/adamw.ts';
import { learningRate } from '../optim/schedule.ts';
import { trainerModelConfig } from '../options.ts';
import { initTfjs, type Tf } from '../tfjs/backend.ts';
import { TfjsGPT } from '../tfjs/model.ts';
import { accumulateGrads, paramArrays, resumeTrainState, trainStateTensors } from '../tfjs/state.ts';
import { Throughput } from '../metrics.ts';
import type { TfjsOptions } from '../api.ts';
import { epochOrder, pairBatch, type PairSet } from './data.ts';
import { pairLosses, RewardTotals, type DpoLossConfig, type PairLosses } from './loss.ts';
import type { DpoMetricsLog, RewardFigures } from './metrics.ts';
import type { DpoRun } from './options.ts';
import { preferenceLoss, sequenceLogprobs } from './tfjs-ops.ts';

/** A model checkpoint as read by `readModelCheckpoint`. */
export interface LoadedCheckpoint {
  dir: string;
  meta: CheckpointMeta;
  tensors: Map<string, NamedArray>;
}

/** What a DPO backend needs. */
export interface DpoBackendArgs {
  run: DpoRun;
  /** The pairs with their reference log-probabilities. */
  set: PairSet;
  /** The policy's starting checkpoint. */
  from: LoadedCheckpoint;
  /** Where the final checkpoint goes. */
  outDir: string;
  stateDir: string;
  tmpDir: string;
  store: Storage;
  metrics: DpoMetricsLog;
  log(message: string): void;
  signal?: AbortSignal;
}

/** What a DPO backend reports. */
export interface DpoBackendResult {
  steps: number;
  pairs: number;
  tokens: number;
  before: RewardFigures | null;
  after: RewardFigures | null;
  finalLoss: number;
  tokensPerSecond: number;
  resumedFromStep: number;
  seconds: number;
}

/** What must match for a DPO checkpoint to be resumed. */
export function dpoFingerprintParts(run: DpoRun, set: PairSet, fromDir: string) {
  return {
    kind: 'dpo',
    backend: run.backend,
    loss: { ...run.loss },
    optimizer: { ...run.optimizer },
    schedule: { ...run.schedule },
    steps: run.steps,
    gradAccum: run.gradAccum,
    seed: run.seed,
    from: fromDir,
    pairs: set.header.pairs.length,
    train: set.header.train.length,
    ref: set.header.ref ? set.header.ref.model : null,
    ...(run.backend === 'tfjs' ? { tfjsBackend: run.tfjs.backend } : {}),
  };
}

/** A policy model of a checkpoint, in tfjs. */
export async function tfjsModel(ck: LoadedCheckpoint, opts: TfjsOptions): Promise<{ tf: Tf; model: TfjsGPT; config: FullModelConfig }> {
  const tf = await initTfjs(opts);
  const config = trainerModelConfig(ck.meta.model);
  const values = new Map<string, Float32Array>();
  for (const [name, t] of ck.tensors) values.set(name, t.data);
  return { tf, model: new TfjsGPT(tf, config, values), config };
}

function checkVocab(set: PairSet, vocab: number): void {
  for (let i = 0; i < set.tokens.length; i++) {
    const t = set.tokens[i]!;
    if (t < 0 || t >= vocab) throw new Error(`train.dpo: token id ${t} of pair ${set.header.pairs.findIndex((p) => (i >= p.chosen[0] && i < p.chosen[0] + p.chosen[1]) || (i >= p.rejected[0] && i < p.rejected[0] + p.rejected[1]))} is outside the model's vocabulary (${vocab})`);
  }
}

/** Summed response log-probabilities of every pair of `batches` under `model` (forward only). */
export function tfjsPairLogps(tf: Tf, model: TfjsGPT, set: PairSet, batches: readonly number[][]): { chosen: Float64Array; rejected: Float64Array } {
  checkVocab(set, model.config.vocabSize);
  const n = set.header.pairs.length;
  const chosen = new Float64Array(n).fill(Number.NaN);
  const rejected = new Float64Array(n).fill(Number.NaN);
  for (const batch of batches) {
    const b = pairBatch(set, batch);
    const S = 2 * b.pairs;
    const vals = tf.tidy(() => sequenceLogprobs(tf, model.logits(b.x, S, b.width), b.y, b.weight, S, b.width).dataSync());
    batch.forEach((i, r) => {
      chosen[i] = vals[r]!;
      rejected[i] = vals[b.pairs + r]!;
    });
  }
  return { chosen, rejected };
}

/** Reward figures of `batches` under the current policy (forward only). */
export function tfjsEvaluate(tf: Tf, model: TfjsGPT, set: PairSet, batches: readonly number[][], cfg: DpoLossConfig): RewardFigures | null {
  if (!batches.length) return null;
  const lp = tfjsPairLogps(tf, model, set, batches);
  const totals = new RewardTotals();
  for (const batch of batches) totals.add(batchLosses(set, batch, lp, cfg));
  const { pairs: _pairs, ...figures } = totals.summary();
  return figures;
}

function batchLosses(set: PairSet, batch: readonly number[], lp: { chosen: Float64Array; rejected: Float64Array }, cfg: DpoLossConfig): PairLosses {
  const ref = set.header.ref;
  const pick = (a: ArrayLike<number>) => batch.map((i) => a[i]!);
  return pairLosses(
    {
      policyChosen: pick(lp.chosen),
      policyRejected: pick(lp.rejected),
      refChosen: ref ? pick(ref.chosen) : batch.map(() => Number.NaN),
      refRejected: ref ? pick(ref.rejected) : batch.map(() => Number.NaN),
      lenChosen: batch.map((i) => set.header.pairs[i]!.nChosen),
      lenRejected: batch.map((i) => set.header.pairs[i]!.nRejected),
    },
    cfg,
  );
}

/** Where the loop is in the micro-batches (the state's `loader`): epoch order, position, pairs seen. */
interface DpoCursor {
  pos: number;
  epoch: number;
  pairs?: number;
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

/** Trains with tfjs (see the module comment). */
export async function trainDpoTfjs(a: DpoBackendArgs): Promise<DpoBackendResult> {
  const { run, set, store, metrics } = a;
  if (!set.header.train.length) throw new Error('train.dpo: no training pairs (every pair is held out or was dropped)');
  const { tf, model, config } = await tfjsModel(a.from, run.tfjs);
  checkVocab(set, config.vocabSize);
  const opt = new AdamW(tf, model.params, run.optimizer);
  const fp = runFingerprint(dpoFingerprintParts(run, set, a.from.dir));
  const nb = set.header.train.length;
  let step = 0;
  let pos = 0;
  let epoch = 0;
  let pairs = 0;
  let tokens = 0;
  try {
    const state = await resumeTrainState(tf, model.params, opt, metrics, a.stateDir, fp, store);
    if (state) {
      step = state.step;
      tokens = state.tokens;
      pos = state.loader.pos;
      epoch = state.loader.epoch;
      pairs = (state.loader as DpoCursor).pairs ?? 0;
      a.log(`resumed from step ${step}`);
    }
    const resumed = step;
    const startTokens = tokens;
    const checkpoint = async () => {
      const tensors = trainStateTensors(model.params, opt);
      // The DPO loop draws no random numbers: the RNG state is a constant.
      const cursor: DpoCursor = { pos, epoch, pairs };
      await saveTrainState(a.stateDir, { fingerprint: fp, step, tokens, loader: cursor, rng: { s: 0, spare: null }, adamStep: opt.t }, tensors, metrics.jsonl(step), store);
    };
    const thr = new Throughput(tokens, resumed + Math.min(3, Math.max(1, Math.floor((run.steps - resumed) / 5))));
    const evaluate = () => {
      const f = tfjsEvaluate(tf, model, set, set.header.heldoutBatches, run.loss);
      if (f) metrics.add({ kind: 'dpo-eval', step, ...f, pairs: set.header.heldoutBatches.reduce((s, b) => s + b.length, 0), elapsedSeconds: thr.elapsedSeconds });
      thr.pause();
    };
    if (step === 0) evaluate();
    const vars = [...model.params.values()];
    const canonical = new Map([...model.params].map(([name, v]) => [v.name, name]));
    let order = epochOrder(nb, run.seed, epoch);
    let lastLoss = Number.NaN;
    while (step < run.steps) {
      if (a.signal?.aborted) throw new Error('trainer: aborted');
      const lr = learningRate(step, run.optimizer.lr, run.schedule, run.steps);
      // This step's micro-batches, then the step's pair count (the loss is a mean over its pairs).
      const micro: number[][] = [];
      for (let k = 0; k < run.gradAccum; k++) {
        if (pos >= nb) {
          pos = 0;
          epoch++;
          order = epochOrder(nb, run.seed, epoch);
        }
        micro.push(set.header.train[order[pos]!]!);
        pos++;
      }
      const stepPairs = micro.reduce((s, b) => s + b.length, 0);
      const totals = new RewardTotals();
      let acc: NamedTensorMap | null = null;
      for (const batch of micro) {
        const b = pairBatch(set, batch);
        const S = 2 * b.pairs;
        const sink: { last: PairLosses | null } = { last: null };
        const { value, grads } = tf.variableGrads(() => preferenceLoss(tf, sequenceLogprobs(tf, model.logits(b.x, S, b.width), b.y, b.weight, S, b.width), b, run.loss, 1 / stepPairs, sink) as Scalar, vars);
        value.dispose();
        totals.add(sink.last!);
        tokens += S * b.width;
        acc = accumulateGrads(tf, acc, grads, canonical);
      }
      const gradNorm = opt.step(acc!, lr);
      for (const g of Object.values(acc!)) g.dispose();
      step++;
      pairs += stepPairs;
      const s = totals.summary();
      lastLoss = s.loss;
      if (!Number.isFinite(lastLoss)) throw new Error(`train.dpo: loss became ${lastLoss} at step ${step} (lr ${lr}); lower optimizer.lr`);
      if (step % run.logEvery === 0 || step === run.steps) {
        const tps = thr.mark(step, tokens);
        metrics.add({ kind: 'dpo', step, loss: s.loss, chosenReward: s.chosenReward, rejectedReward: s.rejectedReward, rewardMargin: s.rewardMargin, rewardAccuracy: s.rewardAccuracy, lr, gradNorm, pairs, tokens, tokensPerSecond: tps, elapsedSeconds: thr.elapsedSeconds });
      }
      if (step % run.evalEvery === 0 || step === run.steps) evaluate();
      if (step % run.checkpointEvery === 0 || step === run.steps) {
        await checkpoint();
        thr.pause();
      }
      await yieldToEventLoop();
    }
    const values = paramArrays(model.params);
    const finalLoss = Number.isFinite(lastLoss) ? lastLoss : (metrics.train.at(-1)?.loss ?? Number.NaN);
    await writeModelCheckpoint(
      a.outDir,
      { ...a.from.meta, backend: 'tfjs', step: a.from.meta.step + step, finalLoss, valLoss: null, params: { ...paramCounts(config) } },
      values,
      store,
    );
    const evals = metrics.evals;
    return {
      steps: step,
      pairs,
      tokens,
      before: evals.find((e) => e.step === 0) ?? null,
      after: evals.at(-1) ?? null,
      finalLoss,
      tokensPerSecond: thr.mean(tokens, startTokens),
      resumedFromStep: resumed,
      seconds: thr.elapsedSeconds,
    };
  } finally {
    opt.dispose();
    model.dispose();
  }
}
