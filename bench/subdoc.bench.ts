/**
 * Deduplication below the document (issue 20 §3):
 *
 * 1. `dedup.paragraphs` (unit 'line') on one core over documents built from Shakespeare lines
 *    (runs of consecutive lines plus random lines, so lines repeat), CPU seconds → MB/s of text
 *    per core, median of 3 runs (5 for the stage rows), always with the pipeline's Parquet audit (engine/audit.ts):
 *    - the core (split + MurmurHash3-128 of every line; + the Bloom filter; + the sorted runs);
 *    - the floors, dataset I/O with no dedup: a JSONL pass-through (`sluice apply`'s files) and a
 *      Parquet pass-through (what any stage of a pipeline pays);
 *    - each mode's own work: docs from memory, output counted, so the CPU is the dedup (split,
 *      hash, filter or external sort with its run files, cut) and its audit, without the dataset
 *      I/O the engine does; this is the figure the goal (≥ 50 MB/s per core) is about;
 *    - each mode end to end over JSONL files (in and out), as `sluice apply` runs it;
 *    - the same on corpora where 20% and 0% of lines come from repeating runs, since the cost per
 *      removed span (cut + audit row) is a large part of the time, with a fit of the two.
 * 2. Growth: the three modes (exact stream, exact sort, Bloom) with the Parquet audit at 10 MB, 100 MB and 1 GB of the same corpus
 *    (streamed to disk), each in a fresh process (bench/para-child.ts): MB/s per core and peak
 *    RSS above base.
 * 3. Suffix array construction, each size in a fresh process (bench/sa-child.ts `sharded`): SA-IS
 *    per shard of SUBDOC_BENCH_SA_SHARD tokens (default 2^20, as dedup.substrings), then the
 *    k-way repeat merge streamed from disk: CPU MB/s of uint16 tokens for each, and peak RSS
 *    above the process's state before the work, as a multiple of the input. Goal ≥ 5 MB/s per
 *    core, peak ≤ 10× input.
 *
 * Knobs: SUBDOC_BENCH_PARTS ("paragraphs,growth,sa"), SUBDOC_BENCH_PARA_MB (text MB, default 32),
 * SUBDOC_BENCH_PARA_GROWTH_MB (default "10,100,1000"),
 * SUBDOC_BENCH_SA_MB (token MB per size, default "10,30,100,300,1000"), SUBDOC_BENCH_SA_SHARD. CPU seconds, not wall time:
 * the 2-core machine is shared and loaded.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Bench, BenchRow } from './harness.ts';
import type { Dataset, Doc } from '../engine/types.ts';
import { readDocsParquet, writeDocsParquet } from '../engine/parquet.ts';
import { TaskAudit } from '../engine/audit.ts';
import { jsonlDataset, runExpansionLocal, writeJsonl } from '../operators/dedup/local.ts';
import { paragraphs } from '../operators/dedup/paragraphs.ts';
import { saisBytesPerToken } from '../operators/dedup/sais.ts';
import { CodeUnits, newUnits, parseUnit, splitUnits } from '../operators/dedup/units.ts';
import { BloomFilter } from '../operators/dedup/bloom.ts';
import { HashTable128 } from '../operators/dedup/hash-table.ts';
import { ExternalSorter } from '../operators/dedup/extsort.ts';

const HERE = import.meta.dirname;
const parts = (process.env.SUBDOC_BENCH_PARTS ?? 'paragraphs,growth,sa').split(',');
const paraMB = Number(process.env.SUBDOC_BENCH_PARA_MB ?? 32);
const saSizes = (process.env.SUBDOC_BENCH_SA_MB ?? '10,30,100,300,1000').split(',').map(Number);
const saShard = Number(process.env.SUBDOC_BENCH_SA_SHARD ?? 1 << 20);
const paraGrowthSizes = (process.env.SUBDOC_BENCH_PARA_GROWTH_MB ?? '10,100,1000').split(',').map(Number);

function cpu<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const c0 = process.cpuUsage();
  return fn().then((r) => {
    const c = process.cpuUsage(c0);
    return [r, (c.user + c.system) / 1e6];
  });
}

/**
 * The paragraph corpus's documents, in order, until `mb` MB of text: 40 Shakespeare lines each,
 * a share `runs` (default 70%) from a run of consecutive lines at a random start (so lines repeat
 * across documents) and the rest random lines with a random number appended (mostly unique).
 * The same seeded sequence for every size, so a smaller corpus is a prefix of a larger one.
 */
