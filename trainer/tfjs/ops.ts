/**
 * Differentiable ops with hand-written gradients for tfjs-backend-wasm, where the stock ones are
 * missing or slow (measured on this machine, one core, 4.22.0):
 * - `gather`'s gradient needs `UnsortedSegmentSum`, which wasm does not register: the embedding
 *   gradient here is one `scatterND` (it sums duplicate indices).
 * - wasm's matmul is fast (XNNPACK) only untransposed: 512×128×384 ran at 7.5 GFLOP/s plain,
 *   1.3 with `transposeA`; the stock matmul gradient uses the transposed forms. The backward
 *   here transposes explicitly, then multiplies untransposed.
 * - cross-entropy fuses log-softmax and the target pick, with gradient softmax − onehot.
 * - GELU (tanh form) computes its derivative directly instead of differentiating 8 ops.
 */
import type * as tfNs from '@tensorflow/tfjs';
import type { Tensor, Tensor1D, Tensor2D, Tensor3D } from '@tensorflow/tfjs';

type Tf = typeof tfNs;
type GradFn = (...inputs: never[]) => { value: Tensor; gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor | Tensor[] };

/** tf.customGrad with the inputs typed as what they are (tfjs types them as Tensor | save-function). */
function custom(tf: Tf, f: GradFn): (...inputs: Tensor[]) => Tensor {
  return tf.customGrad(f as Parameters<Tf['customGrad']>[0]) as (...inputs: Tensor[]) => Tensor;
}

/** Row lookup `table[ids]` whose gradient is a scatterND (summing repeated ids). */
export function embed(tf: Tf, table: Tensor2D, ids: Tensor1D): Tensor2D {
  const idx = ids.reshape([ids.shape[0], 1]) as Tensor2D;
  // Tensors used by a gradient must go through save(): tfjs disposes the forward's other
  // intermediates before backprop.
  const f = custom(tf, (t: Tensor, save: (t: Tensor[]) => void) => {
    save([idx]);
    return {
      value: tf.gather(t, ids),
      gradFunc: (dy: Tensor, saved: Tensor[]) => tf.scatterND(saved[0]!, dy as Tensor, t.shape),
    };
  });
  return f(table) as Tensor2D;
}

/** `x @ w` for 2-D operands, with an untransposed-matmul backward. */
export function matmul(tf: Tf, x: Tensor2D, w: Tensor2D): Tensor2D {
  const f = custom(tf, (a: Tensor, b: Tensor, save: (t: Tensor[]) => void) => {
    save([a, b]);
    return {
      value: tf.matMul(a as Tensor2D, b as Tensor2D),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sa, sb] = saved as [Tensor2D, Tensor2D];
        const g = dy as Tensor2D;
        return [tf.matMul(g, tf.transpose(sb)), tf.matMul(tf.transpose(sa), g)];
      },
    };
  });
  return f(x, w) as Tensor2D;
}

/** `x @ c` for a constant matrix `c` (no gradient for `c`; `cT` is its transpose). */
export function matmulConst(tf: Tf, x: Tensor2D, c: Tensor2D, cT: Tensor2D): Tensor2D {
  const f = custom(tf, (a: Tensor) => ({
    value: tf.matMul(a as Tensor2D, c),
    gradFunc: (dy: Tensor) => tf.matMul(dy as Tensor2D, cT),
  }));
  return f(x) as Tensor2D;
}

/** Batched `a @ b` (`[n, i, k] @ [n, k, j]`) with an untransposed-matmul backward. */
export function bmm(tf: Tf, a: Tensor3D, b: Tensor3D): Tensor3D {
  const f = custom(tf, (x: Tensor, y: Tensor, save: (t: Tensor[]) => void) => {
    save([x, y]);
    return {
      value: tf.matMul(x as Tensor3D, y as Tensor3D),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, sy] = saved as [Tensor3D, Tensor3D];
        const g = dy as Tensor3D;
        return [tf.matMul(g, tf.transpose(sy, [0, 2, 1])), tf.matMul(tf.transpose(sx, [0, 2, 1]), g)];
      },
    };
  });
  return f(a, b) as Tensor3D;
}

