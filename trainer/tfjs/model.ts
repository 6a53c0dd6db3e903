/**
 * The GPT in tfjs: token (+ learned position) embedding, pre-LayerNorm blocks of causal
 * multi-head self-attention (learned or rotary positions) and a GELU MLP, a final LayerNorm and
 * a tied or separate output head. Parameters are `tf.Variable`s under the canonical GPT-2 names,
 * matrices `[in, out]` (trainer/torch/gpt.py uses the same names and layout), so checkpoints
 * move between backends.
 */
import type * as tfNs from '@tensorflow/tfjs';
import type { Tensor, Tensor1D, Tensor2D, Tensor3D, Variable } from '@tensorflow/tfjs';
import type { FullModelConfig } from '../../formats/model.ts';
import { bmm, crossEntropy, embed, gelu, layerNorm, linearBias, maskedCrossEntropy, matmul, matmulConst } from './ops.ts';
import { Rng } from './rng.ts';

type Tf = typeof tfNs;

/** Name and shape of every parameter, in a fixed order (the checkpoint order). */
export function parameterShapes(c: FullModelConfig): Array<[string, number[]]> {
  const d = c.dModel;
  const out: Array<[string, number[]]> = [['wte', [c.vocabSize, d]]];
  if (c.positions === 'learned') out.push(['wpe', [c.contextLength, d]]);
  for (let i = 0; i < c.layers; i++) {
    const p = `h.${i}.`;
    out.push([p + 'ln_1.weight', [d]]);
    if (c.bias) out.push([p + 'ln_1.bias', [d]]);
    out.push([p + 'attn.c_attn.weight', [d, 3 * d]]);
    if (c.bias) out.push([p + 'attn.c_attn.bias', [3 * d]]);
    out.push([p + 'attn.c_proj.weight', [d, d]]);
    if (c.bias) out.push([p + 'attn.c_proj.bias', [d]]);
    out.push([p + 'ln_2.weight', [d]]);
    if (c.bias) out.push([p + 'ln_2.bias', [d]]);
    out.push([p + 'mlp.c_fc.weight', [d, c.mlpRatio * d]]);
    if (c.bias) out.push([p + 'mlp.c_fc.bias', [c.mlpRatio * d]]);
    out.push([p + 'mlp.c_proj.weight', [c.mlpRatio * d, d]]);
    if (c.bias) out.push([p + 'mlp.c_proj.bias', [d]]);
  }
  out.push(['ln_f.weight', [d]]);
  if (c.bias) out.push(['ln_f.bias', [d]]);
  if (!c.tiedHead) out.push(['lm_head.weight', [d, c.vocabSize]]);
  return out;
}

/**
 * GPT-2 initial values: N(0, 0.02) for matrices and embeddings, residual projections
 * (`c_proj`) N(0, 0.02/√(2L)), biases 0, LayerNorm gains 1. Deterministic in `rng`.
 */
export function initialValues(c: FullModelConfig, rng: Rng): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  const projStd = 0.02 / Math.sqrt(2 * c.layers);
  for (const [name, shape] of parameterShapes(c)) {
    const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
    if (name.endsWith('.bias')) {
      // zeros
    } else if (name.includes('ln_')) a.fill(1);
    else {
      const std = name.endsWith('c_proj.weight') ? projStd : 0.02;
      for (let i = 0; i < a.length; i++) a[i] = rng.normal() * std;
    }
    out.set(name, a);
  }
  return out;
}

/** The model: variables plus the forward pass. Call `dispose()` to free its tensors. */
let instances = 0;

export class TfjsGPT {
  /** Canonical name → variable (variable names carry an instance prefix: tfjs names are global). */
  readonly params = new Map<string, Variable>();
  private readonly consts = new Map<string, Tensor>();

  constructor(
    readonly tf: Tf,
    readonly config: FullModelConfig,
    values: Map<string, Float32Array>,
  ) {
    const prefix = `gpt${++instances}/`;
    for (const [name, shape] of parameterShapes(config)) {
      const v = values.get(name);
      if (!v) throw new Error(`trainer: no value for parameter ${name}`);
      if (v.length !== shape.reduce((x, y) => x * y, 1)) throw new Error(`trainer: parameter ${name} has ${v.length} values, shape [${shape}] needs ${shape.reduce((x, y) => x * y, 1)}`);
      this.params.set(name, tf.tidy(() => tf.variable(tf.tensor(v, shape, 'float32'), true, prefix + name)));
    }
  }

  private p(name: string): Tensor {
    return this.params.get(name)!;
  }

  /** Cached constants per sequence length: causal mask, rotary tables. */
  private constant(key: string, make: () => Tensor): Tensor {
    let t = this.consts.get(key);
    if (!t) {
      t = this.tf.keep(make());
      this.consts.set(key, t);
    }
    return t;
  }

  private layerNorm(x: Tensor2D, prefix: string): Tensor2D {
    const b = this.config.bias ? (this.p(prefix + '.bias') as Tensor1D) : null;
    return layerNorm(this.tf, x, this.p(prefix + '.weight') as Tensor1D, b, this.config.layerNormEps);
  }

