/**
 * Finding repeated token spans from suffix arrays (after Lee et al. 2021, "Deduplicating
 * Training Data Makes Language Models Better"): every window of `minTokens` tokens that occurs
 * earlier in the corpus is a repeat; its tokens are removed unless they also lie in a window's
 * first occurrence. Windows never cross a document boundary (the `sep` token, which must be
 * larger than every token id, ends each document in the concatenated text).
 *
 * Suffixes sharing a window are adjacent in suffix order, so one pass over the suffix array
 * finds every group of equal windows; the smallest position of a group is its first
 * occurrence. The sharded path merges per-shard suffix arrays k-way (the "merge" half of Lee et
 * al.'s make-part + merge, streamed: one read buffer per shard), comparing suffixes only up to
 * `minTokens` tokens or the first separator. Each shard's order agrees with that preorder on
 * the windows that matter (shards cut at separators, or built over `minTokens` tokens past
 * their end: see sa-shards.ts), so the merged stream lists every group contiguously, exactly as
 * a suffix array of the whole text would, and the result never depends on the shard count.
 *
 * The merge is a loser tree (⌈log₂ k⌉ window comparisons per suffix, half a binary heap's) run
 * synchronously between buffer refills (an await per suffix cost more than the comparisons).
 * Memory: the text (2 bytes/token when ids and `sep` fit 16 bits, else 4), one flag byte per
 * token, and one read buffer per shard. Time O(n · log k) comparisons of ≤ `minTokens` tokens.
 */

/** One suffix-array source: positions (into the whole text) in suffix order, whole or in chunks. */
export type SaSource = Int32Array<ArrayBufferLike> | AsyncIterable<Int32Array<ArrayBufferLike>> | Iterable<Int32Array<ArrayBufferLike>>;

/** The concatenated token text: Uint16Array when every id and the separator fit 16 bits. */
export type TokenText = Int32Array | Uint16Array;

/** The window starting here repeats an earlier one (a valid window without it is a first occurrence). */
const REPEAT = 1;
/** The window starting here has `minTokens` tokens and no separator. */
const VALID = 4;

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

/** Compares the suffixes at `a` and `b` up to `L` tokens or a shared separator: <0, 0, >0 (from token `from` on, the earlier ones being equal). */
export function compareWindow(T: TokenText, a: number, b: number, L: number, sep: number, from = 0): number {
  const n = T.length;
  for (let d = from; d < L; d++) {
    if (a + d >= n) return b + d >= n ? 0 : -1;
    if (b + d >= n) return 1;
    const x = T[a + d]!;
    const y = T[b + d]!;
    if (x !== y) return x - y;
    if (x === sep) return 0;
  }
  return 0;
}

type Chunks = Iterator<Int32Array<ArrayBufferLike>> | AsyncIterator<Int32Array<ArrayBufferLike>>;

/** Suffixes per shard whose keys are computed together (16K: 128 KiB of keys per shard). */
const WINDOW = 1 << 14;

/**
 * Merge state carried across buffer refills. Each head carries a key: its first `nk` tokens
 * (+1; 0 past the end and after a separator) as one exact double, so nearly every comparison
 * is one number compare; `full` when the key alone decides equality (it ended, or covers all L
 * tokens). Keys are computed a window of suffixes at a time, ahead of the merge: measured, a
 * key read at the moment its head came up put one cache miss of the text on the loser tree's
 * critical path per suffix (+90 ns/token from 1 to 2 shards); read in a batch, the misses
 * overlap.
 */
