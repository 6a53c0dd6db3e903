/**
 * The audit's Parquet writer: 286,720 drop records shaped like a span dedup's (one per removed
 * span: the operator and reason repeat, ten spans per document id, no url or score, ~85 bytes of
 * details JSON, the span's bytes), written as row groups of 8,192 rows. CPU seconds per row,
 * median of 3 runs after a warm-up, side by side in one process:
 *
 * - `TaskAudit.dropSpan` (engine/audit.ts over engine/parquet-flat.ts, Brotli quality 1): the whole
 *   audit record a pipeline pays per span (counts, sample reservoir, row, encoding, file write);
 * - the flat encoder alone (engine/parquet-flat.ts `FlatParquetEncoder`, Brotli quality 1);
 * - parquet-wasm 0.8 (ZSTD, as the doc writer configures it) fed Arrow columns built per row
 *   group as the audit built them before the flat encoder (`utf8Vector` below: one UTF-8 encode
 *   per column; apache-arrow's `vectorFromArray` for numbers): how the audit was written before;
 * - hyparquet-writer 0.17 (pure JS, Snappy, statistics off), the other JS writer.
 *
 * Goal: the audit must not dominate a span dedup, which writes ~8,800 such rows per MB of text
 * (bench/subdoc.bench.ts).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { Bench, BenchRow } from './harness.ts';
import { DROP_SCHEMA, TaskAudit } from '../engine/audit.ts';
import { FlatParquetEncoder } from '../engine/parquet-flat.ts';
import { ParquetStreamWriter } from '../engine/parquet.ts';
import { storage } from '../engine/storage/index.ts';
import { groupHex } from '../operators/dedup/parts.ts';
import type { Doc } from '../engine/types.ts';

const ROWS = 35 * 8192;
const GROUP = 8192;

const COLUMNS = DROP_SCHEMA;

/** The span records: docs, span texts and details, made once (not timed). */
function records(): { docs: Doc[]; texts: string[]; details: string[] } {
  const docs: Doc[] = [];
  const texts: string[] = [];
  const details: string[] = [];
  let x = 12345;
  for (let i = 0; i < ROWS; i++) {
    if (i % 10 === 0) docs.push({ id: `f${i % 4}-${i / 10}`, text: '', meta: {} });
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const unit = i % 40;
    texts.push(`Shakespeare line ${unit} of a document, ${x % 1000}`);
    details.push(`{"keptId":null,"group":"${groupHex(x, Math.imul(x, 2654435761) >>> 0)}","unit":${unit},"bloom":true,"start":${unit * 35},"end":${unit * 35 + 36}}`);
  }
  return { docs, texts, details };
}

/**
 * A Utf8 column as engine/audit.ts built it before the flat encoder (commit adf3cb6): the values
 * joined and encoded once, offsets from string lengths when the column is ASCII.
 */
function utf8Vector(col: Array<string | null>): arrow.Vector {
  const n = col.length;
  let nulls = 0;
  for (const v of col) if (v === null) nulls++;
  const offsets = new Int32Array(n + 1);
  let valid: Uint8Array | undefined;
  if (nulls) {
    valid = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) if (col[i] !== null) valid[i >> 3]! |= 1 << (i & 7);
  }
  const joined = col.join('');
  let data = Buffer.from(joined, 'utf8');
  if (data.length === joined.length) {
    let o = 0;
    for (let i = 0; i < n; i++) offsets[i + 1] = o += col[i]?.length ?? 0;
  } else {
    let bytes = 0;
    for (let i = 0; i < n; i++) bytes += Buffer.byteLength(col[i] ?? '', 'utf8');
    data = Buffer.alloc(bytes);
    let o = 0;
    for (let i = 0; i < n; i++) offsets[i + 1] = o += data.write(col[i] ?? '', o, 'utf8');
  }
  return arrow.makeVector(arrow.makeData({ type: new arrow.Utf8(), length: n, nullCount: nulls, nullBitmap: valid, valueOffsets: offsets, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }));
}

/** Median CPU seconds of `fn` over 3 runs after a warm-up (async). */
async function medianCpu(fn: () => Promise<void>): Promise<number> {
  await fn();
  const xs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const c0 = process.cpuUsage();
    await fn();
    const c = process.cpuUsage(c0);
    xs.push((c.user + c.system) / 1e6);
  }
  return xs.sort((a, b) => a - b)[1]!;
}

