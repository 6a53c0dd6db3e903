/**
 * Suffix arrays per bounded shard, for the repeat scan of `dedup.substrings` (the "make-part"
 * half of Lee et al.'s make-part + merge). The text is cut every `shardTokens` tokens, anywhere
 * (inside a document too), and each shard's suffix array lists the suffixes that START in the
 * shard, sorted over the shard's text extended by `minTokens` tokens past its end. Every window
 * of `minTokens` tokens starting in the shard lies inside that extended text, so the shard's
 * order agrees with the whole text's order on those windows: the k-way merge of
 * `findRepeats` then sees every group of equal windows contiguously, whatever the shard size
 * (a document longer than a shard, and a repeat straddling a cut, are handled alike).
 *
 * Why bounded shards: SA-IS is linear, but its induction passes read the text at random, and
 * the measured cost per token grows with the array (bench/subdoc.bench.ts: 212 ns/token at 2M
 * tokens, 375 at 16M, 781 at 150M on the loaded bench machine). Shards of a few million tokens
 * keep that cost flat, so construction time is linear in the corpus; the merge adds
 * O(n · log k) window comparisons for k shards.
 *
 * Memory per shard build: `suffixArray`'s (≤ 18 bytes per shard token, measured ≈ 10) for
 * `shardTokens + minTokens` tokens, plus the returned positions (4 bytes per shard token).
 */
import { suffixArray } from './sais.ts';

/**
 * Default shard size in tokens: 1M (2^20, 2 MB of uint16 tokens). Measured on the loaded bench
 * machine (bench/sa-child.ts, 20M tokens): shard builds 131 / 153 / 183 ns per token at 1M / 2M /
 * 4M-token shards, while the merge's cost barely grows with the shard count (key windows, below).
 */
export const DEFAULT_SHARD_TOKENS = 1 << 20;

/** The `[start, end)` cuts of a text of `n` tokens into shards of at most `shardTokens` tokens. */
export function shardCuts(n: number, shardTokens: number): Array<[number, number]> {
  if (!Number.isInteger(shardTokens) || shardTokens < 1) throw new Error(`shardCuts: shardTokens must be a positive integer, got ${shardTokens}`);
  const out: Array<[number, number]> = [];
  for (let s = 0; s < n; s += shardTokens) out.push([s, Math.min(n, s + shardTokens)]);
  return out;
}

/**
 * The suffix array of shard `[start, end)` of `T`: the positions `start ≤ p < end` (as positions
 * of `T`, plus `offset`), ordered by the suffixes of `T[start, min(n, end + minTokens))`. Token
 * ids must lie below `alphabet`.
 */
export function shardSuffixArray(T: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> }, start: number, end: number, minTokens: number, alphabet: number, offset = 0): Int32Array {
  const ext = Math.min(T.length, end + minTokens);
  const sa = suffixArray(T.subarray(start, ext), alphabet);
  const len = end - start;
  if (ext === end) {
    if (start + offset) for (let i = 0; i < sa.length; i++) sa[i]! += start + offset;
    return sa;
  }
  // Drop the extension's own suffixes (they start in the next shard), keeping the order.
  const out = new Int32Array(len);
  const add = start + offset;
  let j = 0;
  for (let i = 0; i < sa.length; i++) {
    const p = sa[i]!;
    if (p < len) out[j++] = p + add;
  }
  return out;
}
