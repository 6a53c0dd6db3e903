/**
 * Parquet I/O for datasets: apache-arrow builds the columns, parquet-wasm encodes them (zstd,
 * no dictionary: DESIGN.md measured 37.6 MB/s; on unique web text dictionary encoding cost 30%
 * and only grew the file). Writes stream row groups to an atomic writer, so a task's memory is
 * bounded by a few row groups whatever its output size; reads stream record batches from a local
 * file (S3 objects are first copied to the task's scratch directory, then read the same way).
 *
 * The doc dataset schema and its row codec live in formats/doc.ts; this module is file I/O.
 */
import * as arrow from 'apache-arrow';
import type * as PQ from 'parquet-wasm/node';
import { createHash } from 'node:crypto';
import { openAsBlob, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline as streamPipeline } from 'node:stream/promises';
import type { Doc } from './types.ts';
import { isRemote, storage, type AtomicWriter } from './storage/index.ts';
import { lazyPackage } from './modules/lazy.ts';
import { DOC_SCHEMA, docColumns, docsToTable, tableToDocs, type DocColumn } from '../formats/doc.ts';

/** Rows per row group (the encoder's limit, and where DocParquetWriter cuts its tables). */
export const ROW_GROUP_ROWS = 8192;
/** A row group is also cut at this many bytes: DocParquetWriter's text, the encoder's row group. */
export const ROW_GROUP_BYTES = 32 * 1024 * 1024;

/** The chunks of a web ReadableStream (parquet-wasm's streams are untyped web streams). */
async function* webStream<T>(stream: ReadableStream<T>): AsyncIterable<T> {
  const reader = stream.getReader();
  let done = false;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) {
        done = true;
        return;
      }
      yield r.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/**
 * parquet-wasm, loaded on first use: compiling its WebAssembly costs 66 ms of CPU at import, and
 * most `sluice` processes (the planner, status, reports) never read or write Parquet.
 */
export const parquetWasm = lazyPackage<typeof PQ>('parquet-wasm/node');

function writerProperties(): PQ.WriterProperties {
  // Built per file: parquet-wasm consumes the properties object it is given.
  //
  // The row-group limits are what bound a writer's memory: parquet-wasm's stream encoder keeps
  // the row group in progress (every column chunk) in WebAssembly memory until it reaches one of
  // them, whatever the batches it is handed. With a limit of 2^30 rows a whole file was one row
  // group held to the end: writing 327,680 docs (88 MB of Parquet) grew the process's external
  // memory by 258 MB, and a 1 GB paragraph dedup's peak RSS was 1,046 MiB (exact) and 649 MiB
  // (Bloom) above base: 432 and 351 with these limits, 295 and 299 with `write`'s `free()` too
  // (bench/subdoc.bench.ts growth rows). With them, writing 819,200 such docs (219 MB) keeps
  // external memory at 69–102 MB throughout.
  return new (parquetWasm().WriterPropertiesBuilder)()
    .setCompression(parquetWasm().Compression.ZSTD)
    .setDictionaryEnabled(false)
    .setMaxRowGroupSize(ROW_GROUP_ROWS)
    .setMaxRowGroupBytes(ROW_GROUP_BYTES)
    .setCreatedBy('sluice')
    .build();
}

/** Result of a finished Parquet file. */
export interface WrittenFile {
  rows: number;
  bytes: number;
  sha256: string;
}

/**
 * Streams Arrow tables into one Parquet file behind an atomic writer. The encoder cuts row
 * groups at `ROW_GROUP_ROWS` rows or `ROW_GROUP_BYTES` bytes, across `write` calls (a table of
 * 8,192 rows is one row group). `close()` commits the file and returns its rows, size and sha256.
 */
export class ParquetStreamWriter {
  private queue: PQ.RecordBatch[] = [];
  private waiting: ((v: void) => void) | undefined;
  private closed = false;
  private readonly pump: Promise<WrittenFile>;
  private rows = 0;
  private schemaWritten = false;

  constructor(
    private readonly out: AtomicWriter,
    private readonly emptySchema: arrow.Schema,
  ) {
    const self = this;
    const source = new ReadableStream<PQ.RecordBatch>({
      async pull(ctrl) {
        while (self.queue.length === 0 && !self.closed) await new Promise<void>((r) => (self.waiting = r));
        const next = self.queue.shift();
        if (next) ctrl.enqueue(next);
        else ctrl.close();
      },
    });
    this.pump = (async () => {
      const bytesStream = await parquetWasm().transformParquetStream(source, writerProperties());
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of webStream<Uint8Array>(bytesStream)) {
        hash.update(chunk);
        bytes += chunk.byteLength;
        await out.write(chunk);
      }
      return { rows: this.rows, bytes, sha256: hash.digest('hex') };
    })();
    this.pump.catch(() => {});
  }

  /** Appends a table's rows. Empty tables are skipped once the schema is known. */
  async write(table: arrow.Table): Promise<void> {
    if (table.numRows === 0 && this.schemaWritten) return;
    const wasm = parquetWasm().Table.fromIPCStream(arrow.tableToIPC(table, 'stream'));
    for (const rb of wasm.recordBatches()) this.queue.push(rb);
    // The batches share the table's buffers; without this the table's WebAssembly memory is
    // released only when the collector finalises its small JS wrapper, which it has no reason
    // to do soon: an audit writer's WebAssembly memory grew ~30 bytes per row (+100 MB over
    // 3.5M span drops) and stays at ~30 MB with it.
    wasm.free();
    this.rows += table.numRows;
    this.schemaWritten = true;
    this.waiting?.();
    // Back-pressure: return once the encoder has taken this table (there is one thread, so
    // queueing more only holds more copies). Letting two wait as well cost memory and no CPU:
    // 30 tables of 400 docs of ~84 KB (631 MB of Parquet; web text makes such 32 MB tables)
    // peaked at 541 MB of external memory against 316 MB now, 491,520 small docs at 96 against
    // 64 MB, CPU equal within 3%. The audit's small tables wait longer this way and a Bloom
    // paragraph dedup's peak rose ~15 MB at 300 MB of text; bounding the queue by bytes (4 MiB)
    // instead measured 380 MB for the docs above and ~10 MB less than before for the dedup.
    while (this.queue.length > 0) await new Promise((r) => setImmediate(r));
  }

  /** Finishes the file, commits it atomically and returns its size and checksum. */
  async close(): Promise<WrittenFile> {
    // parquet-wasm needs at least one batch to know the schema of an empty file.
    if (!this.schemaWritten) await this.write(emptyTable(this.emptySchema));
    this.closed = true;
    this.waiting?.();
    try {
      const r = await this.pump;
      await this.out.commit();
      return r;
    } catch (e) {
      await this.out.abort();
      throw e;
    }
  }

  /** Drops the file: nothing becomes visible. */
  async abort(): Promise<void> {
    this.closed = true;
    this.waiting?.();
    await this.pump.catch(() => {});
    await this.out.abort();
  }
}