const bench: Bench = {
  id: 'audit',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'audit-bench-'));
    try {
      const { docs, texts, details } = records();
      const op = 'dedup.paragraphs';
      const reason = 'dedup.duplicateLine';
      const sizes: Record<string, number> = {};
      const size = (name: string, path: string) => (sizes[name] = statSync(path).size);

      const taskAudit = await medianCpu(async () => {
        const a = new TaskAudit(join(dir, 'task'), 0);
        for (let i = 0; i < ROWS; i++) a.dropSpan(op, docs[(i / 10) | 0]!, texts[i]!, reason, details[i]!);
        const files = await a.close();
        size('task', files.find((f) => f.includes('drops-'))!);
      });

      const flat = await medianCpu(async () => {
        const path = join(dir, 'flat.parquet');
        const out = await storage.writer(path);
        const enc = new FlatParquetEncoder(COLUMNS);
        const c = COLUMNS.map((_, i) => enc.column(i));
        for (let i = 0; i < ROWS; i++) {
          c[0]!.add(op);
          c[1]!.add(docs[(i / 10) | 0]!.id);
          c[2]!.add(null);
          c[3]!.add(reason);
          c[4]!.add(null);
          c[5]!.add(details[i]!);
          c[6]!.add(Buffer.byteLength(texts[i]!));
          if (enc.endRow() === GROUP) await out.write(enc.rowGroup());
        }
        await out.write(enc.rowGroup());
        await out.write(enc.footer());
        await out.commit();
        size('flat', path);
      });

      const schema = new arrow.Schema(COLUMNS.map((c) => new arrow.Field(c.name, c.type === 'utf8' ? new arrow.Utf8() : c.type === 'int32' ? new arrow.Int32() : new arrow.Float64(), c.nullable)));
      const wasm = await medianCpu(async () => {
        const path = join(dir, 'wasm.parquet');
        const w = new ParquetStreamWriter(await storage.writer(path), schema);
        for (let o = 0; o < ROWS; o += GROUP) {
          const n = Math.min(GROUP, ROWS - o);
          const col = <T,>(f: (i: number) => T) => Array.from({ length: n }, (_, j) => f(o + j));
          const vectors = {
            operator: utf8Vector(col(() => op)),
            id: utf8Vector(col((i) => docs[(i / 10) | 0]!.id)),
            url: utf8Vector(col(() => null)),
            reason: utf8Vector(col(() => reason)),
            score: arrow.vectorFromArray(col(() => null), new arrow.Float64()),
            details: utf8Vector(col((i) => details[i]!)),
            bytes: arrow.vectorFromArray(col((i) => Buffer.byteLength(texts[i]!)), new arrow.Int32()),
          };
          await w.write(new arrow.Table(schema, vectors as never));
        }
        await w.close();
        size('wasm', path);
      });

      const hyparquet = await medianCpu(async () => {
        const path = join(dir, 'hyparquet.parquet');
        const bw = new ByteWriter();
        const w = new ParquetWriter({
          writer: bw,
          statistics: false,
          schema: [{ name: 'root', num_children: COLUMNS.length }, ...COLUMNS.map((c) => ({ name: c.name, type: c.type === 'utf8' ? ('BYTE_ARRAY' as const) : c.type === 'int32' ? ('INT32' as const) : ('DOUBLE' as const), ...(c.type === 'utf8' ? { converted_type: 'UTF8' as const } : {}), repetition_type: c.nullable ? ('OPTIONAL' as const) : ('REQUIRED' as const) }))],
        });
        for (let o = 0; o < ROWS; o += GROUP) {
          const n = Math.min(GROUP, ROWS - o);
          const col = (f: (i: number) => unknown) => Array.from({ length: n }, (_, j) => f(o + j));
          w.write({
            columnData: [
              { name: 'operator', data: col(() => op) },
              { name: 'id', data: col((i) => docs[(i / 10) | 0]!.id) },
              { name: 'url', data: col(() => null) },
              { name: 'reason', data: col(() => reason) },
              { name: 'score', data: col(() => null) },
              { name: 'details', data: col((i) => details[i]!) },
              { name: 'bytes', data: col((i) => Buffer.byteLength(texts[i]!)) },
            ],
            rowGroupSize: GROUP,
          });
        }
        w.finish();
        writeFileSync(path, new Uint8Array(bw.getBuffer()));
        size('hyparquet', path);
      });

      const ns = (s: number) => (s * 1e9) / ROWS;
      const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB file`;
      const rows: BenchRow[] = [
        { name: 'sluice TaskAudit.dropSpan (whole audit record, flat encoder, Brotli)', value: ns(taskAudit), unit: 'ns/row', ratio: `${(wasm / taskAudit).toFixed(2)}× faster than parquet-wasm`, note: mb(sizes.task!) },
        { name: 'sluice FlatParquetEncoder (Brotli q1)', value: ns(flat), unit: 'ns/row', ratio: `${(wasm / flat).toFixed(2)}× faster than parquet-wasm`, note: mb(sizes.flat!) },
        { name: 'parquet-wasm 0.8, ZSTD, Arrow columns (peer; the audit writer before)', value: ns(wasm), unit: 'ns/row', note: mb(sizes.wasm!) },
        { name: 'hyparquet-writer 0.17, Snappy, no statistics (peer)', value: ns(hyparquet), unit: 'ns/row', ratio: `${(hyparquet / flat).toFixed(2)}× the flat encoder's time`, note: mb(sizes.hyparquet!) },
      ];
      return {
        title: "Audit Parquet writer (span drop records)",
        rows,
        notes: `${ROWS.toLocaleString('en')} drop rows of the drops schema (operator, id, url, reason, score, details, bytes) as a paragraph dedup writes them, row groups of ${GROUP}; CPU time per row, median of 3 runs after a warm-up, all writers in one process. File sizes are the drops file each wrote.`,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

export default bench;