  private linear(x: Tensor2D, prefix: string): Tensor2D {
    const w = this.p(prefix + '.weight') as Tensor2D;
    return this.config.bias ? linearBias(this.tf, x, w, this.p(prefix + '.bias') as Tensor1D) : matmul(this.tf, x, w);
  }

  private rotary(x: Tensor3D, T: number, positions?: Tensor1D): Tensor3D {
    const tf = this.tf;
    const hd = this.config.dModel / this.config.heads;
    const half = hd / 2;
    let cos: Tensor;
    let sin: Tensor;
    if (positions) {
      // Per-token positions (document attention): rows of the full tables, [B, 1, T, hd] against [B, H, T, hd].
      const B = positions.shape[0] / T;
      const C = this.config.contextLength;
      cos = tf.reshape(tf.gather(this.constant(`cos${C}`, () => rotaryTable(tf, C, hd, Math.cos)), positions), [B, 1, T, hd]);
      sin = tf.reshape(tf.gather(this.constant(`sin${C}`, () => rotaryTable(tf, C, hd, Math.sin)), positions), [B, 1, T, hd]);
    } else {
      cos = this.constant(`cos${T}`, () => rotaryTable(tf, T, hd, Math.cos));
      sin = this.constant(`sin${T}`, () => rotaryTable(tf, T, hd, Math.sin));
    }
    // rotate_half(x) = [-x2, x1] as a constant signed permutation: a plain 2-D matmul, fast on wasm
    const r = this.constant('rot', () => {
      const m = new Float32Array(hd * hd);
      for (let j = 0; j < half; j++) {
        m[(j + half) * hd + j] = -1; // out[j] = -x[j+half]
        m[j * hd + j + half] = 1; // out[j+half] = x[j]
      }
      return tf.tensor2d(m, [hd, hd]);
    }) as Tensor2D;
    const rT = this.constant('rotT', () => tf.transpose(r)) as Tensor2D;
    const [n] = x.shape;
    const rot = matmulConst(tf, x.reshape([n * T, hd]) as Tensor2D, r, rT).reshape([n, T, hd]);
    if (positions) {
      const B = positions.shape[0] / T;
      const x4 = tf.reshape(x, [B, n / B, T, hd]);
      const r4 = tf.reshape(rot, [B, n / B, T, hd]);
      return tf.reshape(tf.add(tf.mul(x4, cos), tf.mul(r4, sin)), [n, T, hd]) as Tensor3D;
    }
    return tf.add(tf.mul(x, cos), tf.mul(rot, sin)) as Tensor3D;
  }

