/**
 * read.warc throughput on a ~100 MB multi-member .warc.gz (Common Crawl layout: one gzip member
 * per record), in MB/s of compressed input, against node zlib's gunzip stream alone over the
 * same file, in the same process. The file is built at bench time in a temp dir from the shared
 * samples' records (iana, dolma, whirlwind), each copy with a fresh WARC-Record-ID, and removed
 * afterwards. `SLUICE_BENCH_WARC_MB` changes its size.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { localTaskContext } from '../engine/testing.ts';
import { gunzipMembers } from '../operators/read/warc/gzip.ts';
import { warc } from '../operators/read/warc/source.ts';
import { dataPath } from '../test/helpers/data.ts';
import { medianSeconds, ratio, type Bench } from './harness.ts';

const SAMPLES = [
  ['pywb-sample-warcs', 'iana.warc.gz'],
  ['dolma-testdata', 'warc__sample-0000.warc.gz'],
  ['dolma-testdata', 'warc__sample-0001.warc.gz'],
  ['cc-whirlwind', 'whirlwind.warc.gz'],
] as const;

/** The decompressed records (one per member) of the shared samples. */
async function sampleRecords(): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const [dir, file] of SAMPLES) {
    const path = dataPath(dir, file);
    if (!existsSync(path)) throw new Error(`warc bench: shared sample ${path} is missing`);
    for await (const s of gunzipMembers(createReadStream(path))) {
      if (s.kind !== 'data') throw new Error(`warc bench: ${path}: ${s.reason}`);
      if (s.memberStart) out.push(s.data);
      else out[out.length - 1] = Buffer.concat([out[out.length - 1]!, s.data]);
    }
  }
  return out;
}

const ID = /WARC-Record-ID: <urn:uuid:[0-9A-Fa-f-]{36}>/;

/** Writes copies of the records, each with a new record id, one gzip member each, until `bytes`. */
export async function buildFile(path: string, bytes: number): Promise<{ records: number }> {
  const recs = await sampleRecords();
  const ws = createWriteStream(path);
  let size = 0;
  let records = 0;
  while (size < bytes) {
    for (const r of recs) {
      const head = r.toString('latin1', 0, Math.min(r.length, 2048));
      const m = ID.exec(head);
      let rec = r;
      if (m) {
        rec = Buffer.from(r);
        rec.write(`WARC-Record-ID: <urn:uuid:${randomUUID()}>`, m.index, 'latin1');
      }
      const member = zlib.gzipSync(rec, { level: 6 });
      if (!ws.write(member)) await new Promise<void>((res) => ws.once('drain', () => res()));
      size += member.length;
      records++;
      if (size >= bytes) break;
    }
  }
  await new Promise<void>((res, rej) => ws.end((e?: Error | null) => (e ? rej(e) : res())));
  return { records };
}

async function readAll(path: string, opts: Parameters<typeof warc>[1]): Promise<number> {
  const src = warc(path, opts);
  const ctx = localTaskContext();
  let docs = 0;
  try {
    const [part] = await src.plan({ workdir: ctx.workdir, baseDir: ctx.baseDir, storage: ctx.storage });
    for await (const b of src.read(part!, ctx)) docs += b.length;
  } finally {
    ctx.dispose();
  }
  return docs;
}

function gunzipAlone(path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    const g = zlib.createGunzip();
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('error', reject)
      .pipe(g)
      .on('data', (d: Buffer) => (n += d.length))
      .on('end', () => resolve(n))
      .on('error', reject);
  });
}

const bench: Bench = {
  id: 'warc',
  async run() {
    const mb = Number(process.env.SLUICE_BENCH_WARC_MB ?? 100);
    const dir = mkdtempSync(join(tmpdir(), 'sluice-warc-bench-'));
    try {
      const path = join(dir, 'bench.warc.gz');
      const { records } = await buildFile(path, mb * 1e6);
      const size = statSync(path).size;
      let docsHtml = 0;
      let docsAll = 0;
      let plain = 0;
      const tZlib = await medianSeconds(async () => (plain = await gunzipAlone(path)));
      const whole = readFileSync(path);
      const tSync = await medianSeconds(() => zlib.gunzipSync(whole).length);
      const tHtml = await medianSeconds(async () => (docsHtml = await readAll(path, {})));
      const tAll = await medianSeconds(async () => (docsAll = await readAll(path, { mimeTypes: '*' })));
      const zl = size / 1e6 / tZlib;
      const html = size / 1e6 / tHtml;
      const all = size / 1e6 / tAll;
      return {
        title: 'read.warc: multi-member .warc.gz',
        rows: [
          { name: 'node zlib gunzip stream (peer)', value: +zl.toFixed(1), unit: 'MB/s', note: `${(plain / 1e6).toFixed(0)} MB out` },
          { name: 'node zlib gunzipSync, whole file in memory (peer)', value: +(size / 1e6 / tSync).toFixed(1), unit: 'MB/s', ratio: ratio(size / 1e6 / tSync, zl, 'zlib stream'), note: 'not streaming: for reference' },
          { name: 'sluice read.warc (HTML docs)', value: +html.toFixed(1), unit: 'MB/s', ratio: ratio(html, zl, 'zlib'), note: `${docsHtml} docs` },
          { name: 'sluice read.warc (all MIME types)', value: +all.toFixed(1), unit: 'MB/s', ratio: ratio(all, zl, 'zlib'), note: `${docsAll} docs` },
        ],
        notes:
          `Input: ${(size / 1e6).toFixed(1)} MB compressed, ${records} records (${(plain / 1e6).toFixed(0)} MB decompressed), one gzip member per record, ` +
          'built at bench time from the shared iana, dolma and whirlwind samples with fresh record ids. MB/s are of compressed input; ' +
          'read.warc parses every record, decodes HTTP (chunked, content-encoding), decides and decodes the charset and builds docs. ' +
          `Goal: ≥ 0.7× zlib alone (the gunzip stream, which like read.warc never holds the file) — ${html / zl >= 0.7 ? 'met' : 'not met'} (${(html / zl).toFixed(2)}×). ` +
          'Where the time goes (CPU profile, 16-core idle machine): inflating members 38%, building the doc strings 23%, GC 7%, CRC32 3.5%, record and HTTP parsing the rest. ' +
          'The same bench on the 16-core host of the lent H200 measured 0.72× (read.warc 33.7 MB/s, zlib stream 46.7 MB/s). On the 2-core VM the doc strings cost far more: ' +
          'a string over V8\'s 128 KiB regular-object limit (a one-byte string over 128K characters, a two-byte one over 64K) goes to the large-object space, ' +
          'a fresh mapping per string, and here decoding one runs at ~150 MB/s against ~8 GB/s just under the limit (`Buffer.toString`, 176 KB vs 88 KB, mostly system time). ' +
          'In this file 257 of the 1,362 HTML docs per 30 MB (19%, holding 71% of the text) are that large; such pages are common in Common Crawl, and every consumer of the text pays the same cost, so read.warc does not hide it by returning unflattened pieces. ' +
          'Tried and dropped: inflating the next member on the libuv thread pool (async zlib) while this one is parsed measured 0.45x zlib at 1.7x the CPU time, the per-call overhead outweighing the overlap on members this small. ' +
          'Medians of 3 runs after a warm-up.',
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
