/**
 * The audit writer behind every task: drop, score and skip records stream into Parquet files
 * under `<stageDir>/_audit/` (engine/parquet-flat.ts; 8,192 rows per row group, so memory stays
 * bounded), drop samples are kept by a seeded reservoir (deterministic, so reruns are
 * byte-identical), and per-operator counts go to the task marker and then the stage manifest.
 */
import type { AuditSink, Doc, Json, OperatorStats, SkipExample } from './types.ts';
import { FlatParquetEncoder, type FlatColumn, type Utf8Bytes } from './parquet-flat.ts';
import { storage, type AtomicWriter } from './storage/index.ts';
import { mulberry32 } from './random.ts';

const FLUSH_ROWS = 8192;
/** Dropped-doc samples kept per operator and reason. */
export const SAMPLES_PER_REASON = 10;
/** Characters of text kept per sample. */
export const SAMPLE_CHARS = 400;
/** Skips kept as examples per reason (the rest are in the skips Parquet file). */
export const SKIP_EXAMPLES_PER_REASON = 3;

/** Columns of `_audit/drops-*.parquet` (docs/formats.md). */
export const DROP_SCHEMA: readonly FlatColumn[] = [
  { name: 'operator', type: 'utf8', nullable: false },
  { name: 'id', type: 'utf8', nullable: false },
  { name: 'url', type: 'utf8', nullable: true },
  { name: 'reason', type: 'utf8', nullable: false },
  { name: 'score', type: 'float64', nullable: true },
  { name: 'details', type: 'utf8', nullable: true, encoding: 'plain' },
  { name: 'bytes', type: 'int32', nullable: false },
];
const SCORE_SCHEMA: readonly FlatColumn[] = [
  { name: 'operator', type: 'utf8', nullable: false },
  { name: 'key', type: 'utf8', nullable: false },
  { name: 'id', type: 'utf8', nullable: false },
  { name: 'url', type: 'utf8', nullable: true },
  { name: 'value', type: 'float64', nullable: false },
  { name: 'kept', type: 'bool', nullable: false },
];
const SKIP_SCHEMA: readonly FlatColumn[] = [
  { name: 'input', type: 'utf8', nullable: false },
  { name: 'reason', type: 'utf8', nullable: false },
  { name: 'details', type: 'utf8', nullable: true, encoding: 'plain' },
];

type Value = string | number | boolean | Utf8Bytes | null;

/**
 * One audit table: rows are encoded into the flat Parquet encoder's column builders as they
 * arrive (engine/parquet-flat.ts: no JS value kept per row, where 8,192 buffered rows of span
 * details were strings the collector promoted; parquet-wasm with its Arrow columns cost ~2.1 µs
 * per row, `npm run bench -- audit`), and every 8,192 rows `add` says a row group is ready: `take` encodes it
 * (synchronously) and the caller chains its write, so a writer pays one promise per row group.
 */
class AuditTable {
  private readonly enc: FlatParquetEncoder;
  private readonly c: Array<{ add(v: Value | undefined): void }>;
  private out: AtomicWriter | undefined;
  constructor(
    private readonly uri: string,
    schema: readonly FlatColumn[],
  ) {
    this.enc = new FlatParquetEncoder(schema);
    this.c = schema.map((_, i) => this.enc.column(i));
  }
  /** Buffers a row, its values in schema order; true when a row group is full and should be `take`n and written. */
  add(v0: Value, v1: Value, v2: Value, v3?: Value, v4?: Value, v5?: Value, v6?: Value): boolean {
    const c = this.c;
    c[0]!.add(v0);
    c[1]!.add(v1);
    c[2]!.add(v2);
    if (c.length > 3) {
      c[3]!.add(v3);
      c[4]!.add(v4);
      c[5]!.add(v5);
      if (c.length > 6) c[6]!.add(v6);
    }
    return this.enc.endRow() >= FLUSH_ROWS;
  }
  /** The buffered rows as one encoded row group (empty when none). */
  take(): Uint8Array {
    return this.enc.rowGroup();
  }
  /** Writes an encoded row group (in call order: callers chain these writes). */
  async write(bytes: Uint8Array): Promise<void> {
    if (!bytes.length) return;
    this.out ??= await storage.writer(this.uri);
    await this.out.write(bytes);
  }
  async close(): Promise<string | undefined> {
    await this.write(this.take());
    if (!this.out) return undefined;
    try {
      await this.out.write(this.enc.footer());
      await this.out.commit();
    } catch (e) {
      await this.out.abort();
      throw e;
    }
    return this.uri;
  }
  async abort(): Promise<void> {
    await this.out?.abort();
  }
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
      const bytes = table.take();
      this.enqueue(() => table.write(bytes));
    }
  }

  private enqueue(fn: () => Promise<void>): void {
    this.pending = this.pending.then(fn).catch((e) => {
      this.failure ??= e;
    });
  }

  drop(operator: string, doc: Doc, reason: string, score?: number, details?: Record<string, Json>): void {
    const url = typeof doc.meta.url === 'string' ? doc.meta.url : null;
    this.record(operator, doc.id, url, doc.text, reason, score ?? null, details ? JSON.stringify(details) : null);
  }

  dropSpan(operator: string, doc: Doc, text: string, reason: string, detailsJson: string | Utf8Bytes): void {
    const url = typeof doc.meta.url === 'string' ? doc.meta.url : null;
    this.record(operator, doc.id, url, text, reason, null, detailsJson);
  }

  /** The reservoir of the last operator and reason dropped: a stage's drops come in long runs of one. */
  private last: { operator: string; reason: string; stats: OperatorStats; reservoir: { seen: number; items: DropSample[] } } | undefined;

  private record(operator: string, id: string, url: string | null, text: string, reason: string, score: number | null, details: string | Utf8Bytes | null): void {
    let last = this.last;
    if (!last || last.operator !== operator || last.reason !== reason) {
      // Looked up by operator then reason (no key string per drop).
      let byReason = this.sampleIndex.get(operator);
      if (!byReason) this.sampleIndex.set(operator, (byReason = new Map()));
      let r = byReason.get(reason);
      if (!r) {
        r = { seen: 0, items: [] };
        byReason.set(reason, r);
        this.samples.set(`${operator}\u0000${reason}`, r);
      }
      const stats = this.stats(operator);
      stats.dropBytes ??= {};
      this.last = last = { operator, reason, stats, reservoir: r };
    }
    const s = last.stats;
    s.drops[reason] = (s.drops[reason] ?? 0) + 1;
    const bytes = Buffer.byteLength(text, 'utf8');
    s.dropBytes![reason] = (s.dropBytes![reason] ?? 0) + bytes;
    this.flushIf(this.drops, this.drops.add(operator, id, url, reason, score, details, bytes));
    // A sample object is made only when the seeded reservoir keeps it.
    const r = last.reservoir;
    r.seen++;
    if (r.items.length < SAMPLES_PER_REASON) r.items.push({ id, url, reason, score, text: text.slice(0, SAMPLE_CHARS) });
    else {
      const j = Math.floor(this.random() * r.seen);
      if (j < SAMPLES_PER_REASON) r.items[j] = { id, url, reason, score, text: text.slice(0, SAMPLE_CHARS) };
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