/** A zero-row table with one (empty) batch, so the encoder sees the schema. */
function emptyTable(schema: arrow.Schema): arrow.Table {
  const children = schema.fields.map((f) => arrow.makeData({ type: f.type, length: 0, nullCount: 0 } as never));
  const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length: 0, nullCount: 0, children } as never);
  return new arrow.Table([new arrow.RecordBatch(schema, data as never)]);
}

/** Writes docs as a doc dataset Parquet file, row group by row group. */
export class DocParquetWriter {
  private pending: Doc[] = [];
  private pendingBytes = 0;
  private readonly inner: ParquetStreamWriter;
  /** UTF-8 bytes of text written so far. */
  textBytes = 0;

  constructor(out: AtomicWriter) {
    this.inner = new ParquetStreamWriter(out, DOC_SCHEMA);
  }
  /** Buffers docs; flushes a row group every ROW_GROUP_ROWS rows or ROW_GROUP_BYTES of text. */
  async add(docs: Doc[]): Promise<void> {
    for (const d of docs) {
      const n = Buffer.byteLength(d.text, 'utf8');
      this.textBytes += n;
      this.pendingBytes += n;
      this.pending.push(d);
      if (this.pending.length >= ROW_GROUP_ROWS || this.pendingBytes >= ROW_GROUP_BYTES) await this.flush();
    }
  }
  private async flush(): Promise<void> {
    if (!this.pending.length) return;
    const t = docsToTable(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    await this.inner.write(t);
  }
  async close(): Promise<WrittenFile> {
    await this.flush();
    return this.inner.close();
  }
  abort(): Promise<void> {
    return this.inner.abort();
  }
}

/** Writes a stream of doc batches to `uri` atomically; returns rows, bytes and sha256. */
export async function writeDocsParquet(uri: string, docs: AsyncIterable<Doc[]>): Promise<WrittenFile> {
  const w = new DocParquetWriter(await storage.writer(uri));
  try {
    for await (const b of docs) await w.add(b);
  } catch (e) {
    await w.abort();
    throw e;
  }
  return w.close();
}

/** Writes one Arrow table to `uri` atomically (small files: audit logs, indexes). */
export async function writeTableParquet(uri: string, table: arrow.Table): Promise<WrittenFile> {
  const w = new ParquetStreamWriter(await storage.writer(uri), table.schema);
  await w.write(table);
  return w.close();
}

/** Streams the record batches of a Parquet file as Arrow tables (`batchSize` rows each). */
export async function* readParquetTables(uri: string, opts: { batchSize?: number; columns?: string[] } = {}): AsyncIterable<arrow.Table> {
  let local: string | undefined;
  let dir: string | undefined;
  if (isRemote(uri)) {
    dir = await mkdtemp(join(tmpdir(), 'sluice-get-'));
    local = join(dir, 'object');
    await streamPipeline(await storage.readStream(uri), createWriteStream(local));
  } else local = uri.startsWith('file://') ? decodeURIComponent(uri.slice(7)) : uri;
  try {
    let file: PQ.ParquetFile;
    try {
      file = await parquetWasm().ParquetFile.fromFile((await openAsBlob(local)) as Blob);
    } catch (e) {
      throw new Error(`${uri}: not a readable Parquet file: ${(e as Error).message ?? e}`);
    }
    const stream = await file.stream({ batchSize: opts.batchSize ?? 1024, columns: opts.columns });
    for await (const rb of webStream<PQ.RecordBatch>(stream)) {
      yield arrow.tableFromIPC(rb.intoIPCStream());
    }
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Streams the docs of a doc-dataset Parquet file (`batchSize` default 512). `columns` projects:
 * only those columns are read and decoded (the others are left empty, see formats/doc.ts
 * `tableToDocs`); default all.
 */
export async function* readDocsParquet(uri: string, opts: { batchSize?: number; columns?: readonly DocColumn[] } = {}): AsyncIterable<Doc[]> {
  const columns = opts.columns ? docColumns(opts.columns, uri) : undefined;
  for await (const t of readParquetTables(uri, { batchSize: opts.batchSize ?? 512, ...(columns ? { columns } : {}) })) {
    if (t.numRows) yield tableToDocs(t);
  }
}