  /**
   * Logits `[B·T, V]` for token ids `[B, T]` (row-major), T ≤ contextLength. With `layout`
   * (document attention, see trainer/data/loader.ts `Batch`): a token attends only to earlier
   * tokens of its own segment, through an additive bias of 0 / −1e9 built from the segment ids
   * (`[B, 1, T, T]`, added to every head's scores; exp(−1e9) is exactly 0 in float32), and its
   * position is `layout.positions` instead of its index in the row. With `rows` (indices into
   * the B·T positions), only those rows `[rows.length, V]`: the vocabulary projection is a third
   * of a small model's forward FLOPs, and an eval needs the continuation's positions only.
   */
  logits(ids: Int32Array, B: number, T: number, layout?: AttentionLayout, rows?: Int32Array): Tensor2D {
    const tf = this.tf;
    const c = this.config;
    if (T > c.contextLength) throw new Error(`trainer: sequence of ${T} tokens exceeds the context length ${c.contextLength}`);
    if (ids.length !== B * T) throw new Error(`trainer: ${ids.length} ids for a ${B}×${T} batch`);
    const d = c.dModel;
    const H = c.heads;
    const hd = d / H;
    const idT = tf.tensor1d(ids, 'int32');
    let x = embed(tf, this.p('wte') as Tensor2D, idT);
    if (layout && (layout.segments.length !== B * T || layout.positions.length !== B * T)) throw new Error(`trainer: attention layout of ${layout.segments.length} segments / ${layout.positions.length} positions for a ${B}×${T} batch`);
    const posT = layout ? (tf.tensor1d(layout.positions, 'int32') as Tensor1D) : undefined;
    if (c.positions === 'learned') {
      const wpe = this.p('wpe') as Tensor2D;
      if (posT) x = tf.add(x, embed(tf, wpe, posT));
      else {
        const pos = T === c.contextLength ? wpe : tf.slice(wpe, [0, 0], [T, d]);
        x = tf.reshape(tf.add(tf.reshape(x, [B, T, d]), pos), [B * T, d]);
      }
    }
    const mask = layout
      ? documentBias(tf, layout.segments, B, T)
      : this.constant(`mask${T}`, () => {
          const m = new Float32Array(T * T);
          for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) m[i * T + j] = -1e9;
          return tf.tensor2d(m, [T, T]);
        });
    const scale = 1 / Math.sqrt(hd);
    for (let i = 0; i < c.layers; i++) {
      const p = `h.${i}.`;
      const qkv = this.linear(this.layerNorm(x, p + 'ln_1'), p + 'attn.c_attn');
      // Heads: [B,T,H,hd] -> [B·H,T,hd]. Measured (CPU time per step, tiny GPT): this beats both
      // one 5-D transpose of the fused qkv (wasm's 5-D transpose is a slow generic path) and a
      // per-head column split with B-batched attention (+12%).
      const toHeads = (t: Tensor): Tensor3D => tf.reshape(tf.transpose(tf.reshape(t, [B, T, H, hd]), [0, 2, 1, 3]), [B * H, T, hd]);
      const [q0, k0, v0] = tf.split(qkv, 3, 1);
      let q = toHeads(q0!);
      let k = toHeads(k0!);
      if (c.positions === 'rotary') {
        q = this.rotary(q, T, posT);
        k = this.rotary(k, T, posT);
      }
      const scores = bmm(tf, tf.mul(q, scale), tf.transpose(k, [0, 2, 1]));
      const att = layout ? tf.reshape(tf.softmax(tf.add(tf.reshape(scores, [B, H, T, T]), mask)), [B * H, T, T]) : tf.softmax(tf.add(scores, mask));
      const y = bmm(tf, att as Tensor3D, toHeads(v0!));
      const merged = tf.reshape(tf.transpose(tf.reshape(y, [B, H, T, hd]), [0, 2, 1, 3]), [B * T, d]) as Tensor2D;
      x = tf.add(x, this.linear(merged, p + 'attn.c_proj'));
      const h = gelu(tf, this.linear(this.layerNorm(x, p + 'ln_2'), p + 'mlp.c_fc')) as Tensor2D;
      x = tf.add(x, this.linear(h, p + 'mlp.c_proj'));
    }
    if (rows) x = tf.gather(x, tf.tensor1d(rows, 'int32'));
    x = this.layerNorm(x, 'ln_f');
    const head = c.tiedHead ? tf.transpose(this.p('wte')) : this.p('lm_head.weight');
    return matmul(tf, x, head as Tensor2D);
  }

  /**
   * Next-token cross-entropy over a `[B, T]` batch (a scalar tensor): the mean over all targets,
   * or with `opts.mask` the masked sum over `opts.denom` (default: the mask's sum), see
   * `maskedCrossEntropy`. `opts.layout` gives document attention.
   */
  loss(x: Int32Array, y: Int32Array, B: number, T: number, opts: { mask?: Float32Array; denom?: number; layout?: AttentionLayout } = {}): Tensor {
    const tf = this.tf;
    const targets = tf.tensor1d(y, 'int32') as Tensor1D;
    const logits = this.logits(x, B, T, opts.layout);
    if (!opts.mask) return crossEntropy(tf, logits, targets);
    let denom = opts.denom;
    if (denom === undefined) {
      denom = 0;
      for (const m of opts.mask) denom += m;
    }
    return maskedCrossEntropy(tf, logits, targets, tf.tensor1d(opts.mask, 'float32') as Tensor1D, Math.max(denom, 1));
  }

  /** Current parameter values, copied out (name → Float32Array), in checkpoint order. */
  values(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const [name, v] of this.params) out.set(name, v.dataSync() as Float32Array);
    return out;
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    for (const t of this.consts.values()) t.dispose();
    this.params.clear();
    this.consts.clear();
  }
}

/** Document attention for a `[B, T]` batch: which earlier tokens each token may attend to. */
export interface AttentionLayout {
  /** `[B·T]` segment ids: attention stays within a segment (and is causal). */
  segments: Int32Array;
  /** `[B·T]` position of each token (restarting at each segment start). */
  positions: Int32Array;
}

/** Additive attention bias `[B, 1, T, T]`: 0 where key j ≤ query i in the same segment, −1e9 elsewhere. */
export function documentBias(tf: Tf, segments: Int32Array, B: number, T: number): Tensor {
  const m = new Float32Array(B * T * T);
  for (let b = 0; b < B; b++) {
    const o = b * T;
    for (let i = 0; i < T; i++) {
      const row = (o + i) * T;
      const si = segments[o + i];
      for (let j = 0; j < T; j++) m[row + j] = j <= i && segments[o + j] === si ? 0 : -1e9;
    }
  }
  return tf.tensor4d(m, [B, 1, T, T]);
}

function rotaryTable(tf: Tf, T: number, hd: number, f: (x: number) => number): Tensor2D {
  const half = hd / 2;
  const m = new Float32Array(T * hd);
  for (let t = 0; t < T; t++)
    for (let j = 0; j < half; j++) {
      const a = t / 10000 ** ((2 * j) / hd);
      m[t * hd + j] = f(a);
      m[t * hd + j + half] = f(a);
    }
  return tf.tensor2d(m, [T, hd]);
}
