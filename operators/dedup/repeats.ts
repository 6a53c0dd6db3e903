/**
 * Finding repeated token spans from suffix arrays (after Lee et al. 2021, "Deduplicating
 * Training Data Makes Language Models Better"): every window of `minTokens` tokens that occurs
 * earlier in the corpus is a repeat; its tokens are removed unless they also lie in a window's
 * first occurrence. Windows never cross a document boundary (the `sep` token, which must be
 * larger than every token id, ends each document in the concatenated text).
 *
 * Suffixes sharing a window are adjacent in suffix order, so one pass over the suffix array
 * finds every group of equal windows; the smallest position of a group is its first
 * occurrence. The sharded path merges per-shard suffix arrays k-way, comparing suffixes only
 * up to `minTokens` tokens or the first separator: within a shard that preorder agrees with the
 * full suffix order (it only looks at a common prefix), so the merged stream lists every group
 * contiguously, exactly as a suffix array of the whole text would.
 *
 * Memory of the scan: the text (4 bytes/token, Int32), one flag byte per token, and one read
 * buffer per shard; time O(n · log k) heap steps of at most `minTokens` comparisons each.
 */

/** One suffix-array source: positions (into the whole text) in suffix order, whole or in chunks. */
export type SaSource = Int32Array<ArrayBufferLike> | AsyncIterable<Int32Array<ArrayBufferLike>> | Iterable<Int32Array<ArrayBufferLike>>;

const REPEAT = 1;
const FIRST = 2;

/** A maximal removed token range `[start, end)` of the whole text. */
export interface RemovedRange {
  start: number;
  end: number;
}

export interface RepeatResult {
  /** Tokens of the text (separators included). */
  tokens: number;
  /** Tokens removed (never separators). */
  removed: number;
  /** Groups of equal windows that occur more than once. */
  groups: number;
  ranges: RemovedRange[];
}

/** Compares the suffixes at `a` and `b` up to `L` tokens or a shared separator: <0, 0, >0. */
export function compareWindow(T: Int32Array, a: number, b: number, L: number, sep: number): number {
  const n = T.length;
  for (let d = 0; d < L; d++) {
    if (a + d >= n) return b + d >= n ? 0 : -1;
    if (b + d >= n) return 1;
    const x = T[a + d]!;
    const y = T[b + d]!;
    if (x !== y) return x - y;
    if (x === sep) return 0;
  }
  return 0;
}

class Cursor {
  buf: Int32Array<ArrayBufferLike> = new Int32Array(0);
  i = 0;
  pos = -1;
  private readonly it: Iterator<Int32Array<ArrayBufferLike>> | AsyncIterator<Int32Array<ArrayBufferLike>>;
  constructor(
    src: SaSource,
    readonly shard: number,
  ) {
    this.it = src instanceof Int32Array ? [src][Symbol.iterator]() : Symbol.asyncIterator in src ? src[Symbol.asyncIterator]() : src[Symbol.iterator]();
  }
  /** Advances; false at the end. */
  async next(): Promise<boolean> {
    while (this.i >= this.buf.length) {
      const r = await this.it.next();
      if (r.done) return false;
      this.buf = r.value;
      this.i = 0;
    }
    this.pos = this.buf[this.i++]!;
    return true;
  }
}

/**
 * Scans suffix arrays of the text `T` (one per shard, each over its own positions; one source
 * = the plain suffix array) and returns the removed ranges. `sep` marks document ends and must
 * exceed every token id.
 */