class Merge {
  readonly k: number;
  /** Current position, keys and `full` (bits: 1 the keys decide equality, 2 a valid window, 4 the same window as the shard's previous suffix) of each shard's head; -1, +∞, 1 once exhausted. */
  readonly head: Int32Array;
  readonly keys: Float64Array;
  readonly keys2: Float64Array;
  readonly full: Uint8Array;
  /** Loser tree: node 0 the winner, nodes 1..k-1 the losers (leaves are k..2k-1). */
  readonly tree: Int32Array;
  /** Per shard: the source chunk and the next unread index in it. */
  readonly raw: Array<Int32Array<ArrayBufferLike>>;
  readonly rawAt: Float64Array;
  /** Per shard: the current window of positions, its keys and `full` flags, and the head's index in it. */
  readonly win: Array<Int32Array<ArrayBufferLike>>;
  readonly winKeys: Float64Array[];
  readonly winKeys2: Float64Array[];
  readonly winFull: Uint8Array[];
  readonly at: Int32Array;
  /** Per shard: the previous entry's position and keys (for bit 4 of `full`). */
  readonly prevPos: Float64Array;
  readonly prevKey: Float64Array;
  readonly prevKey2: Float64Array;
  readonly nk: number;
  readonly radix: number;
  seen = 0;
  groups = 0;
  groupStart = -1;
  groupMin = -1;
  groupSize = 0;
  groupKey = -1;
  groupKey2 = -1;
  groupFull = 0;
  constructor(
    readonly T: TokenText,
    readonly flags: Uint8Array,
    readonly L: number,
    readonly sep: number,
    k: number,
  ) {
    this.k = k;
    this.head = new Int32Array(k).fill(-1);
    this.keys = new Float64Array(k).fill(Infinity);
    this.keys2 = new Float64Array(k);
    this.full = new Uint8Array(k).fill(1);
    this.tree = new Int32Array(Math.max(1, k));
    this.raw = Array.from({ length: k }, () => new Int32Array(0));
    this.rawAt = new Float64Array(k);
    this.win = Array.from({ length: k }, () => new Int32Array(0));
    this.winKeys = Array.from({ length: k }, () => new Float64Array(WINDOW));
    this.winKeys2 = Array.from({ length: k }, () => new Float64Array(WINDOW));
    this.winFull = Array.from({ length: k }, () => new Uint8Array(WINDOW));
    this.at = new Int32Array(k);
    this.prevPos = new Float64Array(k).fill(-1);
    this.prevKey = new Float64Array(k);
    this.prevKey2 = new Float64Array(k);
    this.radix = sep + 2;
    let nk = 0;
    for (let r = 1; nk < L && r * this.radix <= 2 ** 53; r *= this.radix) nk++;
    this.nk = nk;
  }

  /** Takes shard `s`'s next window from its chunk, computes its keys and makes its first entry the head; false when the chunk is used up. */
  loadWindow(s: number): boolean {
    const raw = this.raw[s]!;
    const from = this.rawAt[s]!;
    if (from >= raw.length) return false;
    const win = raw.subarray(from, Math.min(raw.length, from + WINDOW));
    this.rawAt[s] = from + win.length;
    this.win[s] = win;
    const kb = this.winKeys[s]!;
    const kb2 = this.winKeys2[s]!;
    const fb = this.winFull[s]!;
    const { T, nk, radix, sep, L } = this;
    const n = T.length;
    let prev = this.prevPos[s]!;
    let pk = this.prevKey[s]!;
    let pk2 = this.prevKey2[s]!;
    for (let j = 0; j < win.length; j++) {
      const p = win[j]!;
      if (p < 0 || p >= n) throw new Error(`findRepeats: suffix position ${p} outside the text of ${n} tokens`);
      let key = 0;
      let key2 = 0;
      let term = 0;
      for (let d = 0; d < 2 * nk; d++) {
        if (d === nk) {
          key2 = key;
          key = 0;
        }
        if (term || d >= L) key *= radix;
        else if (p + d >= n) {
          term = 1;
          key *= radix;
        } else {
          const t = T[p + d]!;
          key = key * radix + t + 1;
          if (t === sep) term = 1;
        }
      }
      kb[j] = key2;
      kb2[j] = key;
      // Bit 1: the keys decide equality; bit 2: the window is valid (read here, in the batch, for
      // the same reason as the keys); bit 4: same window as the shard's previous suffix.
      const decided = term || 2 * nk >= L ? 1 : 0;
      const same = prev >= 0 && key2 === pk && key === pk2 && (decided || compareWindow(T, prev, p, L, sep, 2 * nk) === 0) ? 4 : 0;
      fb[j] = decided | (this.flags[p]! & VALID ? 2 : 0) | same;
      prev = p;
      pk = key2;
      pk2 = key;
    }
    this.prevPos[s] = prev;
    this.prevKey[s] = pk;
    this.prevKey2[s] = pk2;
    this.at[s] = 0;
    this.head[s] = win[0]!;
    this.keys[s] = kb[0]!;
    this.keys2[s] = kb2[0]!;
    this.full[s] = fb[0]!;
    return true;
  }

