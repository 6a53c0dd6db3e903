/**
 * The in-process training loop of the tfjs backend: deterministic batches from the shard loader,
 * gradient accumulation, AdamW with clipping and the warmup + cosine schedule, validation every
 * `evalEvery` steps, an atomic resumable checkpoint every `checkpointEvery` steps, and the final
 * model checkpoint. A run killed at any point and started again continues from its last
 * checkpoint with the same losses, bit for bit (the wasm kernels are deterministic, the data
 * position and optimizer state are restored exactly).
 */
import type { NamedTensorMap, Scalar } from '@tensorflow/tfjs';
import type { Storage } from '../../engine/storage/index.ts';
import type { ShardSet } from '../api.ts';
import { readModelCheckpoint, runFingerprint, saveTrainState, writeModelCheckpoint } from '../checkpoint.ts';
import { BatchIterator, splitStreams, type Batch, type TokenStream } from '../data/loader.ts';
import { MetricsLog, Throughput } from '../metrics.ts';
import { flopsPerToken, paramCounts } from '../../formats/model.ts';
import { AdamW } from '../optim/adamw.ts';
import { learningRate } from '../optim/schedule.ts';
import { trainerModelConfig, type ResolvedRun } from '../options.ts';
import { initTfjs, measureMatmulPeak } from './backend.ts';
import { TfjsGPT, initialValues, type AttentionLayout } from './model.ts';
import { Rng } from './rng.ts';
import { accumulateGrads, paramArrays, resumeTrainState, trainStateTensors } from './state.ts';

/** What a backend reports back to `runTraining`. */
export interface BackendResult {
  steps: number;
  tokens: number;
  finalLoss: number;
  valLoss: number | null;
  flopsPerToken: number;
  peakFlops: number;
  tokensPerSecond: number;
  resumedFromStep: number;
  seconds: number;
}

export interface BackendArgs {
  run: ResolvedRun;
  data: ShardSet;
  /** Checkpoint directory of the initial weights (fine-tuning); absent: random initialisation. */
  init?: string;
  /** A validation record at step 0, before any update. */
  evalAtStart?: boolean;
  /** Where the final model checkpoint goes. */
  outDir: string;
  stateDir: string;
  tmpDir: string;
  store: Storage;
  metrics: MetricsLog;
  log(message: string): void;
  signal?: AbortSignal;
}

/**
 * What must match for a checkpoint to be resumed (everything that shapes the loss curve). The
 * defaults of options added later (causal attention, random init) stay out, so the states of
 * runs started before them still resume.
 */
