/**
 * The audit writer behind every task: drop, score and skip records stream into Parquet files
 * under `<stageDir>/_audit/` (8,192 rows per row group, so memory stays bounded), drop samples
 * are kept by a seeded reservoir (deterministic, so reruns are byte-identical), and per-operator
 * counts go to the task marker and then the stage manifest.
 */
import * as arrow from 'apache-arrow';
import type { AuditSink, Doc, Json, OperatorStats, SkipExample } from './types.ts';
import { ParquetStreamWriter } from './parquet.ts';
import { storage } from './storage/index.ts';
import { mulberry32 } from './random.ts';

const FLUSH_ROWS = 8192;
/** Dropped-doc samples kept per operator and reason. */
export const SAMPLES_PER_REASON = 10;
/** Characters of text kept per sample. */
export const SAMPLE_CHARS = 400;
/** Skips kept as examples per reason (the rest are in the skips Parquet file). */
export const SKIP_EXAMPLES_PER_REASON = 3;

const DROP_SCHEMA = new arrow.Schema([
  new arrow.Field('operator', new arrow.Utf8(), false),
  new arrow.Field('id', new arrow.Utf8(), false),
  new arrow.Field('url', new arrow.Utf8(), true),
  new arrow.Field('reason', new arrow.Utf8(), false),
  new arrow.Field('score', new arrow.Float64(), true),
  new arrow.Field('details', new arrow.Utf8(), true),
  new arrow.Field('bytes', new arrow.Int32(), false),
]);
const SCORE_SCHEMA = new arrow.Schema([
  new arrow.Field('operator', new arrow.Utf8(), false),
  new arrow.Field('key', new arrow.Utf8(), false),
  new arrow.Field('id', new arrow.Utf8(), false),
  new arrow.Field('url', new arrow.Utf8(), true),
  new arrow.Field('value', new arrow.Float64(), false),
  new arrow.Field('kept', new arrow.Bool(), false),
]);
const SKIP_SCHEMA = new arrow.Schema([
  new arrow.Field('input', new arrow.Utf8(), false),
  new arrow.Field('reason', new arrow.Utf8(), false),
  new arrow.Field('details', new arrow.Utf8(), true),
]);

type Value = string | number | boolean | null;

/**
 * Buffers rows of one audit table, column by column (no object per row: a span-level dedup
 * audits ~10 rows per document, and 281,546 row objects per task were garbage the collector had
 * to promote), and streams them to Parquet once there are any. `add` is synchronous and `take`
 * hands over a full row group, so a writer pays one promise per 8,192 rows, not one per row.
 */
class AuditTable {
  private cols: Value[][];
  private n = 0;
  count = 0;
  private writer: ParquetStreamWriter | undefined;
  constructor(
    private readonly uri: string,
    private readonly schema: arrow.Schema,
  ) {
    this.cols = schema.fields.map(() => []);
  }
  /** Buffers a row, its values in schema order; true when a row group is full and should be `take`n and written. */
  add(v0: Value, v1: Value, v2: Value, v3?: Value, v4?: Value, v5?: Value, v6?: Value): boolean {
    const c = this.cols;
    c[0]!.push(v0);
    c[1]!.push(v1);
    c[2]!.push(v2);
    if (c.length > 3) {
      c[3]!.push(v3 ?? null);
      c[4]!.push(v4 ?? null);
      c[5]!.push(v5 ?? null);
      if (c.length > 6) c[6]!.push(v6 ?? null);
    }
    this.count++;
    return ++this.n >= FLUSH_ROWS;
  }
  /** The buffered columns, removed from the buffer. */
  take(): Value[][] {
    const cols = this.cols;
    this.cols = this.schema.fields.map(() => []);
    this.n = 0;
    return cols;
  }
  /** Writes columns as one row group (in call order: callers chain these writes). */
  async write(cols: Value[][]): Promise<void> {
    if (!cols[0]!.length) return;
    this.writer ??= new ParquetStreamWriter(await storage.writer(this.uri), this.schema);
    const vectors: Record<string, arrow.Vector> = {};
    this.schema.fields.forEach((f, i) => {
      vectors[f.name] = f.type instanceof arrow.Utf8 ? utf8Vector(cols[i]!) : arrow.vectorFromArray(cols[i]!, f.type);
    });
    await this.writer.write(new arrow.Table(this.schema, vectors as never));
  }
  async close(): Promise<string | undefined> {
    await this.write(this.take());
    if (!this.writer) return undefined;
    await this.writer.close();
    return this.uri;
  }
  async abort(): Promise<void> {
    await this.writer?.abort();
  }
}

