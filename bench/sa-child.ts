/**
 * One suffix-array measurement in a fresh process (for `bench/subdoc.bench.ts`): builds a token
 * stream of N tokens (uint16, like `shard.tokens` with a GPT-2 vocabulary), then times it in CPU
 * seconds and reports the process's peak RSS above its state before the work (the text itself
 * is in the base). Token stream: 90% Zipf(1.1) draws over 50,257 ids, 10% copies of 1,000-token
 * windows of tokenized Shakespeare (real repeats), so the recursion sees realistic repetition.
 *
 * Modes:
 * - `single`: one `suffixArray` over the whole stream (the pre-shard design).
 * - `sharded <shardTokens> [minTokens=50]`: what `dedup.substrings` does — per-shard suffix
 *   arrays (sa-shards.ts), each written to a temp file, then `findRepeats` merging them k-way
 *   streamed from disk (256 KiB read buffer per shard) over the uint16 text. CPU reported for the
 *   shard builds, the merge, and the sum.
 *
 * Usage: node --expose-gc --import tsx bench/sa-child.ts <tokens> [single | sharded <shardTokens> [minTokens]]
 */
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suffixArray } from '../operators/dedup/sais.ts';
import { shardCuts, shardSuffixArray } from '../operators/dedup/sa-shards.ts';
import { findRepeats } from '../operators/dedup/repeats.ts';
import { loadTokenizer } from '../operators/tokenize/load.ts';
import { peakRss } from './harness.ts';

const n = Number(process.argv[2]);
const mode = process.argv[3] ?? 'single';
const tok = await loadTokenizer('gpt2');
const shakes = tok.encodeOrdinary(readFileSync(join(import.meta.dirname, '../../shared/data/tinyshakespeare/input.txt'), 'utf8').slice(0, 300_000));
const V = 50257;
// Zipf sampling by inverse CDF over a table.
const cdf = new Float64Array(V);
let acc = 0;
for (let i = 0; i < V; i++) cdf[i] = acc += 1 / Math.pow(i + 1, 1.1);
let seed = 12345;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
// Guide table: the search for u starts in its bucket (same draws as a plain binary search, ~10× faster at 500M tokens).
const G = 1 << 16;
const guide = new Int32Array(G + 1);
for (let b = 0, j = 0; b <= G; b++) {
  while (j < V - 1 && cdf[j]! < (b / G) * acc) j++;
  guide[b] = j;
}
const T = new Uint16Array(n);
for (let i = 0; i < n; ) {
  if (rnd() < 1 / 9000) {
    const s = Math.floor(rnd() * (shakes.length - 1000));
    for (let j = 0; j < 1000 && i < n; j++) T[i++] = shakes[s + j]!;
  } else {
    const u = rnd() * acc;
    const g = Math.min(G - 1, Math.floor((u / acc) * G));
    let lo = Math.max(0, guide[g]! - 1);
    let hi = guide[g + 1]!;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (cdf[m]! < u) lo = m + 1;
      else hi = m;
    }
    T[i++] = lo;
  }
}
global.gc?.();
const before = process.memoryUsage().rss;
const cpuS = (c0: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1e6;
};
const peakAbove = () => peakRss() - before;

if (mode === 'single') {
  const c0 = process.cpuUsage();
  const sa = suffixArray(T, V);
  const c = cpuS(c0);
  process.stdout.write(JSON.stringify({ mode, tokens: n, inputBytes: T.byteLength, cpuS: c, peakAboveBase: peakAbove(), check: sa.length }) + '\n');
} else if (mode === 'sharded') {
  const shardTokens = Number(process.argv[4]);
  const L = Number(process.argv[5] ?? 50);
  const dir = mkdtempSync(join(tmpdir(), 'sa-child-'));
  try {
    // The separator V never occurs: the stream is one long document, cut anywhere.
    const c0 = process.cpuUsage();
    const cuts = shardCuts(n, shardTokens);
    const files: string[] = [];
    for (const [s, e] of cuts) {
      const sa = shardSuffixArray(T, s, e, L, V + 1);
      const f = join(dir, `sa-${files.length}.bin`);
      writeFileSync(f, new Uint8Array(sa.buffer, sa.byteOffset, sa.byteLength));
      files.push(f);
    }
    const buildS = cpuS(c0);
    const buildPeak = peakAbove();
    // Progress line on stderr (a long run stopped in the merge still reports its construction).
    process.stderr.write(JSON.stringify({ phase: 'built', tokens: n, shards: cuts.length, buildS, buildPeakAboveBase: buildPeak }) + '\n');
    function* stream(f: string): Generator<Int32Array> {
      const fd = openSync(f, 'r');
      try {
        for (;;) {
          const buf = new Int32Array(1 << 16);
          const got = readSync(fd, new Uint8Array(buf.buffer));
          if (got % 4) throw new Error(`${f}: short read`);
          if (got === 0) return;
          yield buf.subarray(0, got / 4);
        }
      } finally {
        closeSync(fd);
      }
    }
    const c1 = process.cpuUsage();
    const r = await findRepeats(T, files.map(stream), L, V);
    const mergeS = cpuS(c1);
    process.stdout.write(
      JSON.stringify({ mode, tokens: n, inputBytes: T.byteLength, shardTokens, shards: cuts.length, minTokens: L, buildS, mergeS, cpuS: buildS + mergeS, buildPeakAboveBase: buildPeak, peakAboveBase: peakAbove(), removedShare: r.removed / n, groups: r.groups }) + '\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else throw new Error(`sa-child: unknown mode '${mode}' (single | sharded <shardTokens> [minTokens])`);
