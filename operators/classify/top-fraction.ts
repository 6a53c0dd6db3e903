/**
 * The exact score threshold that keeps the top fraction of a corpus, in bounded memory.
 *
 * DCLM keeps the top ~10% of pages by classifier probability; a run over billions of documents
 * cannot sort their scores in memory, and a quantile sketch answers within an error (DDSketch's
 * is relative to the value: 1% of a threshold like DCLM's 0.018 moves the kept share by a
 * corpus-dependent amount). This selection is exact instead: a few sequential passes over the
 * scores, each keeping a 65,536-bin histogram of the remaining candidates, narrow the value range
 * that holds the k-th largest score until it holds at most `maxCandidates` scores, which are then
 * sorted. Uniform-ish scores need 3 passes (range, histogram, collect); heavy ties end early
 * (all candidates equal). Memory: the histogram plus at most `maxCandidates` doubles.
 */

/** The result of {@link topFractionThreshold}. */
export interface TopFraction {
  /** Keep a doc when its score is ≥ this (the k-th largest score); null for an empty corpus. */
  threshold: number | null;
  /** The fraction asked for. */
  fraction: number;
  /** Scores seen (non-finite scores are not counted and never kept). */
  docs: number;
  /** k = ceil(fraction × docs): the rank of the threshold from the top. */
  rank: number;
  /** Docs with score ≥ threshold: k, or more when scores tie at the threshold. */
  kept: number;
  /** Passes over the scores the selection took. */
  passes: number;
}

/** Options of {@link topFractionThreshold}. */
export interface TopFractionOptions {
  /** Histogram bins per pass (default 65,536). */
  bins?: number;
  /** Candidates collected and sorted in the last pass (default 1,000,000: 8 MB). */
  maxCandidates?: number;
}

type Pred = (x: number) => boolean;

/**
 * The threshold keeping the top `fraction` of the scores `scores()` streams; `scores` must
 * stream the same values on every call (e.g. re-read a file). Exact, see the module comment.
 */
export async function topFractionThreshold(scores: () => AsyncIterable<Float64Array>, fraction: number, opts: TopFractionOptions = {}): Promise<TopFraction> {
  if (!(fraction > 0 && fraction <= 1)) throw new Error(`keepTopFraction must be in (0, 1], got ${fraction}`);
  const B = opts.bins ?? 65_536;
  const maxCandidates = opts.maxCandidates ?? 1_000_000;
  let passes = 0;
  const scan = async (visit: (x: number) => void): Promise<void> => {
    passes++;
    for await (const chunk of scores()) for (let i = 0; i < chunk.length; i++) if (Number.isFinite(chunk[i]!)) visit(chunk[i]!);
  };
  let n = 0;
  let lo = Infinity;
  let hi = -Infinity;
  await scan((x) => {
    n++;
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  });
  const k = Math.ceil(fraction * n - 1e-9);
  if (n === 0) return { threshold: null, fraction, docs: 0, rank: 0, kept: 0, passes };
  // Invariant: the candidates (values where `inSet` holds) lie in [lo, hi]; `above` values are
  // greater than every candidate; the k-th largest is a candidate.
  let inSet: Pred = () => true;
  let above = 0;
  let candidates = n;
  let threshold: number | null = null;
  while (threshold === null) {
    if (lo === hi) {
      threshold = lo;
      break;
    }
    if (candidates <= maxCandidates) {
      const vals = new Float64Array(candidates);
      let m = 0;
      const pred = inSet;
      await scan((x) => {
        if (pred(x)) vals[m++] = x;
      });
      if (m !== candidates) throw new Error(`topFractionThreshold: the scores changed between passes (${m} candidates, expected ${candidates})`);
      vals.sort();
      threshold = vals[m - (k - above)]!;
      break;
    }
    const width = hi - lo;
    const l0 = lo;
    const binOf = (x: number): number => Math.min(B - 1, Math.max(0, Math.floor(((x - l0) / width) * B)));
    const counts = new Float64Array(B);
    const mins = new Float64Array(B).fill(Infinity);
    const maxs = new Float64Array(B).fill(-Infinity);
    const pred = inSet;
    await scan((x) => {
      if (!pred(x)) return;
      const b = binOf(x);
      counts[b]!++;
      if (x < mins[b]!) mins[b] = x;
      if (x > maxs[b]!) maxs[b] = x;
    });
    let j = B - 1;
    let over = above;
    while (j > 0 && over + counts[j]! < k) over += counts[j--]!;
    above = over;
    candidates = counts[j]!;
    lo = mins[j]!;
    hi = maxs[j]!;
    const bin = j;
    inSet = (x) => pred(x) && binOf(x) === bin;
  }
  let kept = 0;
  const t = threshold;
  await scan((x) => {
    if (x >= t) kept++;
  });
  return { threshold, fraction, docs: n, rank: k, kept, passes };
}