/**
 * A Utf8 column built directly: the same vector as `arrow.vectorFromArray`, whose builder
 * encoded each value through its own `TextEncoder` call and growing buffers and was most of an
 * audit row's cost (measured on 281,546 drops). The values are joined and encoded with one
 * `Buffer.from`; when that is all ASCII (byte length = string length), the offsets are the
 * running string lengths, with no call per value (measured 90 ms against 140 ms for two calls
 * per value, on 281,546 span rows of five string columns); otherwise each value is encoded on
 * its own.
 */
function utf8Vector(col: Value[]): arrow.Vector {
  const n = col.length;
  let nulls = 0;
  let strings = true;
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (v === null || v === undefined) nulls++;
    else if (typeof v !== 'string') strings = false;
  }
  // join() writes null as '' (a null row then has no bytes).
  const values = strings ? (col as Array<string | null>) : col.map((v) => (v === null || v === undefined ? null : String(v)));
  const offsets = new Int32Array(n + 1);
  let valid: Uint8Array | undefined;
  if (nulls) {
    valid = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) if (values[i] !== null && values[i] !== undefined) valid[i >> 3]! |= 1 << (i & 7);
  }
  const joined = values.join('');
  let data = Buffer.from(joined, 'utf8');
  if (data.length === joined.length) {
    let o = 0;
    for (let i = 0; i < n; i++) offsets[i + 1] = o += values[i]?.length ?? 0;
  } else {
    let bytes = 0;
    for (let i = 0; i < n; i++) bytes += Buffer.byteLength(values[i] ?? '', 'utf8');
    data = Buffer.alloc(bytes);
    let o = 0;
    for (let i = 0; i < n; i++) offsets[i + 1] = o += data.write(values[i] ?? '', o, 'utf8');
  }
  return arrow.makeVector(arrow.makeData({ type: new arrow.Utf8(), length: n, nullCount: nulls, nullBitmap: valid, valueOffsets: offsets, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) }));
}

/** One dropped-doc sample. */
export interface DropSample {
  id: string;
  url: string | null;
  reason: string;
  score: number | null;
  text: string;
}

/** The audit of one task; call `close()` once the task's output is written. */
export class TaskAudit implements AuditSink {
  private readonly drops: AuditTable;
  private readonly scores: AuditTable;
  private readonly skips: AuditTable;
  private readonly samples = new Map<string, { seen: number; items: DropSample[] }>();
  private readonly sampleIndex = new Map<string, Map<string, { seen: number; items: DropSample[] }>>();
  private readonly random: () => number;
  /** Per operator: docs/bytes in/out and drops per reason. */
  readonly operators: Record<string, OperatorStats> = {};
  /** Skipped input records per reason. */
  readonly skipped: Record<string, number> = {};
  /** The first skips of each reason, for summaries that must say which file and why. */
  readonly skipExamples: Record<string, SkipExample[]> = {};
  private pending: Promise<void> = Promise.resolve();
  private failure: unknown;

  constructor(
    dir: string,
    task: number,
  ) {
    const n = String(task).padStart(5, '0');
    this.drops = new AuditTable(storage.join(dir, `drops-${n}.parquet`), DROP_SCHEMA);
    this.scores = new AuditTable(storage.join(dir, `scores-${n}.parquet`), SCORE_SCHEMA);
    this.skips = new AuditTable(storage.join(dir, `skips-${n}.parquet`), SKIP_SCHEMA);
    this.samplesUri = storage.join(dir, `samples-${n}.json`);
    this.random = mulberry32(0x51c3 + task);
  }
  private readonly samplesUri: string;