  exhaust(s: number): void {
    this.head[s] = -1;
    this.keys[s] = Infinity;
    this.keys2[s] = 0;
    this.full[s] = 1;
  }

  /** Shard `a`'s head sorts before shard `b`'s (ties by shard index; exhausted heads last). */
  less(a: number, b: number): boolean {
    const ka = this.keys[a]!;
    const kb = this.keys[b]!;
    if (ka !== kb) return ka < kb;
    return this.tieLess(a, b);
  }

  /** `less` past equal first keys: the second keys, then the text from token 2·`nk` on. */
  tieLess(a: number, b: number): boolean {
    const ka = this.keys2[a]!;
    const kb = this.keys2[b]!;
    if (ka !== kb) return ka < kb;
    if (this.full[a]! & 1) return a < b;
    const c = compareWindow(this.T, this.head[a]!, this.head[b]!, this.L, this.sep, 2 * this.nk);
    return c < 0 || (c === 0 && a < b);
  }

  build(node: number): number {
    if (node >= this.k) return node - this.k;
    const a = this.build(2 * node);
    const b = this.build(2 * node + 1);
    if (this.less(a, b)) {
      this.tree[node] = b;
      return a;
    }
    this.tree[node] = a;
    return b;
  }

  closeGroup(): void {
    if (this.groupSize > 1) this.groups++;
  }

  /**
   * `p` has the current group's window: every member but the smallest position is a repeat.
   * First occurrences are left unmarked (a valid window without REPEAT is one), which saves a
   * random write per suffix: most windows are unique.
   */
  join(p: number): void {
    this.groupSize++;
    if (p < this.groupMin) {
      this.flags[this.groupMin] = VALID | REPEAT;
      this.groupMin = p;
    } else this.flags[p] = VALID | REPEAT;
  }

  /**
   * Emits suffixes in merged order until the winner's chunk runs dry (returns its shard, whose
   * head is then emitted but not yet replaced) or every shard is exhausted (returns -1).
   */
  run(): number {
    const { T, L, sep, head, keys, keys2, full, tree, k, win, winKeys, winKeys2, winFull, at, nk } = this;
    for (;;) {
      let w = tree[0]!;
      const p = head[w]!;
      if (p < 0) return -1;
      this.seen++;
      const f = full[w]!;
      if (f & 4 && f & 2) {
        // Same window as the suffix just emitted (this shard's previous one): same group.
        this.join(p);
      } else if (f & 2) {
        const key = keys[w]!;
        const key2 = keys2[w]!;
        if (this.groupSize > 0 && key === this.groupKey && key2 === this.groupKey2 && (this.groupFull & 1 || compareWindow(T, this.groupStart, p, L, sep, 2 * nk) === 0)) {
          this.join(p);
        } else {
          this.closeGroup();
          this.groupStart = this.groupMin = p;
          this.groupKey = key;
          this.groupKey2 = key2;
          this.groupFull = full[w]!;
          this.groupSize = 1;
        }
      }
      const i = at[w]! + 1;
      const wb = win[w]!;
      if (i < wb.length) {
        at[w] = i;
        head[w] = wb[i]!;
        keys[w] = winKeys[w]![i]!;
        keys2[w] = winKeys2[w]![i]!;
        full[w] = winFull[w]![i]!;
      } else if (!this.loadWindow(w)) return w;
      // A head equal to the one just emitted is still the least (ties go by shard): no replay.
      if (full[w]! & 4) continue;
      // Replay the winner's path: ⌈log₂ k⌉ comparisons, nearly all settled by the keys.
      let wk = keys[w]!;
      for (let node = (w + k) >> 1; node >= 1; node >>= 1) {
        const o = tree[node]!;
        const ok = keys[o]!;
        if (ok < wk || (ok === wk && this.tieLess(o, w))) {
          tree[node] = w;
          w = o;
          wk = ok;
        }
      }
      tree[0] = w;
    }
  }

