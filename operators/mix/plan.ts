/**
 * The sampling plan of a mixture, computed from per-document counts alone (tokens, bytes or 1
 * per doc): no text is read or materialised, so a plan for 10M tokens over corpora of any size
 * costs about 12 bytes per source document (its count and its copy number). `mix()` (mix.ts) runs it; tests call it directly.
 *
 * Per source, the quota `q` (its share of `target`, or `epochs` × its size) splits into
 * `floor(q / total)` full passes, where every document is repeated whole, plus a remainder drawn
 * as a seeded sample without replacement: documents in a seeded permutation are taken until the
 * running count reaches the remainder, the last one only if that lands nearer to it. So each
 * source's realised count is within one document of its quota (half the last document's size).
 */
import { mulberry32 } from '../../engine/random.ts';

/** One source of a plan: per-document unit counts and either a weight or a number of epochs. */
export interface PlanSource {
  /** Units (tokens, bytes or 1) of each document, in input order. */
  counts: ArrayLike<number>;
  /** Relative weight of the source within `target` (weights are normalised over the weighted sources). */
  weight?: number;
  /** Passes over the whole source (may be fractional: 2.5 = two full passes + half sampled). */
  epochs?: number;
}

/** What a plan gives one source. */
export interface SourcePlan {
  /** Copies of each document (0 = not drawn). */
  copies: Uint32Array;
  /** Requested units (the quota). */
  requested: number;
  /** Units drawn. */
  realised: number;
  /** Documents drawn, counting copies. */
  docs: number;
  /** Units of the whole source. */
  total: number;
  /** Full passes over the source. */
  fullPasses: number;
}

/**
 * Plans a mixture: each weighted source gets `weight / Σweights × (target − Σ epoch amounts)`
 * units; each `epochs` source gets `epochs × total`. Throws on an empty source that is asked
 * for units, a missing target, or a negative weighted remainder.
 */
export function planMixture(sources: PlanSource[], target: number | undefined, seed: number): SourcePlan[] {
  const totals = sources.map((s) => {
    let t = 0;
    for (let i = 0; i < s.counts.length; i++) t += s.counts[i]!;
    return t;
  });
  const fixed = sources.reduce((a, s, i) => a + (s.epochs !== undefined ? s.epochs * totals[i]! : 0), 0);
  const wsum = sources.reduce((a, s) => a + (s.weight ?? 0), 0);
  const weighted = sources.some((s) => s.weight !== undefined);
  if (weighted && target === undefined) throw new Error(`mix: 'target' is required when a source has a weight`);
  const rest = (target ?? fixed) - fixed;
  if (weighted && rest < 0) throw new Error(`mix: the epoch sources alone take ${fixed} units, more than 'target' (${target})`);
  return sources.map((s, i) => {
    const total = totals[i]!;
    const quota = s.epochs !== undefined ? s.epochs * total : wsum > 0 ? ((s.weight ?? 0) / wsum) * rest : 0;
    const n = s.counts.length;
    const copies = new Uint32Array(n);
    if (quota > 0 && total <= 0) throw new Error(`mix: source #${i + 1} is empty (0 units) but is asked for ${quota}`);
    if (quota <= 0) return { copies, requested: quota, realised: 0, docs: 0, total, fullPasses: 0 };
    const fullPasses = Math.floor(quota / total);
    if (fullPasses) copies.fill(fullPasses);
    let realised = fullPasses * total;
    let docs = fullPasses * n;
    const remainder = quota - realised;
    if (remainder > 0) {
      // Seeded Fisher-Yates permutation; the seed mixes in the source index so sources differ.
      const order = new Uint32Array(n);
      for (let k = 0; k < n; k++) order[k] = k;
      const rand = mulberry32((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
      for (let k = n - 1; k > 0; k--) {
        const j = Math.floor(rand() * (k + 1));
        const t = order[k]!;
        order[k] = order[j]!;
        order[j] = t;
      }
      let got = 0;
      for (let k = 0; k < n && got < remainder; k++) {
        const d = order[k]!;
        const c = s.counts[d]!;
        // Take the last document only if it lands nearer the remainder than stopping short.
        if (got + c > remainder && got + c - remainder > remainder - got) break;
        copies[d]! += 1;
        got += c;
        docs++;
      }
      realised += got;
    }
    return { copies, requested: quota, realised, docs, total, fullPasses };
  });
}