  /** The stats entry of an operator, created on first use. */
  stats(operator: string): OperatorStats {
    return (this.operators[operator] ??= { docsIn: 0, docsOut: 0, bytesIn: 0, bytesOut: 0, drops: {} });
  }

  // Records are appended in call order; full row groups are written in a chain so callers
  // need not await.
  private flushIf(table: AuditTable, full: boolean): void {
    if (full) {
      const cols = table.take();
      this.enqueue(() => table.write(cols));
    }
  }

  private enqueue(fn: () => Promise<void>): void {
    this.pending = this.pending.then(fn).catch((e) => {
      this.failure ??= e;
    });
  }

  drop(operator: string, doc: Doc, reason: string, score?: number, details?: Record<string, Json>): void {
    const s = this.stats(operator);
    s.drops[reason] = (s.drops[reason] ?? 0) + 1;
    const bytes = Buffer.byteLength(doc.text, 'utf8');
    s.dropBytes = s.dropBytes ?? {};
    s.dropBytes[reason] = (s.dropBytes[reason] ?? 0) + bytes;
    const url = typeof doc.meta.url === 'string' ? doc.meta.url : null;
    this.flushIf(this.drops, this.drops.add(operator, doc.id, url, reason, score ?? null, details ? JSON.stringify(details) : null, bytes));
    // Looked up by operator then reason (no key string per drop); a sample object is made only
    // when the reservoir keeps it, with the same random draws.
    let byReason = this.sampleIndex.get(operator);
    if (!byReason) this.sampleIndex.set(operator, (byReason = new Map()));
    let r = byReason.get(reason);
    if (!r) {
      r = { seen: 0, items: [] };
      byReason.set(reason, r);
      this.samples.set(`${operator}\u0000${reason}`, r);
    }
    r.seen++;
    if (r.items.length < SAMPLES_PER_REASON) r.items.push({ id: doc.id, url, reason, score: score ?? null, text: doc.text.slice(0, SAMPLE_CHARS) });
    else {
      const j = Math.floor(this.random() * r.seen);
      if (j < SAMPLES_PER_REASON) r.items[j] = { id: doc.id, url, reason, score: score ?? null, text: doc.text.slice(0, SAMPLE_CHARS) };
    }
  }

  score(operator: string, key: string, doc: Doc, value: number, kept: boolean): void {
    const url = typeof doc.meta.url === 'string' ? doc.meta.url : null;
    this.flushIf(this.scores, this.scores.add(operator, key, doc.id, url, value, kept));
  }

  flow(operator: string, docsIn: number, bytesIn: number, docsOut: number, bytesOut: number): void {
    const s = this.stats(operator);
    s.docsIn += docsIn;
    s.bytesIn += bytesIn;
    s.docsOut += docsOut;
    s.bytesOut += bytesOut;
  }

  skip(input: string, reason: string, details?: Record<string, Json>): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
    const ex = (this.skipExamples[reason] ??= []);
    if (ex.length < SKIP_EXAMPLES_PER_REASON) ex.push({ input, details: details ?? null });
    this.flushIf(this.skips, this.skips.add(input, reason, details ? JSON.stringify(details) : null));
  }

  /** Waits for buffered records (bounds memory when a filter drops a lot). */
  async drain(): Promise<void> {
    await this.pending;
    if (this.failure) throw this.failure;
  }

  /** Writes the audit files; returns the URIs written. */
  async close(): Promise<string[]> {
    await this.drain();
    const files: string[] = [];
    for (const t of [this.drops, this.scores, this.skips]) {
      const uri = await t.close();
      if (uri) files.push(uri);
    }
    if (this.samples.size) {
      const out: Record<string, Record<string, { seen: number; samples: DropSample[] }>> = {};
      for (const [key, v] of [...this.samples.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
        const [op, reason] = key.split('\u0000') as [string, string];
        (out[op] ??= {})[reason] = { seen: v.seen, samples: v.items };
      }
      await storage.write(this.samplesUri, JSON.stringify(out, null, 1));
      files.push(this.samplesUri);
    }
    return files;
  }

  async abort(): Promise<void> {
    await this.pending.catch(() => {});
    for (const t of [this.drops, this.scores, this.skips]) await t.abort();
  }
}
