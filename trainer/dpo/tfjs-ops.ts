/**
 * The tfjs ops of the DPO loop: per-sequence log-probabilities of the response tokens, and the
 * preference loss as an op whose value and gradient come from trainer/dpo/loss.ts (float64 on the
 * host), so both backends share one definition of each loss.
 */
import type * as tfNs from '@tensorflow/tfjs';
import type { Tensor, Tensor1D, Tensor2D } from '@tensorflow/tfjs';
import { pairLosses, type DpoLossConfig, type PairLosses } from './loss.ts';
import type { PairBatch } from './data.ts';

type Tf = typeof tfNs;
type GradFn = (...inputs: never[]) => { value: Tensor; gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor | Tensor[] };

function custom(tf: Tf, f: GradFn): (...inputs: Tensor[]) => Tensor {
  return tf.customGrad(f as Parameters<Tf['customGrad']>[0]) as (...inputs: Tensor[]) => Tensor;
}

/**
 * `out[s] = Σ_t w[s,t] · log softmax(z[s·T + t])[y[s·T + t]]` for logits `z` `[S·T, V]`, targets
 * `y` and weights `w` `[S, T]` (the response mask): each sequence's summed log-probability of its
 * response tokens. Gradient: `w[s,t] · dy[s] · (onehot − softmax)`, written out (one fused
 * expression instead of differentiating log-softmax, one-hot and two reductions).
 */
export function sequenceLogprobs(tf: Tf, logits: Tensor2D, targets: Int32Array, weight: Float32Array, S: number, T: number): Tensor1D {
  const [n, v] = logits.shape;
  if (n !== S * T || targets.length !== n || weight.length !== n) throw new Error(`dpo: ${n} logit rows, ${targets.length} targets and ${weight.length} weights for ${S}×${T}`);
  const y = tf.tensor1d(targets, 'int32');
  const w = tf.tensor2d(weight, [S, T]);
  const f = custom(tf, (z: Tensor, save: (t: Tensor[]) => void) => {
    const logp = tf.logSoftmax(z);
    // oneHot as int32 then cast: wasm's OneHot ignores a float32 dtype and writes int32 bits.
    const onehot = tf.cast(tf.oneHot(y, v), 'float32');
    // Everything the gradient reads goes through save(): tfjs disposes the forward's other tensors.
    save([logp, onehot, w]);
    const picked = tf.reshape(tf.sum(tf.mul(logp, onehot), 1), [S, T]);
    return {
      value: tf.sum(tf.mul(picked, w), 1),
      gradFunc: (dy: Tensor, saved: Tensor[]) => {
        const [slogp, sonehot, sw] = saved as [Tensor, Tensor, Tensor];
        const rowScale = tf.reshape(tf.mul(sw, tf.reshape(dy, [S, 1])), [n, 1]);
        return tf.mul(tf.sub(sonehot, tf.exp(slogp)), rowScale);
      },
    };
  });
  return f(logits) as Tensor1D;
}

/**
 * The preference loss of a micro-batch as a scalar op: `scale · Σ_i loss_i` over its pairs, from
 * the sequence log-probabilities `[2P]` (chosen rows, then rejected). The per-pair values land in
 * `sink.last` (read after the forward pass, for metrics).
 */
export function preferenceLoss(tf: Tf, seqLogps: Tensor1D, b: PairBatch, cfg: DpoLossConfig, scale: number, sink: { last: PairLosses | null }): Tensor {
  const P = b.pairs;
  const f = custom(tf, (s: Tensor) => {
    const vals = s.dataSync();
    const pl = pairLosses(
      { policyChosen: vals.subarray(0, P), policyRejected: vals.subarray(P, 2 * P), refChosen: b.refChosen, refRejected: b.refRejected, lenChosen: b.lenChosen, lenRejected: b.lenRejected },
      cfg,
    );
    sink.last = pl;
    let sum = 0;
    for (const l of pl.loss) sum += l;
    const grad = new Float32Array(2 * P);
    for (let i = 0; i < P; i++) {
      grad[i] = pl.dChosen[i]! * scale;
      grad[P + i] = pl.dRejected[i]! * scale;
    }
    return {
      value: tf.scalar(sum * scale),
      gradFunc: (dy: Tensor) => tf.mul(tf.tensor1d(grad), dy),
    };
  });
  return f(seqLogps);
}