function* paraTexts(mb: number, runs = 0.7): Generator<string> {
  const lines = readFileSync(join(HERE, '../../shared/data/tinyshakespeare/input.txt'), 'utf8').split('\n');
  let seed = 7;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  let bytes = 0;
  while (bytes < mb * 1e6) {
    const out: string[] = [];
    const s = Math.floor(rnd() * (lines.length - 40));
    for (let i = 0; i < 40; i++) out.push(rnd() < runs ? lines[s + i]! : lines[Math.floor(rnd() * lines.length)]! + ` ${Math.floor(rnd() * 1e6)}`);
    const t = out.join('\n');
    bytes += Buffer.byteLength(t);
    yield t;
  }
}

function corpus(dir: string, mb: number, runs = 0.7): { paths: string[]; texts: string[]; docs: Doc[][]; bytes: number } {
  const texts = [...paraTexts(mb, runs)];
  const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
  mkdirSync(join(dir, 'in'), { recursive: true });
  const paths: string[] = [];
  const docs: Doc[][] = [];
  const per = Math.ceil(texts.length / 4);
  for (let f = 0; f < 4; f++) {
    const p = join(dir, 'in', `part-${f}.jsonl`);
    docs.push(texts.slice(f * per, (f + 1) * per).map((text, i) => ({ id: `f${f}-${i}`, text, meta: {} })));
    writeFileSync(p, docs[f]!.map((d) => JSON.stringify(d)).join('\n') + '\n');
    paths.push(p);
  }
  return { paths, texts, docs, bytes };
}

/**
 * The corpus's files as a dataset whose docs come from memory, batches of 256 as the JSONL reader
 * yields them: each file's texts are one Buffer, decoded per doc as it is read, so the JS heap
 * stays as small as a streaming stage's (holding the corpus as 26,745 strings made every full
 * collection mark 46 MB: 18 → 23 MB/s for the exact mode measured both ways). With a counting
 * doc sink, a run measures the stage's own work.
 */
function memoryDataset(paths: string[], docs: Doc[][]): Dataset {
  const base = jsonlDataset('input', dirname(paths[0]!), paths);
  const packed = docs.map((ds) => {
    const texts = ds.map((d) => Buffer.from(d.text, 'utf8'));
    const ends = new Uint32Array(ds.length + 1);
    texts.forEach((t, i) => (ends[i + 1] = ends[i]! + t.length));
    return { ids: ds.map((d) => d.id), text: Buffer.concat(texts), ends };
  });
  return {
    ...base,
    async *readDocs(which = paths) {
      for (const f of which) {
        const p = packed[paths.indexOf(f)]!;
        for (let i = 0; i < p.ids.length; i += 256) {
          const batch: Doc[] = [];
          for (let j = i; j < Math.min(i + 256, p.ids.length); j++) batch.push({ id: p.ids[j]!, text: p.text.toString('utf8', p.ends[j]!, p.ends[j + 1]!), meta: {} });
          yield batch;
        }
      }
    },
  };
}

/** A doc sink that only counts (LocalRunOptions.writeDocs). */
async function countDocs(_path: string, docs: AsyncIterable<Doc[]>): Promise<number> {
  let n = 0;
  for await (const b of docs) n += b.length;
  return n;
}

/**
 * Writes `mb` MB of the paragraph corpus under `dir/in` as JSONL files of ~32 MB of text each
 * (streamed: the corpus is never in memory); returns its text bytes, documents and lines.
 */
