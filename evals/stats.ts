/**
 * Small statistics the eval metrics share: a seeded PRNG (few-shot sampling, bootstrap), the
 * standard error of a mean as lm-evaluation-harness computes it, and a seeded bootstrap for
 * metrics that are not means (corpus-weighted perplexities).
 */

/** mulberry32: a fast seeded 32-bit PRNG returning floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The few-shot examples of item `id` (its `index` in the benchmark): `k` of `candidates` (the pool
 * without the item), drawn by a partial Fisher–Yates over their indices with `rng(seed + index)`,
 * so an item's shots do not depend on which other items are evaluated. Fewer than `k` candidates
 * is an error.
 */
export function sampleShots<T>(candidates: T[], k: number, seed: number, index: number, id: string): T[] {
  if (candidates.length < k) throw new Error(`few-shot: ${k} examples requested but the pool has ${candidates.length} besides ${id}`);
  const r = rng(seed + index);
  const idx = candidates.map((_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(r() * (idx.length - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, k).map((i) => candidates[i]!);
}

/** Mean of a list (NaN when empty). */
export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length ? s / xs.length : NaN;
}

/**
 * Standard error of the mean with the sample standard deviation (n − 1), as
 * lm-evaluation-harness's `mean_stderr`; for 0/1 scores this is the binomial standard error
 * `sqrt(p(1−p)/(n−1))`. NaN below two samples.
 */
export function meanStderr(xs: ArrayLike<number>): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const m = mean(xs);
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (xs[i]! - m) ** 2;
  return Math.sqrt(ss / (n - 1)) / Math.sqrt(n);
}

/**
 * Bootstrap standard error of `stat` over `n` resampled indices (seeded, `iters` resamples,
 * default 1000): the sample standard deviation of the resampled statistics.
 */
export function bootstrapStderr(n: number, stat: (idx: Int32Array) => number, iters = 1000, seed = 1234): number {
  if (n < 2) return NaN;
  const r = rng(seed);
  const idx = new Int32Array(n);
  const vals: number[] = [];
  for (let k = 0; k < iters; k++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(r() * n);
    vals.push(stat(idx));
  }
  const m = mean(vals);
  let ss = 0;
  for (const v of vals) ss += (v - m) ** 2;
  return Math.sqrt(ss / (vals.length - 1));
}

/** A metric value with its standard error. */
export interface Estimate {
  value: number;
  stderr: number;
}