const GELU_C = Math.sqrt(2 / Math.PI);

/** GELU, tanh approximation (GPT-2's), with its derivative written out. */
export function gelu(tf: Tf, x: Tensor): Tensor {
  const f = custom(tf, (a: Tensor, save: (t: Tensor[]) => void) => {
    // x·x·x rather than pow: wasm's Pow is a slow generic path
    // tanh(z) = 2·sigmoid(2z) − 1: wasm's Sigmoid is ~4× faster than its Tanh (measured on a
    // 512×512 tensor: 2.3 vs 10.3 ms; the whole rewrite 3.3 ms).
    const inner = tf.mul(tf.add(a, tf.mul(tf.mul(tf.mul(a, a), a), 0.044715)), 2 * GELU_C);
    const t = tf.sub(tf.mul(tf.sigmoid(inner), 2), 1);
    save([a, t]);
    return {
      value: tf.mul(tf.mul(a, 0.5), tf.add(t, 1)),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sa, st] = saved as [Tensor, Tensor];
        // d/dx = 0.5(1+t) + 0.5·x·(1−t²)·c·(1 + 3·0.044715·x²)
        const sech2 = tf.sub(1, tf.square(st));
        const dInner = tf.mul(tf.add(tf.mul(tf.square(sa), 3 * 0.044715), 1), GELU_C);
        const d = tf.add(tf.mul(tf.add(st, 1), 0.5), tf.mul(tf.mul(tf.mul(sa, 0.5), sech2), dInner));
        return tf.mul(dy as Tensor, d);
      },
    };
  });
  return f(x);
}

/**
 * Mean next-token cross-entropy of `logits` `[n, V]` against `targets` (n ids); gradient
 * (softmax − onehot) / n.
 */
export function crossEntropy(tf: Tf, logits: Tensor2D, targets: Tensor1D): Tensor {
  const [n, v] = logits.shape;
  const f = custom(tf, (z: Tensor, save: (t: Tensor[]) => void) => {
    const logp = tf.logSoftmax(z);
    const onehot = tf.oneHot(targets, v);
    save([logp, onehot]);
    return {
      value: tf.div(tf.neg(tf.sum(tf.mul(logp, onehot))), n),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [slogp, sonehot] = saved as [Tensor, Tensor];
        return tf.mul(tf.sub(tf.exp(slogp), sonehot), tf.div(dy as Tensor, n));
      },
    };
  });
  return f(logits);
}

/**
 * Masked next-token cross-entropy: `Σᵢ maskᵢ · −log p(targetᵢ) / denom` over `logits` `[n, V]`,
 * gradient `maskᵢ · (softmax − onehot) / denom`. `mask` is 1 where the target is trained, 0
 * elsewhere; `denom` is the number of trained tokens of the whole optimizer batch (every
 * micro-batch of the step), so the loss is the mean over trained tokens, not a mean of
 * per-sequence or per-micro-batch means: each trained token weighs the same whatever the length
 * of its sequence or how many of its neighbours are prompt or padding (a mean of per-sequence
 * means would weigh a short answer's tokens more than a long one's). With an all-ones mask and
 * `denom = n` it equals {@link crossEntropy}. Used by `train` and `train.sft`; `train.dpo`
 * reuses it for its SFT term.
 */
export function maskedCrossEntropy(tf: Tf, logits: Tensor2D, targets: Tensor1D, mask: Tensor1D, denom: number): Tensor {
  const [n, v] = logits.shape;
  if (mask.shape[0] !== n) throw new Error(`maskedCrossEntropy: mask has ${mask.shape[0]} entries for ${n} targets`);
  if (!(denom > 0)) throw new Error(`maskedCrossEntropy: denom must be > 0, got ${denom}`);
  const w = tf.reshape(mask, [n, 1]);
  const f = custom(tf, (z: Tensor, save: (t: Tensor[]) => void) => {
    const logp = tf.logSoftmax(z);
    const onehot = tf.oneHot(targets, v);
    save([logp, onehot, w]);
    return {
      value: tf.div(tf.neg(tf.sum(tf.mul(tf.mul(logp, onehot), w))), denom),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [slogp, sonehot, sw] = saved as [Tensor, Tensor, Tensor];
        return tf.mul(tf.mul(tf.sub(tf.exp(slogp), sonehot), sw), tf.div(dy as Tensor, denom));
      },
    };
  });
  return f(logits);
}

