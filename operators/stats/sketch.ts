/**
 * A mergeable quantile sketch with a relative-error guarantee: DDSketch (Masson, Rim and Lee,
 * "DDSketch: A Fast and Fully-Mergeable Quantile Sketch with Relative-Error Guarantees", VLDB
 * 2019), with unbounded log-spaced buckets.
 *
 * A positive value x falls in bucket `ceil(log_γ x)` with `γ = (1 + α) / (1 − α)`; a quantile
 * answers the bucket's midpoint `2γ^i / (γ + 1)`, which is within relative error α of *some*
 * value of the true rank: every returned quantile q̂ satisfies |q̂ − x_q| ≤ α·|x_q| for the exact
 * order statistic x_q. Negative values use a mirrored store, zeros (|x| < 1e-9) a counter.
 *
 * Why this sketch and not KLL or t-digest: merging adds bucket counts, so it is exact,
 * associative and commutative: the merged sketch of any split of the data equals the sketch of
 * the whole, bit for bit, whatever the task count or merge order (KLL's compactions and
 * t-digest's centroid merges depend on order). Size: one bucket per factor γ of range; with the
 * default α = 1% about 115 buckets per decade, e.g. 690 buckets for lengths 1 B – 1 MB.
 * Measured error: test/operators/stats/sketch.test.ts.
 */

/** Default relative accuracy α: 1%. */
export const DEFAULT_ALPHA = 0.01;
const ZERO = 1e-9;

/** Serialised sketch (JSON, in stats partials). Buckets are sparse `[index, count]` pairs. */
export interface SketchJson {
  alpha: number;
  count: number;
  zeros: number;
  min: number;
  max: number;
  sum: number;
  pos: Array<[number, number]>;
  neg: Array<[number, number]>;
}

/** DDSketch: add values, merge sketches, ask quantiles (see the module comment for the error). */
export class QuantileSketch {
  readonly alpha: number;
  private readonly gamma: number;
  private readonly logGamma: number;
  private pos = new Map<number, number>();
  private neg = new Map<number, number>();
  zeros = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;
  sum = 0;

  /** `alpha`: relative accuracy in (0, 1) (default 0.01). */
  constructor(alpha = DEFAULT_ALPHA) {
    if (!(alpha > 0 && alpha < 1)) throw new Error(`QuantileSketch: alpha must be in (0, 1), got ${alpha}`);
    this.alpha = alpha;
    this.gamma = (1 + alpha) / (1 - alpha);
    this.logGamma = Math.log(this.gamma);
  }

  /** Adds a finite value (non-finite values are ignored and not counted). */
  add(x: number, n = 1): void {
    if (!Number.isFinite(x)) return;
    this.count += n;
    this.sum += x * n;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    if (Math.abs(x) < ZERO) this.zeros += n;
    else {
      const store = x > 0 ? this.pos : this.neg;
      const i = Math.ceil(Math.log(Math.abs(x)) / this.logGamma);
      store.set(i, (store.get(i) ?? 0) + n);
    }
  }

  /** Adds another sketch's counts into this one (same alpha required). */
  merge(o: QuantileSketch): void {
    if (o.alpha !== this.alpha) throw new Error(`QuantileSketch.merge: alpha ${o.alpha} differs from ${this.alpha}`);
    for (const [i, c] of o.pos) this.pos.set(i, (this.pos.get(i) ?? 0) + c);
    for (const [i, c] of o.neg) this.neg.set(i, (this.neg.get(i) ?? 0) + c);
    this.zeros += o.zeros;
    this.count += o.count;
    this.sum += o.sum;
    this.min = Math.min(this.min, o.min);
    this.max = Math.max(this.max, o.max);
  }

  private value(i: number): number {
    return (2 * Math.pow(this.gamma, i)) / (this.gamma + 1);
  }

  /** The q-quantile (0 ≤ q ≤ 1), within relative error alpha; NaN when empty. Clamped to [min, max]. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    if (q <= 0) return this.min;
    if (q >= 1) return this.max;
    const rank = q * (this.count - 1);
    let seen = 0;
    const clamp = (v: number) => Math.min(this.max, Math.max(this.min, v));
    // Negatives from most negative (largest index) up.
    const negKeys = [...this.neg.keys()].sort((a, b) => b - a);
    for (const i of negKeys) {
      seen += this.neg.get(i)!;
      if (seen > rank) return clamp(-this.value(i));
    }
    seen += this.zeros;
    if (seen > rank) return clamp(0);
    const posKeys = [...this.pos.keys()].sort((a, b) => a - b);
    for (const i of posKeys) {
      seen += this.pos.get(i)!;
      if (seen > rank) return clamp(this.value(i));
    }
    return this.max;
  }

  /** The mean of the added values; NaN when empty. */
  mean(): number {
    return this.count ? this.sum / this.count : NaN;
  }

  /** Counts per bucket as `[low, high, count]` ranges, ascending (for histograms). */
  buckets(): Array<[number, number, number]> {
    const out: Array<[number, number, number]> = [];
    for (const i of [...this.neg.keys()].sort((a, b) => b - a)) out.push([-Math.pow(this.gamma, i), -Math.pow(this.gamma, i - 1), this.neg.get(i)!]);
    if (this.zeros) out.push([0, 0, this.zeros]);
    for (const i of [...this.pos.keys()].sort((a, b) => a - b)) out.push([Math.pow(this.gamma, i - 1), Math.pow(this.gamma, i), this.pos.get(i)!]);
    return out;
  }

  /** JSON form (sparse buckets, sorted so equal sketches serialise equally). */
  toJSON(): SketchJson {
    const sorted = (m: Map<number, number>) => [...m.entries()].sort((a, b) => a[0] - b[0]);
    return { alpha: this.alpha, count: this.count, zeros: this.zeros, min: this.min, max: this.max, sum: this.sum, pos: sorted(this.pos), neg: sorted(this.neg) };
  }

  /** Rebuilds a sketch from its JSON form. */
  static fromJSON(j: SketchJson): QuantileSketch {
    const s = new QuantileSketch(j.alpha);
    s.count = j.count;
    s.zeros = j.zeros;
    s.min = j.min ?? Infinity;
    s.max = j.max ?? -Infinity;
    s.sum = j.sum;
    s.pos = new Map(j.pos);
    s.neg = new Map(j.neg);
    return s;
  }
}
