/**
 * Suffix array construction by SA-IS (Nong, Zhang & Chan 2009, "Linear Suffix Array
 * Construction by Almost Pure Induced-Sorting") over an integer alphabet of token ids.
 *
 * Time O(n + K) for n tokens and alphabet size K. Memory, measured in bytes per token of the
 * input (see `saisBytesPerToken`): the returned array is 4 (Int32), the workspace is a 4-byte
 * shifted copy of the text (ids + 1 and a 0 sentinel, so every level runs on one monomorphic
 * Int32Array) plus 1 byte of L/S types per level (1 + 1/2 + 1/4 … < 2); the recursion keeps
 * its reduced string and suffix array inside the parent's suffix array (the classical in-place
 * layout), so it allocates nothing else beyond one bucket array of K (top level) or of the name
 * count (recursion) Int32 words. Total < 10 bytes per token plus 4K.
 */

/** Bytes per token of `suffixArray`: the array it returns and its peak workspace (upper bound). */
export const saisBytesPerToken = { array: 4, workspace: 6 } as const;

function buckets(T: Int32Array, n: number, K: number, bkt: Int32Array, end: boolean): void {
  bkt.fill(0, 0, K);
  for (let i = 0; i < n; i++) bkt[T[i]!]!++;
  let sum = 0;
  for (let i = 0; i < K; i++) {
    sum += bkt[i]!;
    bkt[i] = end ? sum : sum - bkt[i]!;
  }
}

function induceL(T: Int32Array, SA: Int32Array, t: Uint8Array, n: number, K: number, bkt: Int32Array): void {
  buckets(T, n, K, bkt, false);
  for (let i = 0; i < n; i++) {
    const j = SA[i]! - 1;
    if (j >= 0 && t[j] === 0) SA[bkt[T[j]!]!++] = j;
  }
}

function induceS(T: Int32Array, SA: Int32Array, t: Uint8Array, n: number, K: number, bkt: Int32Array): void {
  buckets(T, n, K, bkt, true);
  for (let i = n - 1; i >= 0; i--) {
    const j = SA[i]! - 1;
    if (j >= 0 && t[j] === 1) SA[--bkt[T[j]!]!] = j;
  }
}

/**
 * SA-IS on `T[0..n)` whose last symbol `T[n-1]` is 0 and unique, all symbols in `[0, K)`.
 * Writes the suffix array into `SA[0..n)`.
 */
function sais(T: Int32Array, SA: Int32Array, n: number, K: number): void {
  if (n === 1) {
    SA[0] = 0;
    return;
  }
  const t = new Uint8Array(n); // 1 = S-type, 0 = L-type
  t[n - 1] = 1;
  for (let i = n - 2; i >= 0; i--) t[i] = T[i]! < T[i + 1]! || (T[i] === T[i + 1] && t[i + 1] === 1) ? 1 : 0;
  const isLMS = (i: number): boolean => i > 0 && t[i] === 1 && t[i - 1] === 0;
  const bkt = new Int32Array(K);

  // Stage 1: sort the LMS substrings by induction.
  buckets(T, n, K, bkt, true);
  SA.fill(-1, 0, n);
  for (let i = 1; i < n; i++) if (isLMS(i)) SA[--bkt[T[i]!]!] = i;
  induceL(T, SA, t, n, K, bkt);
  induceS(T, SA, t, n, K, bkt);

  // Compact the sorted LMS positions into SA[0..n1).
  let n1 = 0;
  for (let i = 0; i < n; i++) if (isLMS(SA[i]!)) SA[n1++] = SA[i]!;

  // Name the LMS substrings; names go to SA[n1 + pos/2] (LMS positions are at least 2 apart).
  SA.fill(-1, n1, n);
  let name = 0;
  let prev = -1;
  for (let i = 0; i < n1; i++) {
    const pos = SA[i]!;
    let diff = false;
    for (let d = 0; d < n; d++) {
      if (prev === -1 || T[pos + d] !== T[prev + d] || t[pos + d] !== t[prev + d]) {
        diff = true;
        break;
      } else if (d > 0 && (isLMS(pos + d) || isLMS(prev + d))) break;
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
  buckets(T, n, K, bkt, true);
  for (let i = 1, j = 0; i < n; i++) if (isLMS(i)) s1[j++] = i;
  for (let i = 0; i < n1; i++) SA1[i] = s1[SA1[i]!]!;
  SA.fill(-1, n1, n);
  for (let i = n1 - 1; i >= 0; i--) {
    const j = SA[i]!;
    SA[i] = -1;
    SA[--bkt[T[j]!]!] = j;
  }
  induceL(T, SA, t, n, K, bkt);
  induceS(T, SA, t, n, K, bkt);
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
  const T = new Int32Array(n + 1);
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