export function writeParaCorpus(dir: string, mb: number): { bytes: number; docs: number; lines: number } {
  mkdirSync(join(dir, 'in'), { recursive: true });
  let bytes = 0;
  let docs = 0;
  let lines = 0;
  let file = -1;
  let fileBytes = Infinity;
  let fd = -1;
  let chunk: string[] = [];
  const flush = () => {
    if (chunk.length) writeSync(fd, chunk.join(''));
    chunk = [];
  };
  for (const text of paraTexts(mb)) {
    if (fileBytes >= 32e6) {
      if (fd >= 0) {
        flush();
        closeSync(fd);
      }
      fd = openSync(join(dir, 'in', `part-${String(++file).padStart(4, '0')}.jsonl`), 'w');
      fileBytes = 0;
    }
    chunk.push(JSON.stringify({ id: `f${file}-${docs}`, text, meta: {} }) + '\n');
    if (chunk.length >= 1000) flush();
    const b = Buffer.byteLength(text);
    bytes += b;
    fileBytes += b;
    docs++;
    lines += 40;
  }
  flush();
  closeSync(fd);
  return { bytes, docs, lines };
}

/**
 * `dedup.paragraphs` from 10 MB to 1 GB (SUBDOC_BENCH_PARA_GROWTH_MB), each mode with the
 * Parquet audit, each size and mode in a fresh process (bench/para-child.ts): CPU MB/s and the
 * peak RSS above the process's base, to show throughput and memory as the corpus grows.
 */
