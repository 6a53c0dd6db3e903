/**
 * Suffix array construction by SA-IS (Nong, Zhang & Chan 2009, "Linear Suffix Array
 * Construction by Almost Pure Induced-Sorting") over an integer alphabet of token ids.
 *
 * Time O(n + K) for n tokens and alphabet size K. Memory, in bytes per token of the input (see
 * `saisBytesPerToken`): the returned array is 4 (Int32). The workspace is a shifted copy of the
 * text (ids + 1 and a 0 sentinel): 2 bytes when the ids fit in 16 bits (GPT-2's do), else 4; plus
 * 1 byte of L/S types per level (1 + 1/2 + 1/4 … < 2); plus, per level, a count and a bucket
 * array of the level's alphabet (K at the top; in the recursion the name count, at most half the
 * level's length: < 8 bytes per token over all levels in the worst case, far less in practice).
 * The recursion keeps its reduced string and suffix array inside the parent's suffix array (the
 * classical in-place layout). Upper bound 4 + 14 = 18 bytes per token (16 with uint16 ids) plus
 * 8K; measured at 50M GPT-2-sized tokens: 9.6 bytes per token of peak RSS above the input.
 *
 * Speed (measured, bench/subdoc.bench.ts): induction is bound by random reads of the text, so
 * the passes read the L/S type of a suffix from the text itself (no random read of the type
 * array), and the top-level text is 16-bit when it can be.
 */

/** Bytes per token of `suffixArray`: the array it returns and its peak workspace (upper bound, 32-bit text). */
export const saisBytesPerToken = { array: 4, workspace: 14 } as const;

/** The text of one level: the top level keeps uint16 ids as Uint16Array (half the cache traffic). */
type Text = Int32Array | Uint16Array;

function countSymbols(T: Text, n: number, K: number, cnt: Int32Array): void {
  cnt.fill(0, 0, K);
  for (let i = 0; i < n; i++) cnt[T[i]!]!++;
}

/** Bucket starts (`end` false) or ends (`end` true) from the symbol counts. */
function bucketsFrom(cnt: Int32Array, K: number, bkt: Int32Array, end: boolean): void {
  let sum = 0;
  for (let i = 0; i < K; i++) {
    const c = cnt[i]!;
    sum += c;
    bkt[i] = end ? sum : sum - c;
  }
}

/**
 * Induces the L-type suffixes left to right. Needs no type array: every suffix in SA during this
 * pass is L-type or LMS, so the predecessor `p - 1` is L-type exactly when `T[p-1] >= T[p]`, and
 * `T[p]` shares a cache line with `T[p-1]` (the type array was a second random read per step).
 */
function induceL(T: Text, SA: Int32Array, n: number, bkt: Int32Array): void {
  for (let i = 0; i < n; i++) {
    const p = SA[i]!;
    if (p > 0) {
      const c = T[p - 1]!;
      if (c >= T[p]!) SA[bkt[c]!++] = p - 1;
    }
  }
}

/**
 * Induces the S-type suffixes right to left. `p` at index `i` is S-type exactly when `i` lies at
 * or above its bucket's moving S pointer (S-types fill each bucket's top end, and all of them to
 * the right of `i` are placed before the scan reaches `i`), so again no type array is read.
 */
function induceS(T: Text, SA: Int32Array, n: number, bkt: Int32Array): void {
  for (let i = n - 1; i >= 0; i--) {
    const p = SA[i]!;
    if (p > 0) {
      const c = T[p - 1]!;
      const cp = T[p]!;
      if (c < cp || (c === cp && i >= bkt[cp]!)) SA[--bkt[c]!] = p - 1;
    }
  }
}

/**
 * SA-IS on `T[0..n)` whose last symbol `T[n-1]` is 0 and unique, all symbols in `[0, K)`.
 * Writes the suffix array into `SA[0..n)`.
 */
