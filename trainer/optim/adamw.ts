/**
 * AdamW with decoupled weight decay and global-norm gradient clipping over tfjs variables, the
 * update `torch.optim.AdamW` makes (so both backends train alike):
 *   p ← p·(1 − lr·wd)            (matrices and embeddings only)
 *   m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²
 *   p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)
 * Clipping scales every gradient by min(1, clip / (‖g‖ + 1e-6)), as `clip_grad_norm_` does.
 */
import type * as tfNs from '@tensorflow/tfjs';
import type { NamedTensorMap, Tensor, Variable } from '@tensorflow/tfjs';
import type { FullOptimizer } from '../options.ts';

type Tf = typeof tfNs;

/** Optimizer state: step count and the two moments per parameter. */
export interface AdamWState {
  t: number;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

export class AdamW {
  t = 0;
  private readonly m = new Map<string, Variable>();
  private readonly v = new Map<string, Variable>();

  constructor(
    readonly tf: Tf,
    readonly params: Map<string, Variable>,
    readonly config: FullOptimizer,
  ) {
    for (const [name, p] of params) {
      this.m.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false, `${p.name}/adam.m`)));
      this.v.set(name, tf.tidy(() => tf.variable(tf.zerosLike(p), false, `${p.name}/adam.v`)));
    }
  }

  /** Weight decay applies to parameters of rank ≥ 2 (matrices, embeddings), as in nanoGPT. */
  static decays(p: Tensor): boolean {
    return p.rank >= 2;
  }

  /** Global L2 norm of the gradients. */
  gradNorm(grads: NamedTensorMap): number {
    const tf = this.tf;
    return tf.tidy(() => {
      const sq = Object.values(grads).map((g) => tf.sum(tf.square(g)));
      return Math.sqrt(tf.addN(sq).dataSync()[0]!);
    });
  }

  /** Clips (when configured) and applies one update at learning rate `lr`. Returns the pre-clip norm. */
  step(grads: NamedTensorMap, lr: number): number {
    const tf = this.tf;
    const { beta1: b1, beta2: b2, eps, weightDecay: wd, gradClip } = this.config;
    const norm = this.gradNorm(grads);
    const coef = gradClip > 0 ? Math.min(1, gradClip / (norm + 1e-6)) : 1;
    this.t++;
    const bc1 = 1 - b1 ** this.t;
    const bc2 = 1 - b2 ** this.t;
    tf.tidy(() => {
      for (const [name, p] of this.params) {
        const g0 = grads[name];
        if (!g0) throw new Error(`trainer: no gradient for parameter ${name}`);
        const g = coef === 1 ? g0 : tf.mul(g0, coef);
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        const m1 = tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1));
        const v1 = tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2));
        m.assign(m1);
        v.assign(v1);
        const decayed = wd > 0 && AdamW.decays(p) ? tf.mul(p, 1 - lr * wd) : p;
        const denom = tf.add(tf.div(tf.sqrt(v1), Math.sqrt(bc2)), eps);
        p.assign(tf.sub(decayed, tf.mul(tf.div(m1, denom), lr / bc1)));
      }
    });
    return norm;
  }

  /** The state, copied out for a checkpoint. */
  state(): AdamWState {
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    for (const [name, t] of this.m) m.set(name, t.dataSync() as Float32Array);
    for (const [name, t] of this.v) v.set(name, t.dataSync() as Float32Array);
    return { t: this.t, m, v };
  }

  /** Restores a checkpointed state. */
  load(s: AdamWState): void {
    const tf = this.tf;
    for (const [which, into] of [
      [s.m, this.m],
      [s.v, this.v],
    ] as const) {
      for (const [name, variable] of into) {
        const data = which.get(name);
        if (!data || data.length !== variable.size) throw new Error(`trainer: checkpoint optimizer state for ${name} is missing or mis-sized`);
        tf.tidy(() => variable.assign(tf.tensor(data, variable.shape, 'float32')));
      }
    }
    this.t = s.t;
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