  /** Replays shard `w`'s path after its head changed outside `run`. */
  replay(w: number): void {
    for (let node = (w + this.k) >> 1; node >= 1; node >>= 1) {
      const o = this.tree[node]!;
      if (this.less(o, w)) {
        this.tree[node] = w;
        w = o;
      }
    }
    this.tree[0] = w;
  }

  /** Installs shard `s`'s next source chunk (null: the source ended). */
  feed(s: number, chunk: Int32Array<ArrayBufferLike> | null): void {
    if (!chunk) return this.exhaust(s);
    this.raw[s] = chunk;
    this.rawAt[s] = 0;
    this.loadWindow(s);
  }
}

/** Next non-empty chunk of `it`, or null at its end. */
async function nextChunk(it: Chunks): Promise<Int32Array<ArrayBufferLike> | null> {
  for (;;) {
    const r = await it.next();
    if (r.done) return null;
    if (r.value.length) return r.value;
  }
}

/**
 * Scans suffix arrays of the text `T` (one per shard, each over its own positions; one source
 * = the plain suffix array) and returns the removed ranges. `sep` marks document ends and must
 * exceed every token id.
 */
export async function findRepeats(T: TokenText, sources: SaSource[], minTokens: number, sep: number): Promise<RepeatResult> {
  const L = minTokens;
  if (!Number.isInteger(L) || L < 1) throw new Error(`findRepeats: minTokens must be a positive integer, got ${L}`);
  const n = T.length;
  const flags = new Uint8Array(n);
  // Window validity in one backward pass: at least L tokens before the next separator or the end.
  for (let i = n - 1, run = 0; i >= 0; i--) {
    run = T[i] === sep ? 0 : run + 1;
    if (run >= L) flags[i] = VALID;
  }
  const k = sources.length;
  const m = new Merge(T, flags, L, sep, k);
  const its: Chunks[] = sources.map((src) => (src instanceof Int32Array ? [src][Symbol.iterator]() : Symbol.asyncIterator in src ? src[Symbol.asyncIterator]() : src[Symbol.iterator]()));
  for (let s = 0; s < k; s++) m.feed(s, await nextChunk(its[s]!));
  if (k) m.tree[0] = m.build(1);
  for (;;) {
    const w = m.run();
    if (w < 0) break;
    m.feed(w, await nextChunk(its[w]!));
    m.replay(w);
  }
  m.closeGroup();
  if (m.seen !== n) throw new Error(`findRepeats: the suffix arrays list ${m.seen} positions for a text of ${n} tokens`);

  // Sweep: a token is removed when a repeat window covers it and no first-occurrence window does.
  const ranges: RemovedRange[] = [];
  let repeatUntil = 0;
  let firstUntil = 0;
  let removed = 0;
  let open = -1;
  for (let i = 0; i < n; i++) {
    const f = flags[i]!;
    if (f & REPEAT) repeatUntil = i + L;
    else if (f & VALID) firstUntil = i + L;
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
  return { tokens: n, removed, groups: m.groups, ranges };
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
