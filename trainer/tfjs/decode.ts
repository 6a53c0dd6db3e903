/**
 * Incremental decoding of the tfjs GPT with a key/value cache (batch 1). The uncached path is the
 * training forward (`TfjsGPT.logits`) over the whole window; the cached path here runs only the
 * new tokens, attending over the cached keys and values of the earlier positions. Both run the
 * forward ops of trainer/tfjs/ops.ts in the same order on the same parameters, so greedy decoding
 * gives the same tokens (tested in test/trainer/generate.test.ts).
 */
import type { Tensor, Tensor2D, Tensor3D } from '@tensorflow/tfjs';
import type { DecodeBackend, DecodeModel, PromptTokenScore } from '../generate/lm.ts';
import { logSumExp, topLogprobs } from '../generate/sampling.ts';
import type { Tf } from './backend.ts';
import type { TfjsGPT } from './model.ts';

const GELU_C = Math.sqrt(2 / Math.PI);

/** The tfjs model as a {@link DecodeModel}; `close()` disposes the model. */
export function tfjsDecodeModel(model: TfjsGPT): DecodeModel {
  const c = model.config;
  const rope = c.positions === 'rotary' ? rotaryTables(model.tf, c.contextLength, c.dModel / c.heads) : null;
  // The tied head transposed once, not every step (a V×d copy: 38M floats a token for GPT-2).
  const head = c.tiedHead ? model.tf.keep(model.tf.transpose(model.params.get('wte')!)) : null;
  return {
    backend: 'tfjs',
    vocabSize: c.vocabSize,
    contextLength: c.contextLength,
    session: () => new TfjsSession(model, rope, head),
    async scorePrompt(tokens: number[], topN: number): Promise<PromptTokenScore[]> {
      const T = tokens.length;
      if (T < 2) return [];
      if (T > c.contextLength) throw new Error(`generate: ${T} tokens exceed the context length ${c.contextLength}`);
      for (const t of tokens) if (!Number.isInteger(t) || t < 0 || t >= c.vocabSize) throw new Error(`generate: token ${t} outside the vocabulary (${c.vocabSize})`);
      const rows = Int32Array.from({ length: T - 1 }, (_, i) => i);
      const logits = model.tf.tidy(() => model.logits(Int32Array.from(tokens), 1, T, rows));
      const data = (await logits.data()) as Float32Array;
      logits.dispose();
      const V = c.vocabSize;
      return rows.reduce<PromptTokenScore[]>((out, j) => {
        const row = data.subarray(j * V, (j + 1) * V);
        const lse = logSumExp(row);
        out.push({ logprob: row[tokens[j + 1]!]! - lse, top: topLogprobs(row, topN, lse) });
        return out;
      }, []);
    },
    async close() {
      rope?.cos.dispose();
      rope?.sin.dispose();
      head?.dispose();
      model.dispose();
    },
  };
}

class TfjsSession implements DecodeBackend {
  readonly vocabSize: number;
  readonly contextLength: number;
  /** Per layer: keys and values `[H, t, hd]` of the cached positions. */
  private k: Tensor3D[] = [];
  private v: Tensor3D[] = [];
  private pos = 0;

  constructor(
    private readonly m: TfjsGPT,
    private readonly rope: { cos: Tensor2D; sin: Tensor2D } | null,
    private readonly headT: Tensor | null,
  ) {
    this.vocabSize = m.config.vocabSize;
    this.contextLength = m.config.contextLength;
  }

  async forward(tokens: number[], opts: { cache: boolean; reset: boolean }): Promise<Float32Array> {
    const tf = this.m.tf;
    if (tokens.length === 0) throw new Error('generate: forward of no tokens');
    for (const t of tokens) if (!Number.isInteger(t) || t < 0 || t >= this.vocabSize) throw new Error(`generate: token ${t} outside the vocabulary (${this.vocabSize})`);
    if (!opts.cache) {
      const T = tokens.length;
      const row = tf.tidy(() => tf.slice(this.m.logits(Int32Array.from(tokens), 1, T), [T - 1, 0], [1, this.vocabSize]));
      const out = (await row.data()) as Float32Array;
      row.dispose();
      return out;
    }
    if (opts.reset) this.dropCache();
    if (this.pos + tokens.length > this.contextLength) throw new Error(`generate: cache of ${this.pos} + ${tokens.length} tokens exceeds the context length ${this.contextLength}`);
    const result = tf.tidy(() => this.step(tokens));
    const [logits, ...kv] = result;
    const L = this.m.config.layers;
    const pos = this.pos + tokens.length;
    this.dropCache();
    this.k = kv.slice(0, L) as Tensor3D[];
    this.v = kv.slice(L) as Tensor3D[];
    this.pos = pos;
    const out = (await logits!.data()) as Float32Array;
    logits!.dispose();
    return out;
  }

