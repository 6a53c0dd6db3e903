/**
 * read.jsonl and line length: 50 MB of JSONL as one line (one document of ~50 MB of text)
 * against the same bytes as ~1 KB lines, through the real source (open, split lines, validate
 * UTF-8, JSON.parse, build docs). Reading must be linear in line length: an earlier line
 * splitter re-joined the partial line with every 1 MiB chunk, and one 50 MB line took 271 s
 * and 720 MB. The quadratic splitter is kept here as the reference, measured on a 5 MB line
 * only (at 50 MB it runs for minutes).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { medianSeconds, type Bench } from './harness.ts';
import { jsonl } from '../operators/read/jsonl.ts';
import { lines } from '../operators/read/lines.ts';
import { localTaskContext } from '../engine/testing.ts';

const TOTAL = 50_000_000;
const WORDS = 'the of and to in is was for on that with as by at from his her an it were which'.split(' ');

function text(bytes: number, seed: number): string {
  const out: string[] = [];
  let n = 0;
  let x = seed;
  while (n < bytes) {
    x = (x * 1103515245 + 12345) >>> 0;
    const w = WORDS[x % WORDS.length]!;
    out.push(w);
    n += w.length + 1;
  }
  return out.join(' ').slice(0, bytes);
}

/** Reads every doc of `file` through read.jsonl; returns the docs and text bytes seen. */
async function readAll(file: string, maxLineBytes?: number): Promise<number> {
  const ctx = localTaskContext();
  try {
    const src = jsonl(file, { splitBytes: 1 << 30, ...(maxLineBytes ? { maxLineBytes } : {}) });
    const [part] = await src.plan(ctx);
    let docs = 0;
    for await (const b of src.read(part!, ctx)) docs += b.length;
    return docs;
  } finally {
    ctx.dispose();
  }
}

/** The splitter before the fix: the partial line was joined with each new chunk. */
async function* quadraticLines(stream: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  let carry: Buffer | undefined;
  for await (const chunk of stream) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      yield carry ? Buffer.concat([carry, chunk.subarray(start, nl)]) : chunk.subarray(start, nl);
      carry = undefined;
      start = nl + 1;
    }
    if (start < chunk.length) carry = carry ? Buffer.concat([carry, chunk.subarray(start)]) : Buffer.from(chunk.subarray(start));
  }
  if (carry) yield carry;
}

function chunked(buf: Buffer, size = 1 << 20): AsyncIterable<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) parts.push(buf.subarray(i, i + size));
  return Readable.from(parts);
}

const bench: Bench = {
  id: 'jsonl',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-jsonl-'));
    try {
      const long = join(dir, 'long.jsonl');
      writeFileSync(long, JSON.stringify({ id: 'one', text: text(TOTAL - 30, 1) }) + '\n');
      const short = join(dir, 'short.jsonl');
      const rows: string[] = [];
      for (let n = 0, i = 0; n < TOTAL; i++) {
        const r = JSON.stringify({ id: `d${i}`, text: text(1000, i) });
        rows.push(r);
        n += r.length + 1;
      }
      writeFileSync(short, rows.join('\n') + '\n');
      // Interleaved, so a burst of load on a shared machine hits both; wall and CPU time each.
      const wall = { long: [] as number[], short: [] as number[] };
      const cpu = { long: [] as number[], short: [] as number[] };
      await readAll(long);
      await readAll(short);
      for (let i = 0; i < 5; i++) {
        for (const [k, f] of [['long', long], ['short', short]] as const) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          await readAll(f);
          wall[k].push((performance.now() - t0) / 1000);
          const c = process.cpuUsage(c0);
          cpu[k].push((c.user + c.system) / 1e6);
        }
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const tLong = median(wall.long);
      const tShort = median(wall.short);
      const cLong = median(cpu.long);
      const cShort = median(cpu.short);
      // The splitters alone on one 5 MB line in 1 MiB chunks… and in 64 KiB chunks (S3, gunzip).
      const five = Buffer.from(text(5_000_000, 7));
      const count = async (it: AsyncIterable<unknown>) => {
        let k = 0;
        for await (const _ of it) k++;
        return k;
      };
      const tNew64 = await medianSeconds(() => count(lines(chunked(five, 64 << 10))));
      const tOld64 = await medianSeconds(() => count(quadraticLines(chunked(five, 64 << 10))));
      const ratio = tLong / tShort;
      const cpuRatio = cLong / cShort;
      const mb = TOTAL / 1e6;
      return {
        title: 'read.jsonl: one 50 MB line against 50 MB of 1 KB lines',
        rows: [
          { name: 'read.jsonl, one 50 MB line', value: mb / tLong, unit: 'MB/s', ratio: `${ratio.toFixed(2)}× the time of short lines`, note: `${tLong.toFixed(2)} s` },
          { name: 'read.jsonl, 50 MB of ~1 KB lines', value: mb / tShort, unit: 'MB/s', note: `${tShort.toFixed(2)} s, ${rows.length.toLocaleString('en-US')} docs` },
          { name: 'read.jsonl, one 50 MB line, per CPU second', value: mb / cLong, unit: 'MB/s', ratio: `${cpuRatio.toFixed(2)}× the CPU time of short lines`, note: 'user+system CPU time of this process: robust to other jobs on the machine' },
          { name: 'read.jsonl, 50 MB of ~1 KB lines, per CPU second', value: mb / cShort, unit: 'MB/s' },
          { name: 'lines(): one 5 MB line in 64 KiB chunks', value: 5 / tNew64, unit: 'MB/s', ratio: `${(tOld64 / tNew64).toFixed(0)}× the old splitter` },
          { name: 'old splitter (re-joins per chunk, reference): one 5 MB line in 64 KiB chunks', value: 5 / tOld64, unit: 'MB/s' },
        ],
        notes: `Goal: one 50 MB line in ≤ 2× the time of 50 MB of short lines — wall time ${ratio <= 2 ? 'met' : 'not met'} (${ratio.toFixed(2)}×), CPU time ${cpuRatio <= 2 ? 'met' : 'not met'} (${cpuRatio.toFixed(2)}×); load average during the run ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores. Both files are JSONL of generated English-like words (ASCII), read from local disk in 1 MiB chunks through the full read.jsonl path; the long line costs one join of its pieces, UTF-8 validation, one decode to a string and a scan for its quotes, escapes and control characters: its string value is returned as a slice of the decoded line, not copied again as JSON.parse would (operators/read/json-line.ts). The old splitter's time grows with the square of the line length over the chunk size (77 chunks here; a 50 MB line from a gunzip stream is ~800 chunks of 64 KiB). Medians of 5 interleaved runs after a warm-up (the splitter rows: 3).`,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
export default bench;