export async function findRepeats(T: Int32Array, sources: SaSource[], minTokens: number, sep: number): Promise<RepeatResult> {
  const L = minTokens;
  if (!Number.isInteger(L) || L < 1) throw new Error(`findRepeats: minTokens must be a positive integer, got ${L}`);
  const n = T.length;
  const flags = new Uint8Array(n);
  // Window validity: no separator among its L tokens and within the text.
  const valid = (p: number): boolean => {
    if (p + L > n) return false;
    for (let d = 0; d < L; d++) if (T[p + d] === sep) return false;
    return true;
  };
  // k-way heap over shard cursors, ordered by (window, shard).
  const heap: Cursor[] = [];
  const less = (x: Cursor, y: Cursor): boolean => {
    const c = compareWindow(T, x.pos, y.pos, L, sep);
    return c < 0 || (c === 0 && x.shard < y.shard);
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      let m = i;
      if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
      if (l + 1 < heap.length && less(heap[l + 1]!, heap[m]!)) m = l + 1;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (let s = 0; s < sources.length; s++) {
    const c = new Cursor(sources[s]!, s);
    if (await c.next()) heap.push(c);
  }
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);

  let seen = 0;
  let groups = 0;
  let groupStart = -1; // a member of the current group (its window defines the group)
  let groupMin = -1;
  let groupSize = 0;
  const closeGroup = (): void => {
    if (groupSize > 1) {
      groups++;
      flags[groupMin] = FIRST;
    } else if (groupSize === 1) flags[groupMin] = FIRST;
  };
  const single = heap.length === 1 ? heap[0]! : null;
  while (heap.length) {
    const top = single ?? heap[0]!;
    const p = top.pos;
    if (p < 0 || p >= n) throw new Error(`findRepeats: suffix position ${p} outside the text of ${n} tokens`);
    seen++;
    if (valid(p)) {
      if (groupSize > 0 && compareWindow(T, groupStart, p, L, sep) === 0) {
        groupSize++;
        flags[p] = REPEAT;
        if (p < groupMin) {
          flags[groupMin] = REPEAT;
          groupMin = p;
        }
      } else {
        closeGroup();
        groupStart = groupMin = p;
        groupSize = 1;
      }
    }
    if (await top.next()) {
      if (!single) down(0);
    } else if (single) heap.pop();
    else {
      const last = heap.pop()!;
      if (heap.length) {
        heap[0] = last;
        down(0);
      }
    }
  }
  closeGroup();
  if (seen !== n) throw new Error(`findRepeats: the suffix arrays list ${seen} positions for a text of ${n} tokens`);

  // Sweep: a token is removed when a repeat window covers it and no first-occurrence window does.
  const ranges: RemovedRange[] = [];
  let repeatUntil = 0;
  let firstUntil = 0;
  let removed = 0;
  let open = -1;
  for (let i = 0; i < n; i++) {
    const f = flags[i]!;
    if (f === REPEAT) repeatUntil = i + L;
    else if (f === FIRST) firstUntil = i + L;
    const gone = i < repeatUntil && i >= firstUntil;
    if (gone) {
      removed++;
      if (open < 0) open = i;
    } else if (open >= 0) {
      ranges.push({ start: open, end: i });
      open = -1;
    }
  }
  if (open >= 0) ranges.push({ start: open, end: n });
  return { tokens: n, removed, groups, ranges };
}

/**
 * Brute force of {@link findRepeats} for tests: O(n² · L). Same definition (earliest window
 * kept; a token goes when a repeat covers it and no first occurrence does).
 */
export function findRepeatsNaive(T: ArrayLike<number>, L: number, sep: number): RemovedRange[] {
  const n = T.length;
  const ok = (p: number) => p + L <= n && Array.from({ length: L }, (_, d) => T[p + d]).every((x) => x !== sep);
  const same = (a: number, b: number) => {
    for (let d = 0; d < L; d++) if (T[a + d] !== T[b + d]) return false;
    return true;
  };
  const repeat = new Array<boolean>(n).fill(false);
  const first = new Array<boolean>(n).fill(false);
  for (let j = 0; j < n; j++) {
    if (!ok(j)) continue;
    let earlier = false;
    for (let i = 0; i < j && !earlier; i++) if (ok(i) && same(i, j)) earlier = true;
    for (let d = 0; d < L; d++) (earlier ? repeat : first)[j + d] = true;
  }
  const out: RemovedRange[] = [];
  let open = -1;
  for (let i = 0; i <= n; i++) {
    const gone = i < n && repeat[i]! && !first[i]!;
    if (gone && open < 0) open = i;
    if (!gone && open >= 0) {
      out.push({ start: open, end: i });
      open = -1;
    }
  }
  return out;
}