  /** Logits `[1, V]` of the last new token, then every layer's keys, then its values (new caches). */
  private step(tokens: number[]): Tensor[] {
    const tf = this.m.tf;
    const c = this.m.config;
    const n = tokens.length;
    const p0 = this.pos;
    const d = c.dModel;
    const H = c.heads;
    const hd = d / H;
    const P = (name: string) => this.m.params.get(name)!;
    // The forward ops of trainer/tfjs/ops.ts in the same order, without their gradient wrappers
    // (tf.customGrad cost a third of a decoding step, measured on a 4-layer d128 GPT).
    const ln = (x: Tensor2D, prefix: string): Tensor2D => {
      const { mean, variance } = tf.moments(x, -1, true);
      const y = tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, c.layerNormEps))), P(prefix + '.weight'));
      return (c.bias ? tf.add(y, P(prefix + '.bias')) : y) as Tensor2D;
    };
    const lin = (x: Tensor2D, prefix: string): Tensor2D =>
      (c.bias ? tf.fused.matMul({ a: x, b: P(prefix + '.weight') as Tensor2D, bias: P(prefix + '.bias') }) : tf.matMul(x, P(prefix + '.weight') as Tensor2D)) as Tensor2D;
    const gelu = (a: Tensor): Tensor => {
      const inner = tf.mul(tf.add(a, tf.mul(tf.mul(tf.mul(a, a), a), 0.044715)), 2 * GELU_C);
      return tf.mul(tf.mul(a, 0.5), tf.add(tf.sub(tf.mul(tf.sigmoid(inner), 2), 1), 1));
    };
    let x = tf.gather(P('wte') as Tensor2D, tf.tensor1d(tokens, 'int32')) as Tensor2D;
    if (c.positions === 'learned') x = tf.add(x, tf.slice(P('wpe') as Tensor2D, [p0, 0], [n, d]));
    const total = p0 + n;
    // Query i (position p0 + i) sees keys 0 … p0 + i.
    let mask: Tensor2D | null = null;
    if (n > 1) {
      const m = new Float32Array(n * total);
      for (let i = 0; i < n; i++) for (let j = p0 + i + 1; j < total; j++) m[i * total + j] = -1e9;
      mask = tf.tensor2d(m, [n, total]);
    }
    const scale = 1 / Math.sqrt(hd);
    const heads = (t: Tensor): Tensor3D => tf.transpose(tf.reshape(t, [n, H, hd]), [1, 0, 2]);
    const newK: Tensor3D[] = [];
    const newV: Tensor3D[] = [];
    for (let i = 0; i < c.layers; i++) {
      const p = `h.${i}.`;
      const qkv = lin(ln(x, p + 'ln_1'), p + 'attn.c_attn');
      const [q0, k0, v0] = tf.split(qkv, 3, 1);
      let q = heads(q0!);
      let k = heads(k0!);
      if (this.rope) {
        const cos = tf.slice(this.rope.cos, [p0, 0], [n, hd]);
        const sin = tf.slice(this.rope.sin, [p0, 0], [n, hd]);
        q = applyRotary(tf, q, cos, sin);
        k = applyRotary(tf, k, cos, sin);
      }
      let v = heads(v0!);
      if (p0 > 0) {
        k = tf.concat([this.k[i]!, k], 1);
        v = tf.concat([this.v[i]!, v], 1);
      }
      newK.push(k);
      newV.push(v);
      let att = tf.matMul(tf.mul(q, scale), tf.transpose(k, [0, 2, 1])) as Tensor3D;
      if (mask) att = tf.add(att, mask);
      const y = tf.matMul(tf.softmax(att), v) as Tensor3D;
      const merged = tf.reshape(tf.transpose(y, [1, 0, 2]), [n, d]) as Tensor2D;
      x = tf.add(x, lin(merged, p + 'attn.c_proj'));
      const h = gelu(lin(ln(x, p + 'ln_2'), p + 'mlp.c_fc')) as Tensor2D;
      x = tf.add(x, lin(h, p + 'mlp.c_proj'));
    }
    const last = ln(tf.slice(x, [n - 1, 0], [1, d]), 'ln_f');
    const head = this.headT ?? P('lm_head.weight');
    return [tf.matMul(last, head as Tensor2D), ...newK, ...newV];
  }

  private dropCache(): void {
    for (const t of [...this.k, ...this.v]) t.dispose();
    this.k = [];
    this.v = [];
    this.pos = 0;
  }

  async close(): Promise<void> {
    this.dropCache();
  }
}

/** cos and sin of every position `[contextLength, hd]`, rotate-half layout (trainer/tfjs/model.ts). */
function rotaryTables(tf: Tf, T: number, hd: number): { cos: Tensor2D; sin: Tensor2D } {
  const half = hd / 2;
  const cos = new Float32Array(T * hd);
  const sin = new Float32Array(T * hd);
  for (let t = 0; t < T; t++)
    for (let j = 0; j < half; j++) {
      const a = t / 10000 ** ((2 * j) / hd);
      cos[t * hd + j] = cos[t * hd + j + half] = Math.cos(a);
      sin[t * hd + j] = sin[t * hd + j + half] = Math.sin(a);
    }
  return { cos: tf.tensor2d(cos, [T, hd]), sin: tf.tensor2d(sin, [T, hd]) };
}

/** x·cos + rotate_half(x)·sin, rotate_half([x1, x2]) = [−x2, x1]. */
function applyRotary(tf: Tf, x: Tensor3D, cos: Tensor2D, sin: Tensor2D): Tensor3D {
  const half = x.shape[2] / 2;
  const [x1, x2] = tf.split(x, [half, half], 2);
  const rot = tf.concat([tf.neg(x2!), x1!], 2);
  return tf.add(tf.mul(x, cos), tf.mul(rot, sin)) as Tensor3D;
}
