/**
 * MinHash signatures in exact 32-bit integer arithmetic (`Math.imul`, `>>> 0`): no intermediate
 * value ever exceeds 2^32, unlike the npm `minhash` package whose `(a * h + b) % p` passes 2^53
 * and loses bits. Hash function i is h_i(x) = fmix-free multiply-xorshift permutation
 * `π_i(x) = ((x ^ b_i) · a_i mod 2^32) ^ (… >>> 16)` applied to the already well-mixed shingle hash
 * x (`shingle.ts`); every step is a bijection on 32 bits, so each h_i is a permutation of the
 * shingle-hash universe and P[min h_i(A) = min h_i(B)] = J(A, B) up to 32-bit hash collisions.
 *
 * Speed: the inner loop runs as WebAssembly SIMD (`simd.ts`, 8 hash functions per step) when
 * available, else in JavaScript with the loop interchanged (one pass over the document's
 * shingle hashes per hash function, keeping a_i, b_i and the running minimum in registers).
 * Both give bit-identical signatures (tested).
 */
import { ShingleBuffer, fmix32, shingleHashes } from './shingle.ts';
import { loadSimdKernel, type SimdKernel } from './simd.ts';

/** SplitMix32-style generator for the seeded hash constants (deterministic per seed). */
function* constants(seed: number): Generator<number> {
  let s = (seed >>> 0) ^ 0x6a09e667;
  for (;;) {
    s = (s + 0x9e3779b9) >>> 0;
    yield fmix32(s);
  }
}

/** MinHash + LSH banding parameters. */
export interface MinHashParams {
  /** Words per shingle (default 5). */
  ngram: number;
  /** LSH bands (default 14). */
  bands: number;
  /** Hashes per band (default 8). */
  rows: number;
  /** Seed of the hash functions (default 1); signatures compare only under the same seed. */
  seed: number;
}

export const DEFAULT_PARAMS: MinHashParams = { ngram: 5, bands: 14, rows: 8, seed: 1 };

/** Computes signatures and band keys for one parameter set; reuse one instance per task. */
export class MinHasher {
  readonly k: number;
  private readonly a: Int32Array;
  private readonly b: Int32Array;
  private readonly buf = new ShingleBuffer();
  private readonly kernel: SimdKernel | null;
  private readonly kPadded: number;
  private xsCapacity = 0;
  private mem32!: Uint32Array;

  /** `useSimd: false` forces the JavaScript loop (tests compare the two). */
  constructor(
    readonly params: MinHashParams,
    useSimd = true,
  ) {
    const { bands, rows, ngram } = params;
    for (const [key, v] of Object.entries({ bands, rows, ngram })) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`minhash: ${key} must be a positive integer, got ${v}`);
    }
    this.k = bands * rows;
    this.a = new Int32Array(this.k);
    this.b = new Int32Array(this.k);
    const g = constants(params.seed);
    for (let i = 0; i < this.k; i++) {
      this.a[i] = (g.next().value | 1) | 0; // odd multiplier: a bijection mod 2^32
      this.b[i] = g.next().value | 0;
    }
    this.kPadded = Math.ceil(this.k / 8) * 8;
    this.kernel = useSimd ? loadSimdKernel() : null;
    if (this.kernel) {
      this.ensureCapacity(4096);
      // Layout (u32 words): a[kPadded], b[kPadded], out[kPadded], xs[capacity]; padding lanes are
      // computed and ignored.
      this.mem32.set(this.a, 0);
      this.mem32.set(this.b, this.kPadded);
    }
  }

  /** Whether the WebAssembly SIMD kernel is in use. */
  get simd(): boolean {
    return this.kernel !== null;
  }

  private ensureCapacity(n: number): void {
    const mem = this.kernel!.memory;
    if (n <= this.xsCapacity) return;
    const words = 3 * this.kPadded + n;
    const need = Math.ceil((words * 4) / 65536);
    const have = mem.buffer.byteLength / 65536;
    if (need > have) mem.grow(need - have);
    this.mem32 = new Uint32Array(mem.buffer);
    this.xsCapacity = this.mem32.length - 3 * this.kPadded;
  }

  /**
   * Writes the signature of `text` into `out` (length `k`), returns the number of shingles
   * (0 for a text without words: its signature is all 0xffffffff and it must not be bucketed).
   */
  signature(text: string, out: Uint32Array): number {
    const n = shingleHashes(text, this.params.ngram, this.buf);
    this.signatureOf(this.buf.view(), out);
    return n;
  }

  /** The signature of a set (or multiset) of shingle hashes. */
  signatureOf(xs: Uint32Array, out: Uint32Array): void {
    if (this.kernel) {
      this.ensureCapacity(xs.length);
      const kp = this.kPadded;
      this.mem32.set(xs, 3 * kp);
      this.kernel.run(xs.length, kp, 3 * kp * 4, 0, kp * 4, 2 * kp * 4);
      out.set(this.mem32.subarray(2 * kp, 2 * kp + this.k));
      return;
    }
    const a = this.a;
    const b = this.b;
    const n = xs.length;
    for (let i = 0; i < this.k; i++) {
      const ai = a[i]!;
      const bi = b[i]!;
      // Signed minimum of (v ^ 0x80000000) is the unsigned minimum of v: saves a >>> 0 per step.
      let m = 0x7fffffff;
      for (let j = 0; j < n; j++) {
        let v = Math.imul(xs[j]! ^ bi, ai);
        v = (v ^ (v >>> 16)) ^ 0x80000000;
        if (v < m) m = v;
      }
      out[i] = (m ^ 0x80000000) >>> 0;
    }
  }

  /**
   * The 64-bit LSH key of band `band` of `sig`, as two 32-bit halves written to `out[at]`,
   * `out[at+1]` (two independent mixes of the band's `rows` values).
   */
  bandKey(sig: Uint32Array, band: number, out: Uint32Array, at: number): void {
    const r = this.params.rows;
    let h1 = 0x243f6a88 ^ band;
    let h2 = 0x85a308d3 ^ Math.imul(band, 0x9e3779b9);
    for (let i = band * r, end = i + r; i < end; i++) {
      const v = sig[i]!;
      h1 = Math.imul(h1 ^ v, 0x5bd1e995);
      h1 ^= h1 >>> 15;
      h2 = Math.imul(h2 + v, 0xcc9e2d51);
      h2 = (h2 << 13) | (h2 >>> 19);
    }
    out[at] = fmix32(h1);
    out[at + 1] = fmix32(h2 ^ r);
  }
}

/** Estimated Jaccard: the fraction of equal signature positions. */
export function estimateJaccard(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) throw new Error(`signature lengths differ: ${a.length} vs ${b.length}`);
  let eq = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) eq++;
  return eq / a.length;
}

/** Probability that a pair at Jaccard `s` shares at least one band: 1 − (1 − s^r)^b. */
export function lshProbability(s: number, bands: number, rows: number): number {
  return 1 - Math.pow(1 - Math.pow(s, rows), bands);
}
