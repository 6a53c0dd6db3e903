/**
 * One suffix-array construction in a fresh process (for `bench/subdoc.bench.ts`): builds a
 * token stream of N tokens (uint16, like `shard.tokens` with a GPT-2 vocabulary), then times
 * `suffixArray` in CPU seconds and reports the process's peak RSS above its state before the
 * build. Token stream: 90% Zipf(1.1) draws over 50,257 ids, 10% copies of 1,000-token windows
 * of tokenized Shakespeare (real repeats), so the recursion sees realistic repetition.
 * Usage: node --import tsx bench/sa-child.ts <tokens>
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suffixArray } from '../operators/dedup/sais.ts';
import { loadTokenizer } from '../operators/tokenize/load.ts';

const n = Number(process.argv[2]);
const tok = await loadTokenizer('gpt2');
const shakes = tok.encodeOrdinary(readFileSync(join(import.meta.dirname, '../../shared/data/tinyshakespeare/input.txt'), 'utf8').slice(0, 300_000));
const V = 50257;
// Zipf sampling by inverse CDF over a table.
const cdf = new Float64Array(V);
let acc = 0;
for (let i = 0; i < V; i++) cdf[i] = acc += 1 / Math.pow(i + 1, 1.1);
let seed = 12345;
const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
const T = new Uint16Array(n);
for (let i = 0; i < n; ) {
  if (rnd() < 1 / 9000) {
    const s = Math.floor(rnd() * (shakes.length - 1000));
    for (let j = 0; j < 1000 && i < n; j++) T[i++] = shakes[s + j]!;
  } else {
    const u = rnd() * acc;
    let lo = 0;
    let hi = V - 1;
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
const c0 = process.cpuUsage();
const sa = suffixArray(T, V);
const c = process.cpuUsage(c0);
const peak = process.resourceUsage().maxRSS * 1024;
process.stdout.write(JSON.stringify({ tokens: n, inputBytes: T.byteLength, cpuS: (c.user + c.system) / 1e6, peakAboveBase: peak - before, peakRss: peak, check: sa.length }) + '\n');
