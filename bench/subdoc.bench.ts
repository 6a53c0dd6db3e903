/**
 * Deduplication below the document (issue 20 §3):
 *
 * 1. `dedup.paragraphs` (unit 'line'), all three stages in-process on one core over JSONL files
 *    of documents built from Shakespeare lines (runs of consecutive lines plus random lines, so
 *    lines repeat): CPU seconds → MB/s of text per core, exact and Bloom modes (median of 3 runs),
 *    each with the in-memory test audit and with the pipeline's Parquet audit writer; the core
 *    (split + MurmurHash3-128 of every line) alone; and the floor every end-to-end row pays, a
 *    pass-through of the same JSONL files (read and write every doc). Goal ≥ 50 MB/s per core.
 * 2. Suffix array construction, each size in a fresh process (bench/sa-child.ts `sharded`): SA-IS
 *    per shard of SUBDOC_BENCH_SA_SHARD tokens (default 2^20, as dedup.substrings), then the
 *    k-way repeat merge streamed from disk: CPU MB/s of uint16 tokens for each, and peak RSS
 *    above the process's state before the work, as a multiple of the input. Goal ≥ 5 MB/s per
 *    core, peak ≤ 10× input.
 *
 * Knobs: SUBDOC_BENCH_PARTS ("paragraphs,sa"), SUBDOC_BENCH_PARA_MB (text MB, default 32),
 * SUBDOC_BENCH_SA_MB (token MB per size, default "10,30,100,300,1000"), SUBDOC_BENCH_SA_SHARD. CPU seconds, not wall time:
 * the 2-core machine is shared and loaded.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bench, BenchRow } from './harness.ts';
import { MemoryAudit } from '../engine/testing.ts';
import { TaskAudit } from '../engine/audit.ts';
import { jsonlDataset, runExpansionLocal, writeJsonl } from '../operators/dedup/local.ts';
import { paragraphs } from '../operators/dedup/paragraphs.ts';
import { saisBytesPerToken } from '../operators/dedup/sais.ts';
import { hashRange, newUnits, parseUnit, splitUnits } from '../operators/dedup/units.ts';
import { BloomFilter } from '../operators/dedup/bloom.ts';
import { ExternalSorter } from '../operators/dedup/extsort.ts';

const HERE = import.meta.dirname;
const parts = (process.env.SUBDOC_BENCH_PARTS ?? 'paragraphs,sa').split(',');
const paraMB = Number(process.env.SUBDOC_BENCH_PARA_MB ?? 32);
const saSizes = (process.env.SUBDOC_BENCH_SA_MB ?? '10,30,100,300,1000').split(',').map(Number);
const saShard = Number(process.env.SUBDOC_BENCH_SA_SHARD ?? 1 << 20);

function cpu<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const c0 = process.cpuUsage();
  return fn().then((r) => {
    const c = process.cpuUsage(c0);
    return [r, (c.user + c.system) / 1e6];
  });
}

function corpus(dir: string, mb: number): { paths: string[]; texts: string[]; bytes: number } {
  const lines = readFileSync(join(HERE, '../../shared/data/tinyshakespeare/input.txt'), 'utf8').split('\n');
  let seed = 7;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  const texts: string[] = [];
  let bytes = 0;
  while (bytes < mb * 1e6) {
    const out: string[] = [];
    const s = Math.floor(rnd() * (lines.length - 40));
    for (let i = 0; i < 40; i++) out.push(rnd() < 0.7 ? lines[s + i]! : lines[Math.floor(rnd() * lines.length)]! + ` ${Math.floor(rnd() * 1e6)}`);
    const t = out.join('\n');
    texts.push(t);
    bytes += Buffer.byteLength(t);
  }
  mkdirSync(join(dir, 'in'), { recursive: true });
  const paths: string[] = [];
  const per = Math.ceil(texts.length / 4);
  for (let f = 0; f < 4; f++) {
    const p = join(dir, 'in', `part-${f}.jsonl`);
    writeFileSync(p, texts.slice(f * per, (f + 1) * per).map((text, i) => JSON.stringify({ id: `f${f}-${i}`, text, meta: {} })).join('\n') + '\n');
    paths.push(p);
  }
  return { paths, texts, bytes };
}

async function paragraphRows(): Promise<{ rows: BenchRow[]; note: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'subdoc-bench-'));
  try {
    const c = corpus(dir, paraMB);
    const mb = c.bytes / 1e6;
    const rows: BenchRow[] = [];
    const unit = parseUnit('line');
    const scratch = newUnits(); // reused across documents, as the operator does
    const h = new Uint32Array(4);
    const [units, coreS] = await cpu(async () => {
      let n = 0;
      for (const t of c.texts) {
        const u = splitUnits(t, unit, 1, scratch);
        for (let i = 0; i < u.count; i++) hashRange(t, u.keyStart[i]!, u.keyEnd[i]!, h);
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
        for (let i = 0; i < u.count; i++) hashRange(t, u.keyStart[i]!, u.keyEnd[i]!, hs, 0, 4 * i);
        touched ^= bloom.touch(hs, u.count);
        for (let i = 0; i < u.count; i++) if (bloom.testAndAdd(hs, 4 * i)) rep++;
      }
      return rep + (touched & 0);
    });
    rows.push({ name: 'split + hash + Bloom test-and-insert (bloom mode core)', value: mb / bloomS, unit: 'MB/s', note: `${bloomS.toFixed(2)} CPU s, ${bloomRemoved} repeats; ${bloomInfo}, 2M expected at fpRate 1e-6` });
    const [runs, sortS] = await cpu(async () => {
      let spilled = 0;
      const sorter = new ExternalSorter({ keyWords: 7, partitions: 4, bufferBytes: 64 << 20, spill: async () => void spilled++ });
      const key = new Uint32Array(7);
      const enc = new TextEncoder();
      for (let d = 0; d < c.texts.length; d++) {
        const t = c.texts[d]!;
        const u = splitUnits(t, unit, 1, scratch);
        const id = enc.encode(`doc-${d}`);
        for (let i = 0; i < u.count; i++) {
          hashRange(t, u.keyStart[i]!, u.keyEnd[i]!, key);
          key[4] = 0;
          key[5] = d;
          key[6] = i;
          if (sorter.push(key[0]! % 4, key, id)) await sorter.spillAll();
        }
      }
      await sorter.finish();
      return spilled;
    });
    rows.push({ name: 'split + hash + sorted runs (exact mode, first stage core)', value: mb / sortS, unit: 'MB/s', note: `${sortS.toFixed(2)} CPU s, ${runs} runs (64 MiB buffer), no storage writes` });
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
    const bloomOpts = { unit: 'line', bloom: { expected: 2_000_000, fpRate: 1e-6 } };
    for (const [label, opts, auditKind] of [
      ['dedup.paragraphs exact (3 stages, external sort), 1 core', { unit: 'line' }, 'memory'],
      ['dedup.paragraphs bloom (1 streaming stage), 1 core', bloomOpts, 'memory'],
      ['dedup.paragraphs exact, pipeline audit writer (Parquet), 1 core', { unit: 'line' }, 'parquet'],
      ['dedup.paragraphs bloom, pipeline audit writer (Parquet), 1 core', bloomOpts, 'parquet'],
    ] as const) {
      const secs: number[] = [];
      let drops = 0;
      let removed = 0;
      for (let rep = 0; rep < 3; rep++) {
        const work = join(dir, `w-${rows.length}-${rep}`);
        const audit = auditKind === 'memory' ? new MemoryAudit() : new TaskAudit(join(work, '_audit'), 0);
        const [, s] = await cpu(async () => {
          await runExpansionLocal(paragraphs(opts), 'dedup', input, { workdir: work, audit, workers: 1 });
          if (audit instanceof TaskAudit) await audit.close();
        });
        secs.push(s);
        if (audit instanceof MemoryAudit) {
          drops = audit.drops.length;
          removed = audit.drops.filter((d) => d.reason === 'dedup.duplicateLine').reduce((x, d) => x + Buffer.byteLength(d.doc.text), 0);
        } else drops = audit.operators['dedup.paragraphs']?.drops['dedup.duplicateLine'] ?? 0;
        rmSync(work, { recursive: true, force: true });
      }
      const s = median(secs);
      const what = auditKind === 'memory' ? `in-memory test audit; ${((removed / c.bytes) * 100).toFixed(1)}% of bytes removed in ${drops} audited spans` : `${drops} span records written to the Parquet audit (engine/audit.ts TaskAudit, as in a pipeline run)`;
      rows.push({ name: label, value: mb / s, unit: 'MB/s', note: `${s.toFixed(2)} CPU s (median of ${secs.map((x) => x.toFixed(2)).join(', ')}) incl. JSONL read/write; ${what}` });
    }
    return { rows, note: `Paragraph corpus: ${mb.toFixed(1)} MB of text in ${c.texts.length} documents (4 JSONL files) of 40 Shakespeare lines each.` };
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
    if (parts.includes('sa')) {
      const s = saRows();
      rows.push(...s.rows);
      notes.push(s.note);
    }
    notes.push('', `Measured as CPU seconds of one process (user + system), not wall time: the 2-core machine was shared and loaded. \`SUBDOC_BENCH_SA_MB=${saSizes.join(',')}\`, \`SUBDOC_BENCH_SA_SHARD=${saShard}\`, \`SUBDOC_BENCH_PARA_MB=${paraMB}\`.`);
    return { title: 'Deduplication below the document (dedup.paragraphs, sharded suffix arrays for dedup.substrings)', rows, notes: notes.join('\n\n') };
  },
};
export default bench;