function paraGrowth(): { rows: BenchRow[]; note: string } {
  const rows: BenchRow[] = [];
  const table: string[] = [];
  for (const mb of paraGrowthSizes) {
    const dir = mkdtempSync(join(tmpdir(), 'subdoc-growth-'));
    try {
      const c = writeParaCorpus(dir, mb);
      const mbIn = c.bytes / 1e6;
      // The default budget first; where its table filled, the stream strategy again with a
      // budget that holds the corpus's distinct lines (what a user with the memory would set).
      const runs: Array<{ mode: 'exact' | 'sort' | 'bloom'; bufferMB?: number }> = [{ mode: 'exact' }, { mode: 'sort' }, { mode: 'bloom' }];
      for (let i = 0; i < runs.length; i++) {
        const { mode, bufferMB } = runs[i]!;
        let r: { cpuS: number; spans: number; peakAboveBase: number; logs: string[] };
        try {
          r = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(HERE, 'para-child.ts'), dir, mode, String(c.lines), ...(bufferMB ? [String(bufferMB)] : [])], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim());
        } catch (e) {
          table.push(`| ${mb} MB | ${mode} | failed: ${(e as Error).message.split('\n')[0]} | | | |`);
          continue;
        }
        const frozen = /table full at file (\d+) row (\d+)/.exec(r.logs.join('\n'));
        if (mode === 'exact' && frozen && !bufferMB) runs.splice(i + 1, 0, { mode: 'exact', bufferMB: 512 });
        const budget = bufferMB ? `, bufferMB ${bufferMB}` : '';
        const modeName = mode === 'exact' ? `exact (stream${budget})` : mode === 'sort' ? 'exact, sort strategy' : 'bloom';
        rows.push({ name: `dedup.paragraphs ${modeName}, Parquet audit, ${mb} MB (growth), 1 core`, value: mbIn / r.cpuS, unit: 'MB/s', note: `${r.cpuS.toFixed(1)} CPU s; ${r.spans} spans; peak ${(r.peakAboveBase / 2 ** 20).toFixed(0)} MiB above base` });
        const label = mode === 'exact' ? `exact stream${budget}${frozen ? ` (table frozen at file ${frozen[1]} row ${frozen[2]})` : ''}` : mode === 'sort' ? 'exact sort' : 'bloom';
        table.push(`| ${mb} MB | ${label} | ${c.docs} docs, ${r.spans} spans | ${r.cpuS.toFixed(1)} | ${(mbIn / r.cpuS).toFixed(1)} | ${(r.peakAboveBase / 2 ** 20).toFixed(0)} MiB (${(r.peakAboveBase / c.bytes).toFixed(2)}× input) |`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const note = [
    'Growth of `dedup.paragraphs` (line units, Parquet audit, one process per size and mode, JSONL files of ~32 MB of text; a fresh process also pays JIT warm-up and compiling parquet-wasm, most of the 10 MB rows\' time). The exact stream strategy (the default) keeps its table and kept ids within `bufferMB` (64 MiB); once the corpus has more distinct lines than that holds, the table is frozen and the rest goes through the external sort in the same task (a second 64 MiB sort buffer, run files in scratch), so memory stops growing there; where that happened, the stream strategy runs again with `bufferMB` 512, whose table holds all the corpus\'s distinct lines (16M slots, 320 MiB, and the kept ids). The sort strategy\'s memory is capped by its sort buffers, `bufferMB` 64 per task (buffers grow by doubling and each spill writes a sorted copy, so up to ~2.5× that): a larger corpus spills more runs, not more memory. Bloom mode holds its filter, sized for the corpus\'s line count at fpRate 1e-6 (4.9 bytes per expected line: 157 MiB at 1 GB), so its memory grows with the corpus by design.',
    '',
    '| text | mode | corpus | CPU s | MB/s per core | peak RSS above base |',
    '|---|---|---|---|---|---|',
    ...table,
  ].join('\n');
  return { rows, note };
}

async function paragraphRows(): Promise<{ rows: BenchRow[]; note: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'subdoc-bench-'));
  try {
    const c = corpus(dir, paraMB);
    const mb = c.bytes / 1e6;
    const nDocs = c.texts.length;
    const rows: BenchRow[] = [];
    const unit = parseUnit('line');
    const scratch = newUnits(); // reused across documents, as the operator does
    const codes = new CodeUnits(); // each document's code units loaded once, its units hashed from them
    const h = new Uint32Array(4);
    const [units, coreS] = await cpu(async () => {
      let n = 0;
      for (const t of c.texts) {
        const u = splitUnits(t, unit, 1, scratch);
        if (u.count) codes.load(t);
        for (let i = 0; i < u.count; i++) codes.hash(u.keyStart[i]!, u.keyEnd[i]!, h);
        n += u.count;
      }
      return n;
    });
    rows.push({ name: 'split + hash (core), line units', value: mb / coreS, unit: 'MB/s', note: `${units} lines, ${coreS.toFixed(2)} CPU s` });
    // The dedup work of each mode without document I/O or audit records.
    let bloomInfo = '';
    const [bloomRemoved, bloomS] = await cpu(async () => {
      const bloom = new BloomFilter(2_000_000, 1e-6);
      bloomInfo = `blocked filter ${(bloom.bytes / 2 ** 20).toFixed(1)} MiB, k = ${bloom.k}`;
      // As the operator does: a document's hashes first, their blocks touched, then the probes.
      let hs = new Uint32Array(4 * 64);
      let rep = 0;
      let touched = 0;
      for (const t of c.texts) {
        const u = splitUnits(t, unit, 1, scratch);
        if (4 * u.count > hs.length) hs = new Uint32Array(8 * u.count);
        if (u.count) codes.load(t);
        for (let i = 0; i < u.count; i++) codes.hash(u.keyStart[i]!, u.keyEnd[i]!, hs, 4 * i);
        touched ^= bloom.touch(hs, u.count);
        for (let i = 0; i < u.count; i++) if (bloom.testAndAdd(hs, 4 * i)) rep++;
      }
      return rep + (touched & 0);
    });
    rows.push({ name: 'split + hash + Bloom test-and-insert (bloom mode core)', value: mb / bloomS, unit: 'MB/s', note: `${bloomS.toFixed(2)} CPU s, ${bloomRemoved} repeats; ${bloomInfo}, 2M expected at fpRate 1e-6` });
    let tableInfo = '';
    const [tableRemoved, tableS] = await cpu(async () => {
      const table = new HashTable128(16 << 20);
      let hs = new Uint32Array(4 * 64);
      let hi = new Int32Array(hs.buffer);
      let rep = 0;
      for (let d = 0; d < c.texts.length; d++) {
        const t = c.texts[d]!;
        const u = splitUnits(t, unit, 1, scratch);
        if (4 * u.count > hs.length) {
          hs = new Uint32Array(8 * u.count);
          hi = new Int32Array(hs.buffer);
        }
        if (u.count) codes.load(t);
        for (let i = 0; i < u.count; i++) codes.hash(u.keyStart[i]!, u.keyEnd[i]!, hs, 4 * i);
        table.reserve(u.count, 64 << 20);
        // As the operator does: the document's home slots touched, then the probes.
        table.touch(hi, u.count);
        for (let i = 0; i < u.count; i++) if (table.getOrAdd(hi, 4 * i, d) >= 0) rep++;
      }
      tableInfo = `table ${table.size} lines in ${(table.bytes / 2 ** 20).toFixed(0)} MiB`;
      return rep;
    });
    rows.push({ name: 'split + hash + exact table get-or-add (exact stream strategy core)', value: mb / tableS, unit: 'MB/s', note: `${tableS.toFixed(2)} CPU s, ${tableRemoved} repeats; ${tableInfo}` });
    const [runs, sortS] = await cpu(async () => {
      let spilled = 0;
      const sorter = new ExternalSorter({ keyWords: 7, partitions: 4, bufferBytes: 64 << 20, spill: async () => void spilled++ });
      const key = new Uint32Array(7);
      const enc = new TextEncoder();
      for (let d = 0; d < c.texts.length; d++) {
        const t = c.texts[d]!;
        const u = splitUnits(t, unit, 1, scratch);
        const id = enc.encode(`doc-${d}`);
        if (u.count) codes.load(t);
        for (let i = 0; i < u.count; i++) {
          codes.hash(u.keyStart[i]!, u.keyEnd[i]!, key);
          key[4] = 0;
          key[5] = d;
          key[6] = i;
          if (sorter.push(key[0]! % 4, key, id)) await sorter.spillAll();
        }
      }
      await sorter.finish();
      return spilled;
    });
    rows.push({ name: 'split + hash + sorted runs (exact sort strategy, first stage core)', value: mb / sortS, unit: 'MB/s', note: `${sortS.toFixed(2)} CPU s, ${runs} runs (64 MiB buffer), no storage writes` });
    const input = jsonlDataset('input', join(dir, 'in'), c.paths);
    const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const passS: number[] = [];
    for (let rep = 0; rep < 3; rep++) {
      const [, s] = await cpu(async () => {
        for (let f = 0; f < c.paths.length; f++) await writeJsonl(join(dir, `pass-${f}.jsonl`), input.readDocs([c.paths[f]!]));
      });
      passS.push(s);
    }
    rows.push({ name: 'floor: JSONL pass-through (read + write every doc, no dedup), 1 core', value: mb / median(passS), unit: 'MB/s', note: `${median(passS).toFixed(2)} CPU s; what the local runner's JSONL input and output cost any stage here` });
    // What any stage pays in a pipeline, whose datasets are Parquet: read and write every doc.
    const pqPassS: number[] = [];
    const pqIn = join(dir, 'pq-in.parquet');
    await writeDocsParquet(pqIn, input.readDocs([c.paths[0]!]));
    for (let rep = 0; rep < 3; rep++) {
      const [, s] = await cpu(() => writeDocsParquet(join(dir, 'pq-out.parquet'), readDocsParquet(pqIn)));
      pqPassS.push(s);
    }
    const pqMB = c.docs[0]!.reduce((n, d) => n + Buffer.byteLength(d.text), 0) / 1e6;
    rows.push({ name: 'floor: Parquet doc pass-through (read + write every doc, as a pipeline stage does), 1 core', value: pqMB / median(pqPassS), unit: 'MB/s', note: `${median(pqPassS).toFixed(2)} CPU s for the first file (${pqMB.toFixed(1)} MB of text); the dataset I/O of any stage in a pipeline (parquet-wasm, zstd), whatever it does` });
    const bloomOpts = { unit: 'line', bloom: { expected: 2_000_000, fpRate: 1e-6 } };
    /**
     * Runs the whole stage 5 times over `ds` (its text `bytes`) with the pipeline's Parquet audit
     * (5, not 3: single runs on this VM spread ±15%, and a run takes ~0.5–1.7 CPU s);
     * `own`: docs from memory and counted, not written, so the CPU is the stage's own work (split,
     * hash, Bloom or sort with its spills, cut, and the audit); else JSONL files in and out, as
     * `sluice apply` runs it. The median as a row.
     */
    const stageRow = async (label: string, ds: Dataset, bytes: number, opts: Parameters<typeof paragraphs>[0], own: boolean) => {
      const secs: number[] = [];
      let drops = 0;
      let removed = 0;
      for (let rep = 0; rep < 5; rep++) {
        const work = join(dir, `w-${rows.length}-${rep}`);
        const audit = new TaskAudit(join(work, '_audit'), 0);
        const [, s] = await cpu(async () => {
          await runExpansionLocal(paragraphs(opts), 'dedup', ds, { workdir: work, audit, workers: 1, ...(own ? { writeDocs: countDocs } : {}) });
          await audit.close();
        });
        secs.push(s);
        drops = audit.operators['dedup.paragraphs']?.drops['dedup.duplicateLine'] ?? 0;
        removed = audit.operators['dedup.paragraphs']?.dropBytes?.['dedup.duplicateLine'] ?? 0;
        rmSync(work, { recursive: true, force: true });
      }
      const s = median(secs);
      const share = `${((removed / bytes) * 100).toFixed(1)}% of bytes removed in ${drops} spans (${Math.round(drops / (bytes / 1e6))} per MB), each a row of the Parquet audit (engine/audit.ts TaskAudit, as in a pipeline run)`;
      rows.push({ name: label, value: bytes / 1e6 / s, unit: 'MB/s', note: `${s.toFixed(2)} CPU s (median of ${secs.map((x) => x.toFixed(2)).join(', ')}); ${own ? 'docs from memory, output counted' : 'JSONL files in and out'}; ${share}` });
      return { s, drops, mb: bytes / 1e6 };
    };
    // Each streaming mode's own work on the three corpora, for the fit in the note.
    const bloomOwn: Array<{ s: number; drops: number; mb: number }> = [];
    const streamOwn: Array<{ s: number; drops: number; mb: number }> = [];
    const sortOpts = { unit: 'line', strategy: 'sort' as const };
    const mem = memoryDataset(c.paths, c.docs);
    // The strings are packed into Buffers now: let them go, so the heap is a streaming stage's.
    c.texts.length = 0;
    c.docs.length = 0;
    streamOwn.push(await stageRow('dedup.paragraphs exact (default: stream strategy, 1 stage), own work + Parquet audit, 1 core', mem, c.bytes, { unit: 'line' }, true));
    await stageRow('dedup.paragraphs exact, sort strategy (3 stages, external sort), own work + Parquet audit, 1 core', mem, c.bytes, sortOpts, true);
    bloomOwn.push(await stageRow('dedup.paragraphs bloom (1 streaming stage), own work + Parquet audit, 1 core', mem, c.bytes, bloomOpts, true));
    await stageRow('dedup.paragraphs exact (stream), JSONL in/out + Parquet audit, 1 core', input, c.bytes, { unit: 'line' }, false);
    await stageRow('dedup.paragraphs exact, sort strategy, JSONL in/out + Parquet audit, 1 core', input, c.bytes, sortOpts, false);
    await stageRow('dedup.paragraphs bloom, JSONL in/out + Parquet audit, 1 core', input, c.bytes, bloomOpts, false);
    // The same stages on corpora with fewer repeated lines: the per-span cost is a large part of
    // the time above, so the figure depends on how much a corpus repeats.
    for (const runs of [0.2, 0]) {
      const d = join(dir, `runs-${runs}`);
      const cd = corpus(d, paraMB, runs);
      const ds = jsonlDataset('input', join(d, 'in'), cd.paths);
      const dm = memoryDataset(cd.paths, cd.docs);
      cd.texts.length = 0;
      cd.docs.length = 0;
      const pct = `${Math.round(runs * 100)}% run lines`;
      streamOwn.push(await stageRow(`dedup.paragraphs exact (stream), own work + Parquet audit, ${pct}, 1 core`, dm, cd.bytes, { unit: 'line' }, true));
      await stageRow(`dedup.paragraphs exact, sort strategy, own work + Parquet audit, ${pct}, 1 core`, dm, cd.bytes, sortOpts, true);
      bloomOwn.push(await stageRow(`dedup.paragraphs bloom, own work + Parquet audit, ${pct}, 1 core`, dm, cd.bytes, bloomOpts, true));
      await stageRow(`dedup.paragraphs exact (stream), JSONL in/out + Parquet audit, ${pct}, 1 core`, ds, cd.bytes, { unit: 'line' }, false);
    }
    // Least squares of CPU seconds per MB against spans per MB over the three corpora: the cost
    // of a removed span, and the most spans per MB at which 50 MB/s per core still holds.
    const fitOf = (label: string, runs: Array<{ s: number; drops: number; mb: number }>) => {
      const xs = runs.map((r) => r.drops / r.mb);
      const ys = runs.map((r) => r.s / r.mb);
      const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
      const my = ys.reduce((a, b) => a + b, 0) / ys.length;
      const slope = xs.reduce((a, x, i) => a + (x - mx) * (ys[i]! - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
      const base = my - slope * mx;
      return `${label}: ${(base * 1e3).toFixed(1)} CPU ms per MB plus ${(slope * 1e6).toFixed(2)} µs per removed span, so 50 MB/s per core (20 ms per MB) holds up to ${slope > 0 ? Math.max(0, Math.floor((0.02 - base) / slope)) : '∞'} spans per MB (this corpus: ${Math.round(xs[0]!)})`;
    };
    const fit = `Own work with the Parquet audit, fitted over the three corpora. ${fitOf('Exact (stream)', streamOwn)}. ${fitOf('Bloom', bloomOwn)}.`;
    return { rows, note: `Paragraph corpus: ${mb.toFixed(1)} MB of text in ${nDocs} documents (4 JSONL files) of 40 Shakespeare lines each, 70% of them from runs of consecutive lines (so they repeat across documents) and 30% random lines with a random number appended; the "20% / 0% run lines" rows use corpora of the same size with those shares. "Own work" rows run the stage on docs held in memory and count its output instead of writing it: the CPU of the dedup itself (splitting, hashing, the Bloom filter or the external sort with its run files, cutting) and of its audit, without the dataset reads and writes that any stage pays and the engine does (the floor rows measure those: Parquet in a pipeline, JSONL for \`sluice apply\`). ${fit}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function saRows(): { rows: BenchRow[]; note: string } {
  const rows: BenchRow[] = [];
  const growth: string[] = [];
  for (const mb of saSizes) {
    const tokens = Math.round((mb * 1e6) / 2);
    let r: { tokens: number; inputBytes: number; shards: number; buildS: number; mergeS: number; cpuS: number; buildPeakAboveBase: number; peakAboveBase: number; removedShare: number };
    try {
      r = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(HERE, 'sa-child.ts'), String(tokens), 'sharded', String(saShard)], { encoding: 'utf8', maxBuffer: 1 << 20 }).trim());
    } catch (e) {
      growth.push(`| ${mb} MB | failed: ${(e as Error).message.split('\n')[0]} | | | | | |`);
      continue;
    }
    const mbIn = r.inputBytes / 1e6;
    rows.push({ name: `SA construction, ${mb} MB of uint16 tokens (${r.shards} shards)`, value: mbIn / r.buildS, unit: 'MB/s', note: `${r.buildS.toFixed(1)} CPU s; build peak ${(r.buildPeakAboveBase / r.inputBytes).toFixed(1)}× input` });
    rows.push({ name: `repeat merge over the shards, ${mb} MB`, value: mbIn / r.mergeS, unit: 'MB/s', note: `${r.mergeS.toFixed(1)} CPU s; SA + merge ${(mbIn / r.cpuS).toFixed(2)} MB/s; peak ${(r.peakAboveBase / r.inputBytes).toFixed(1)}× input` });
    const ns = (s: number) => ((s / r.tokens) * 1e9).toFixed(0);
    growth.push(`| ${mb} MB | ${(r.tokens / 1e6).toFixed(0)}M | ${r.shards} | ${r.buildS.toFixed(1)} (${ns(r.buildS)}) | ${r.mergeS.toFixed(1)} (${ns(r.mergeS)}) | ${(mbIn / r.cpuS).toFixed(2)} | ${(r.peakAboveBase / 2 ** 20).toFixed(0)} MiB (${(r.peakAboveBase / r.tokens).toFixed(1)} B/token, ${(r.peakAboveBase / r.inputBytes).toFixed(1)}× input) |`);
  }
  const note = [
    `Suffix arrays per shard of ${saShard} tokens (sa-shards.ts: SA-IS over the shard plus minTokens = 50 tokens of overlap), each written to a temp file, then the k-way repeat merge (repeats.ts) streaming them back (256 KiB reads) over the uint16 text. Memory by construction: per shard build, the array ${saisBytesPerToken.array} bytes/token (Int32) + SA-IS workspace ≤ ${saisBytesPerToken.workspace} bytes/token worst case, for one shard at a time; the merge holds the text (2 bytes/token for 16-bit ids, in the base here) + 1 flag byte/token + per shard a read buffer and a 16K-suffix key window (~0.5 MiB).`,
    '',
    '| tokens (uint16) | count | shards | build CPU s (ns/token) | merge CPU s (ns/token) | SA + merge MB/s | peak RSS above base (text in base) |',
    '|---|---|---|---|---|---|---|',
    ...growth,
  ].join('\n');
  return { rows, note };
}

const bench: Bench = {
  id: 'subdoc',
  async run() {
    const rows: BenchRow[] = [];
    const notes: string[] = [];
    if (parts.includes('paragraphs')) {
      const p = await paragraphRows();
      rows.push(...p.rows);
      notes.push(p.note);
    }
    if (parts.includes('growth')) {
      const g = paraGrowth();
      rows.push(...g.rows);
      notes.push(g.note);
    }
    if (parts.includes('sa')) {
      const s = saRows();
      rows.push(...s.rows);
      notes.push(s.note);
    }
    notes.push('', `Measured as CPU seconds of one process (user + system), not wall time: the 2-core machine was shared and loaded. \`SUBDOC_BENCH_SA_MB=${saSizes.join(',')}\`, \`SUBDOC_BENCH_SA_SHARD=${saShard}\`, \`SUBDOC_BENCH_PARA_MB=${paraMB}\`, \`SUBDOC_BENCH_PARA_GROWTH_MB=${paraGrowthSizes.join(',')}\`.`);
    return { title: 'Deduplication below the document (dedup.paragraphs, sharded suffix arrays for dedup.substrings)', rows, notes: notes.join('\n\n') };
  },
};
export default bench;