function sais(T: Text, SA: Int32Array, n: number, K: number): void {
  if (n === 1) {
    SA[0] = 0;
    return;
  }
  const t = new Uint8Array(n); // 1 = S-type, 0 = L-type
  t[n - 1] = 1;
  for (let i = n - 2; i >= 0; i--) {
    const a = T[i]!;
    const b = T[i + 1]!;
    t[i] = a < b || (a === b && t[i + 1] === 1) ? 1 : 0;
  }
  // Symbol counts once per level: each of the six bucket passes used to rescan all of T.
  const cnt = new Int32Array(K);
  const bkt = new Int32Array(K);
  countSymbols(T, n, K, cnt);

  // Stage 1: sort the LMS substrings by induction.
  bucketsFrom(cnt, K, bkt, true);
  SA.fill(-1, 0, n);
  for (let i = 1; i < n; i++) if (t[i] === 1 && t[i - 1] === 0) SA[--bkt[T[i]!]!] = i;
  bucketsFrom(cnt, K, bkt, false);
  induceL(T, SA, n, bkt);
  bucketsFrom(cnt, K, bkt, true);
  induceS(T, SA, n, bkt);

  // Compact the sorted LMS positions into SA[0..n1).
  let n1 = 0;
  for (let i = 0; i < n; i++) {
    const p = SA[i]!;
    if (p > 0 && t[p] === 1 && t[p - 1] === 0) SA[n1++] = p;
  }

  // Name the LMS substrings; names go to SA[n1 + pos/2] (LMS positions are at least 2 apart).
  SA.fill(-1, n1, n);
  let name = 0;
  let prev = -1;
  for (let i = 0; i < n1; i++) {
    const pos = SA[i]!;
    let diff = prev === -1;
    if (!diff) {
      for (let d = 0; ; d++) {
        const a = pos + d;
        const b = prev + d;
        if (T[a] !== T[b] || t[a] !== t[b]) {
          diff = true;
          break;
        }
        if (d > 0 && ((t[a] === 1 && t[a - 1] === 0) || (t[b] === 1 && t[b - 1] === 0))) break;
      }
    }
    if (diff) {
      name++;
      prev = pos;
    }
    SA[n1 + (pos >> 1)] = name - 1;
  }
  for (let i = n - 1, j = n - 1; i >= n1; i--) if (SA[i]! >= 0) SA[j--] = SA[i]!;

  // Stage 2: the reduced problem, in place: s1 = SA[n-n1..n), SA1 = SA[0..n1).
  const s1 = SA.subarray(n - n1, n);
  const SA1 = SA.subarray(0, n1);
  if (name < n1) sais(s1, SA1, n1, name);
  else for (let i = 0; i < n1; i++) SA1[s1[i]!] = i;

  // Stage 3: induce the full suffix array from the sorted LMS suffixes.
  for (let i = 1, j = 0; i < n; i++) if (t[i] === 1 && t[i - 1] === 0) s1[j++] = i;
  for (let i = 0; i < n1; i++) SA1[i] = s1[SA1[i]!]!;
  SA.fill(-1, n1, n);
  bucketsFrom(cnt, K, bkt, true);
  for (let i = n1 - 1; i >= 0; i--) {
    const j = SA[i]!;
    SA[i] = -1;
    SA[--bkt[T[j]!]!] = j;
  }
  bucketsFrom(cnt, K, bkt, false);
  induceL(T, SA, n, bkt);
  bucketsFrom(cnt, K, bkt, true);
  induceS(T, SA, n, bkt);
}

/**
 * The suffix array of `tokens` (any non-negative integer ids below `alphabet`, default: max + 1):
 * the start positions of all suffixes in lexicographic order, a suffix that is a prefix of
 * another sorting first. Linear time; see the module comment for memory.
 */
export function suffixArray(tokens: ArrayLike<number>, alphabet?: number): Int32Array {
  const n = tokens.length;
  if (n >= 0x7fffffff) throw new Error(`suffixArray: ${n} tokens exceed the Int32 index range; shard the input`);
  let K = alphabet ?? 0;
  if (alphabet === undefined) for (let i = 0; i < n; i++) if (tokens[i]! >= K) K = tokens[i]! + 1;
  // Ids + 1 with a 0 sentinel; a Uint16Array when they fit (GPT-2 ids do): 2 bytes per token
  // instead of 4, and measured 1.15x faster at 15M tokens (3.8 vs 4.3 CPU s) since induction is bound by random reads.
  const T: Text = K + 1 <= 0x10000 ? new Uint16Array(n + 1) : new Int32Array(n + 1);
  for (let i = 0; i < n; i++) {
    const v = tokens[i]!;
    if (!(v >= 0 && v < K) || !Number.isInteger(v)) throw new Error(`suffixArray: token ${v} at ${i} is outside the alphabet [0, ${K})`);
    T[i] = v + 1;
  }
  T[n] = 0;
  const SA = new Int32Array(n + 1);
  sais(T, SA, n + 1, K + 1);
  // SA[0] is the sentinel suffix.
  return SA.subarray(1);
}
