/**
 * What the tfjs training loops (pre-training/SFT in train.ts, DPO in ../dpo/tfjs.ts) share about
 * their weights and optimizer: the tensors of a resumable checkpoint (`param.*`, `adam.m.*`,
 * `adam.v.*`), restoring them, the final weights, and summing micro-batch gradients. One copy,
 * so the two loops write and read the same checkpoint layout.
 */
import type { NamedTensorMap, Variable } from '@tensorflow/tfjs';
import type { Storage } from '../../engine/storage/index.ts';
import { loadTrainState, type NamedArray, type TrainState } from '../checkpoint.ts';
import type { AdamW } from '../optim/adamw.ts';
import type { Tf } from './backend.ts';

/** The model's weights, copied out, by parameter name. */
export function paramArrays(params: Map<string, Variable>): Map<string, NamedArray> {
  const values = new Map<string, NamedArray>();
  for (const [name, v] of params) values.set(name, { shape: v.shape, data: v.dataSync() as Float32Array });
  return values;
}

/** The tensors of a resumable checkpoint: each parameter (`param.NAME`) and its AdamW moments (`adam.m.NAME`, `adam.v.NAME`). */
export function trainStateTensors(params: Map<string, Variable>, opt: AdamW): Map<string, NamedArray> {
  const tensors = new Map<string, NamedArray>();
  const st = opt.state();
  for (const [name, v] of params) {
    tensors.set(`param.${name}`, { shape: v.shape, data: v.dataSync() as Float32Array });
    tensors.set(`adam.m.${name}`, { shape: v.shape, data: st.m.get(name)! });
    tensors.set(`adam.v.${name}`, { shape: v.shape, data: st.v.get(name)! });
  }
  return tensors;
}

/**
 * Loads the tensors `trainStateTensors` wrote back into the parameters and the optimizer
 * (AdamW step `adamStep`). A parameter missing or of another size throws, naming `stateDir`.
 */
export function restoreTrainState(tf: Tf, params: Map<string, Variable>, opt: AdamW, tensors: Map<string, NamedArray>, adamStep: number, stateDir: string): void {
  for (const [name, v] of params) {
    const t = tensors.get(`param.${name}`);
    if (!t || t.data.length !== v.size) throw new Error(`${stateDir}: checkpoint lacks parameter ${name}`);
    tf.tidy(() => v.assign(tf.tensor(t.data, v.shape, 'float32')));
  }
  const m = new Map<string, Float32Array>();
  const vv = new Map<string, Float32Array>();
  for (const name of params.keys()) {
    m.set(name, tensors.get(`adam.m.${name}`)?.data ?? new Float32Array());
    vv.set(name, tensors.get(`adam.v.${name}`)?.data ?? new Float32Array());
  }
  opt.load({ t: adamStep, m, v: vv });
}

/**
 * Resumes from the state in `stateDir` when one of this run (fingerprint `fp`) is there: the
 * weights, the optimizer and the metrics so far are restored, and the state returned for the
 * caller's own position (step, tokens, data cursor). Null when there is none.
 */
export async function resumeTrainState(tf: Tf, params: Map<string, Variable>, opt: AdamW, metrics: { load(text: string, source: string): void }, stateDir: string, fp: string, store: Storage): Promise<TrainState | null> {
  const saved = await loadTrainState(stateDir, fp, store);
  if (!saved) return null;
  const { state, tensors } = saved;
  restoreTrainState(tf, params, opt, tensors, state.adamStep, stateDir);
  metrics.load(saved.metricsJsonl, `${stateDir}/${state.metrics}`);
  return state;
}

/**
 * Sums one micro-batch's gradients into the step's. `grads` is keyed by tfjs variable name (as
 * `variableGrads` returns it) and renamed to parameter names through `canonical`; the tensors
 * summed are disposed. Returns the new accumulator (`grads` itself, renamed, when `acc` is null).
 */
export function accumulateGrads(tf: Tf, acc: NamedTensorMap | null, grads: NamedTensorMap, canonical: Map<string, string>): NamedTensorMap {
  const named: NamedTensorMap = {};
  for (const [vn, g] of Object.entries(grads)) named[canonical.get(vn)!] = g;
  if (!acc) return named;
  const sum: NamedTensorMap = {};
  for (const name of Object.keys(acc)) {
    sum[name] = tf.add(acc[name]!, named[name]!);
    acc[name]!.dispose();
    named[name]!.dispose();
  }
  return sum;
}