export function fingerprintParts(run: ResolvedRun, data: ShardSet, init?: string, evalAtStart?: boolean) {
  return {
    ...(run.attention !== 'causal' ? { attention: run.attention } : {}),
    ...(init ? { init } : {}),
    ...(evalAtStart ? { evalAtStart } : {}),
    backend: run.backend,
    model: { ...run.model },
    optimizer: { ...run.optimizer },
    schedule: { ...run.schedule },
    steps: run.steps,
    batchSize: run.batchSize,
    gradAccum: run.gradAccum,
    seed: run.seed,
    valTokens: run.valTokens,
    train: data.train,
    val: data.val ?? null,
    ...(run.backend === 'tfjs' ? { tfjsBackend: run.tfjs.backend } : {}),
  };
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

function maskSum(mask: Float32Array): number {
  let n = 0;
  for (const m of mask) n += m;
  return n;
}

/** The loss options of a batch: its mask over `denom` trained targets, its document layout. */
function lossOptions(b: Batch, denom: number): { mask?: Float32Array; denom?: number; layout?: AttentionLayout } {
  return {
    ...(b.mask ? { mask: b.mask, denom: Math.max(denom, 1) } : {}),
    ...(b.segments && b.positions ? { layout: { segments: b.segments, positions: b.positions } } : {}),
  };
}

/** The weights of checkpoint `dir`, checked against the run's model config. */
async function initialWeights(dir: string, run: ResolvedRun, store: Storage): Promise<Map<string, Float32Array>> {
  const ck = await readModelCheckpoint(dir, store);
  const want = JSON.stringify(run.model);
  const have = JSON.stringify(trainerModelConfig(ck.meta.model));
  if (want !== have) throw new Error(`trainer: init checkpoint ${dir} has model ${have}, this run ${want}`);
  return new Map([...ck.tensors].map(([k, v]) => [k, v.data]));
}

/** Trains with tfjs (see the module comment). */
export async function trainTfjs(a: BackendArgs): Promise<BackendResult> {
  const { run, store, metrics } = a;
  const tf = await initTfjs(run.tfjs);
  const B = run.batchSize;
  const T = run.model.contextLength;
  const streams = await splitStreams(a.data.train, a.data.val, run.valTokens ?? undefined, B * T + 1, store, run.attention);
  const maxId = run.model.vocabSize;
  const fp = runFingerprint(fingerprintParts(run, a.data, a.init, a.evalAtStart));
  const rng = new Rng(run.seed);
  const model = new TfjsGPT(tf, run.model, a.init ? await initialWeights(a.init, run, store) : initialValues(run.model, rng));
  const opt = new AdamW(tf, model.params, run.optimizer);
  const loader = new BatchIterator(streams.train, B, T, undefined, run.attention);
  let step = 0;
  let tokens = 0;
  try {
    const state = await resumeTrainState(tf, model.params, opt, metrics, a.stateDir, fp, store);
    if (state) {
      step = state.step;
      tokens = state.tokens;
      loader.pos = state.loader.pos;
      loader.epoch = state.loader.epoch;
      rng.state = state.rng;
      a.log(`resumed from step ${step} (${tokens} tokens)`);
    }
    const resumed = step;
    const startTokens = tokens;
    const peak = measureMatmulPeak(tf);
    const fpt = flopsPerToken(run.model).total;
    const nVal = Math.min(run.evalBatches, Math.floor((streams.val.length - 1) / (B * T)));
    a.log(`tfjs ${tf.getBackend()}: ${paramCounts(run.model).total} parameters, ${fpt.toExponential(3)} FLOPs/token, matmul peak ${(peak / 1e9).toFixed(2)} GFLOP/s, ${streams.train.length} train / ${streams.val.length} val tokens`);

    const check = (ids: Int32Array) => {
      for (let i = 0; i < ids.length; i++) if (ids[i]! >= maxId) throw new Error(`trainer: token id ${ids[i]} in the shards is outside the vocabulary (${maxId})`);
    };
    // Validation loss: the mean over trained targets of the same nVal batches every time.
    const evaluate = async (stream: TokenStream): Promise<number> => {
      const it = new BatchIterator(stream, B, T, undefined, run.attention);
      let sum = 0;
      let count = 0;
      for (let i = 0; i < nVal; i++) {
        const b = await it.next();
        check(b.x);
        check(b.y);
        const n = b.mask ? maskSum(b.mask) : B * T;
        if (n === 0) continue;
        sum += tf.tidy(() => model.loss(b.x, b.y, B, T, lossOptions(b, n)).dataSync()[0]!) * n;
        count += n;
      }
      return count ? sum / count : Number.NaN;
    };
    const checkpoint = async () => {
      const tensors = trainStateTensors(model.params, opt);
      await saveTrainState(a.stateDir, { fingerprint: fp, step, tokens, loader: loader.position, rng: rng.state, adamStep: opt.t }, tensors, metrics.jsonl(step), store);
    };

    const vars = [...model.params.values()];
    const canonical = new Map([...model.params].map(([name, v]) => [v.name, name]));
    const thr = new Throughput(tokens, resumed + Math.min(3, Math.max(1, Math.floor((run.steps - resumed) / 5))));
    let lastLoss = Number.NaN;
    let valLoss: number | null = metrics.val.at(-1)?.valLoss ?? null;
    if (a.evalAtStart && step === 0 && nVal > 0) {
      valLoss = await evaluate(streams.val);
      metrics.add({ kind: 'val', step: 0, valLoss, tokens: 0, elapsedSeconds: 0 });
      thr.pause();
    }
    while (step < run.steps) {
      if (a.signal?.aborted) throw new Error('trainer: aborted');
      const lr = learningRate(step, run.optimizer.lr, run.schedule, run.steps);
      let acc: NamedTensorMap | null = null;
      let lossSum = 0;
      // All micro-batches first: the loss is the mean over the trained targets of the whole step
      // (see maskedCrossEntropy), so each micro-batch's sum is divided by the step's total.
      const micro: Batch[] = [];
      for (let k = 0; k < run.gradAccum; k++) micro.push(await loader.next());
      const denom = micro.reduce((n, b) => n + (b.mask ? maskSum(b.mask) : B * T), 0);
      for (const b of micro) {
        check(b.x);
        check(b.y);
        // Unmasked: each micro-batch's mean over its B·T targets, weighted 1/gradAccum.
        const f = () => (b.mask ? model.loss(b.x, b.y, B, T, lossOptions(b, denom)) : tf.div(model.loss(b.x, b.y, B, T, lossOptions(b, denom)), run.gradAccum)) as Scalar;
        const { value, grads } = tf.variableGrads(f, vars);
        lossSum += value.dataSync()[0]!;
        value.dispose();
        acc = accumulateGrads(tf, acc, grads, canonical);
      }
      const gradNorm = opt.step(acc!, lr);
      for (const g of Object.values(acc!)) g.dispose();
      step++;
      tokens += B * T * run.gradAccum;
      lastLoss = denom > 0 ? lossSum : Number.NaN;
      if (denom === 0) a.log(`step ${step}: no trained target in the batch (every mask byte 0); the update is weight decay only`);
      if (denom > 0 && !Number.isFinite(lastLoss)) throw new Error(`trainer: loss became ${lastLoss} at step ${step} (lr ${lr}); lower optimizer.lr`);
      if (step % run.logEvery === 0 || step === run.steps) {
        const tps = thr.mark(step, tokens);
        metrics.add({ kind: 'train', step, loss: lastLoss, lr, gradNorm, tokens, tokensPerSecond: tps, flopsPerToken: fpt, flopsPerSecond: tps * fpt, mfu: (tps * fpt) / peak, elapsedSeconds: thr.elapsedSeconds });
      }
      if (nVal > 0 && (step % run.evalEvery === 0 || step === run.steps)) {
        valLoss = await evaluate(streams.val);
        metrics.add({ kind: 'val', step, valLoss, tokens, elapsedSeconds: thr.elapsedSeconds });
        thr.pause();
      }
      if (step % run.checkpointEvery === 0 || step === run.steps) {
        await checkpoint();
        thr.pause();
      }
      await yieldToEventLoop();
    }
    const seconds = thr.elapsedSeconds;
    const values = paramArrays(model.params);
    await writeModelCheckpoint(
      a.outDir,
      {
        format: 'sluice.gpt/1',
        model: run.model,
        backend: 'tfjs',
        step,
        tokens,
        finalLoss: Number.isFinite(lastLoss) ? lastLoss : (metrics.train.at(-1)?.loss ?? null),
        valLoss,
        eotToken: a.data.eotToken ?? null,
        tokenizer: a.data.tokenizer ?? null,
        params: { ...paramCounts(run.model) },
      },
      values,
      store,
    );
    return {
      steps: step,
      tokens,
      finalLoss: Number.isFinite(lastLoss) ? lastLoss : (metrics.train.at(-1)?.loss ?? Number.NaN),
      valLoss,
      flopsPerToken: fpt,
      peakFlops: peak,
      tokensPerSecond: thr.mean(tokens, startTokens),
      resumedFromStep: resumed,
      seconds,
    };
  } finally {
    opt.dispose();
    model.dispose();
  }
}
