/**
 * The contamination matcher, shared by the contamination report (`evals/contamination/scan.ts`)
 * and `filter.decontaminate`: which index grams occur at which positions of a training text, and
 * the character spans they cover. Normalisation: normalize.ts; the index: ngram-index.ts.
 */
import { filterBits, type NgramIndex } from './ngram-index.ts';
import { finishKey1, gramKey2, hashWords, pairKey, prefixSums, rawGram1, UnitBuffer } from './normalize.ts';

/** A match of a benchmark gram in a training text: unit range and gram id. */
export interface UnitMatch {
  /** First unit and unit count. */
  pos: number;
  len: number;
  gram: number;
}

/**
 * Calls `hit(pos, len, gram)` for every index gram at every position of the `n` units in `buf`
 * (prefix sums must be filled). The N-gram check is one bit-filter probe per position (at the
 * largest N; grams of a benchmark with a smaller N go the short-gram way); shorter
 * whole-item grams are checked only where the first two units match a short item's, and only
 * for the lengths such items have.
 */
export function matchUnits(index: NgramIndex, buf: UnitBuffer, n: number, hit: (pos: number, len: number, gram: number) => void): void {
  const N = index.ngram;
  const p1 = buf.p1, p2 = buf.p2, h1 = buf.h1;
  const filter = index.filter, fshift = index.filterShift;
  const lens = index.shortLengths;
  const nShort = lens.length;
  const minLen = nShort ? lens[nShort - 1]! : n + 1;
  const pl = index.pairLengths, pshift = index.pairShift;
  for (let i = 0; i + minLen <= n || i + N <= n; i++) {
    if (i + N <= n) {
      const raw = rawGram1(p1, i, N);
      const bits = filterBits(raw);
      if ((filter[raw >>> fshift]! & bits) === bits) {
        const k1 = finishKey1(raw, N);
        const g = index.lookup(k1, gramKey2(p2, i, N, k1));
        if (g >= 0) hit(i, N, g);
      }
    }
    if (i + minLen > n) continue;
    const mask = pl[pairKey(h1, i) >>> pshift]!;
    if (mask === 0) continue;
    for (let s = 0; s < nShort; s++) {
      const L = lens[s]!;
      if (i + L > n || (mask & (1 << (s < 15 ? s : 15))) === 0) continue;
      const raw = rawGram1(p1, i, L);
      const bits = filterBits(raw);
      if ((filter[raw >>> fshift]! & bits) !== bits) continue;
      const k1 = finishKey1(raw, L);
      const g = index.lookup(k1, gramKey2(p2, i, L, k1));
      if (g >= 0) hit(i, L, g);
    }
  }
}

/** Character spans of `text` matching benchmark n-grams (merged, unexpanded), with the matched item ids. */
export function matchSpans(index: NgramIndex, text: string, buf = new UnitBuffer()): { spans: Array<[number, number]>; items: string[] } {
  const n = hashWords(text, buf);
  prefixSums(buf, n);
  const raw: Array<[number, number]> = [];
  const items = new Set<string>();
  matchUnits(index, buf, n, (pos, len, g) => {
    if (index.gramSegStart[g] === index.gramSegStart[g + 1]) return; // a template n-gram
    index.forEachItem(g, (it) => items.add(index.items[it]!.id));
    raw.push([buf.start[pos]!, buf.end[pos + len - 1]!]);
  });
  raw.sort((a, b) => a[0] - b[0]);
  const spans: Array<[number, number]> = [];
  for (const s of raw) {
    const last = spans[spans.length - 1];
    if (last && s[0] <= last[1]) last[1] = Math.max(last[1], s[1]);
    else spans.push([s[0], s[1]]);
  }
  return { spans, items: [...items].sort() };
}