/** Per-row log-probabilities `logp[i, targets[i]]` (no gradient; for scoring). */
export function targetLogprobs(tf: Tf, logits: Tensor2D, targets: Tensor1D): Tensor1D {
  return tf.tidy(() => tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(targets, logits.shape[1])), 1) as Tensor1D);
}

/**
 * `x @ w + b` (2-D), forward through the fused matmul+bias kernel. Backward: untransposed
 * matmuls, and the bias gradient as `ones[1, n] @ dy` — a column sum, which wasm's Sum does
 * through a transpose (measured: Sum was 14% of a tiny-GPT step, most of it bias gradients).
 */
export function linearBias(tf: Tf, x: Tensor2D, w: Tensor2D, b: Tensor1D): Tensor2D {
  const f = custom(tf, (a: Tensor, wt: Tensor, bias: Tensor, save: (t: Tensor[]) => void) => {
    save([a, wt]);
    return {
      value: tf.fused.matMul({ a: a as Tensor2D, b: wt as Tensor2D, bias }),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sa, sw] = saved as [Tensor2D, Tensor2D];
        const g = dy as Tensor2D;
        const ones = tf.ones([1, g.shape[0]]) as Tensor2D;
        return [tf.matMul(g, tf.transpose(sw)), tf.matMul(tf.transpose(sa), g), tf.reshape(tf.matMul(ones, g), [g.shape[1]])];
      },
    };
  });
  return f(x, w, b) as Tensor2D;
}

/**
 * LayerNorm over the last axis of `x` `[n, d]` with gain `g` and optional bias `b`, with its
 * gradient written out: every reduction is over the contiguous last axis or a ones-matmul.
 *   x̂ = (x − μ)·r,  r = 1/√(σ² + ε),  y = x̂·g + b
 *   dx = r·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)),  dx̂ = dy·g,  dg = Σₙ dy·x̂,  db = Σₙ dy
 */
export function layerNorm(tf: Tf, x: Tensor2D, g: Tensor1D, b: Tensor1D | null, eps: number): Tensor2D {
  const [n, d] = x.shape;
  const body = (a: Tensor, gain: Tensor, bias: Tensor | null, save: (t: Tensor[]) => void) => {
    const { mean, variance } = tf.moments(a, -1, true);
    const r = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(tf.sub(a, mean), r);
    save([xhat, r, gain]);
    const y = tf.mul(xhat, gain);
    return {
      value: bias ? tf.add(y, bias) : y,
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [sx, sr, sg] = saved as [Tensor2D, Tensor2D, Tensor1D];
        const ones = tf.ones([1, n]) as Tensor2D;
        const dxhat = tf.mul(dy, sg);
        const m1 = tf.mean(dxhat, -1, true);
        const m2 = tf.mean(tf.mul(dxhat, sx), -1, true);
        const dx = tf.mul(tf.sub(tf.sub(dxhat, m1), tf.mul(sx, m2)), sr);
        const dg = tf.reshape(tf.matMul(ones, tf.mul(dy, sx) as Tensor2D), [d]);
        return bias ? [dx, dg, tf.reshape(tf.matMul(ones, dy as Tensor2D), [d])] : [dx, dg];
      },
    };
  };
  if (b) return custom(tf, (a: Tensor, gain: Tensor, bias: Tensor, save: (t: Tensor[]) => void) => body(a, gain, bias, save))(x, g, b) as Tensor2D;
  return custom(tf, (a: Tensor, gain: Tensor, save: (t: Tensor[]) => void) => body(a, gain, null, save))(x, g) as Tensor2D;
}
