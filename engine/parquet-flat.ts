/**
 * A Parquet encoder in plain TypeScript for flat tables of UTF-8 string, int32, float64 and
 * boolean columns: the audit's drops, scores and skips (engine/audit.ts), which a span-level dedup
 * writes one row per removed span (8,800 rows per MB of text on the bench corpus).
 *
 * Why not the doc writer's parquet-wasm: its cost per row. On 286,720 rows of the drops schema
 * (`npm run bench -- audit`, 2026-12-06) parquet-wasm with the Arrow columns the audit built for
 * it took 1,991–2,096 ns per row (its encoder alone 530–630 ns, uncompressed or ZSTD alike: the
 * cost is its IPC decode and column writers, not the codec) and hyparquet-writer 0.17 (pure JS)
 * ~2,230; this encoder takes ~470, because it knows its four types and what audit columns look like:
 *
 * - a string column whose values come in runs (the operator, reason and document id of a span
 *   dedup's rows) keeps dictionary indices as runs, one comparison per value and one Map lookup
 *   per run (RLE_DICTIONARY); other string columns are PLAIN, each value encoded straight into
 *   the page buffer as it arrives, so no JS value is kept per row;
 * - definition levels and dictionary indices are written as RLE runs only (a valid RLE/bit-packed
 *   hybrid; runs are what these columns have);
 * - one data page per column chunk (the audit cuts row groups at 8,192 rows, ~1 MB of details),
 *   compressed with Brotli quality 1 (node:zlib, native): ~155 ns per row of details JSON and
 *   6.7× smaller; quality 0 was ~30% faster and 20–47% larger, gzip level 1 twice as slow;
 * - no statistics or page indexes (the audit is read whole, never filtered by range).
 *
 * Files are Parquet format version 1 (DataPage V1) that DuckDB and parquet-wasm read back value
 * for value (test/engine/parquet-flat.test.ts).
 */
import { brotliCompressSync, constants as zc } from 'node:zlib';
import type { AtomicWriter } from './storage/index.ts';
import { Bytes, Thrift } from './parquet-flat/thrift.ts';
import { builder, type ColumnBuilder, type FlatCodec, type FlatColumn, type FlatType, type FlatValue } from './parquet-flat/columns.ts';

export type { FlatCodec, FlatColumn, FlatType, FlatValue, Utf8Bytes } from './parquet-flat/columns.ts';

// Parquet enums (parquet.thrift).
const T_BOOLEAN = 0;
const T_INT32 = 1;
const T_DOUBLE = 5;
const T_BYTE_ARRAY = 6;
const ENC_PLAIN = 0;
const ENC_RLE = 3;
const ENC_RLE_DICTIONARY = 8;
const PAGE_DATA = 0;
const PAGE_DICTIONARY = 2;
const CODEC_UNCOMPRESSED = 0;
const CODEC_BROTLI = 4;

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"

/** What a written column chunk puts in the file footer. */
interface ChunkMeta {
  column: FlatColumn;
  encodings: number[];
  numValues: number;
  uncompressed: number;
  compressed: number;
  dataPageOffset: number;
  dictionaryPageOffset: number | undefined;
}

interface RowGroupMeta {
  rows: number;
  offset: number;
  chunks: ChunkMeta[];
}

function compress(raw: Uint8Array, codec: FlatCodec): Uint8Array {
  switch (codec) {
    case 'none':
      // The scratch buffers are reused by the next chunk: an uncompressed page is copied out.
      return raw.slice();
    case 'brotli':
      return brotliCompressSync(raw, { params: { [zc.BROTLI_PARAM_QUALITY]: 1, [zc.BROTLI_PARAM_SIZE_HINT]: raw.length } });
    default: {
      const never: never = codec;
      throw new Error(`parquet: unknown codec ${JSON.stringify(never)}`);
    }
  }
}

/**
 * Encodes a flat table as a Parquet file, row group by row group, with no I/O of its own: rows
 * go in through `add` (or the column builders, `column(i).add(v)` then `endRow()`), `rowGroup()`
 * returns the bytes of the rows so far as one row group (the file's leading magic included the
 * first time), and `footer()` the file's tail. The caller writes the pieces in order. Memory is
 * the row group being built. Options: `codec` (default `'brotli'`).
 */
export class FlatParquetEncoder {
  private offset = 0;
  private total = 0;
  private pending = 0;
  private finished = false;
  private readonly groups: RowGroupMeta[] = [];
  private readonly codec: FlatCodec;
  private readonly builders: ColumnBuilder[];
  /** Page bodies are built here and compressed out (reused: a row group's are a few MB). */
  private readonly body = new Bytes(1 << 16);
  private readonly dict = new Bytes(1 << 12);

  constructor(
    readonly columns: readonly FlatColumn[],
    opts: { codec?: FlatCodec } = {},
  ) {
    if (!columns.length) throw new Error('parquet: a flat table needs at least one column');
    this.codec = opts.codec ?? 'brotli';
    this.builders = columns.map(builder);
  }

  /** Rows in the file so far (row groups returned by `rowGroup`). */
  get fileRows(): number {
    return this.total;
  }

  /** Appends a row, its values in column order; returns the rows buffered. */
  add(values: readonly FlatValue[]): number {
    if (values.length !== this.builders.length) throw new Error(`parquet: a row of ${values.length} values for a table of ${this.builders.length} columns`);
    for (let c = 0; c < values.length; c++) this.builders[c]!.add(values[c]);
    return ++this.pending;
  }

  /** Column `i`'s builder, for callers that add a row value by value; `endRow()` after each row. */
  column(i: number): { add(v: FlatValue): void } {
    return this.builders[i]!;
  }
  /** Ends a row added through `column(i).add`; returns the rows buffered. */
  endRow(): number {
    return ++this.pending;
  }

  /** The buffered rows as one row group's bytes (empty when there are none). */
  rowGroup(): Uint8Array {
    if (this.finished) throw new Error('parquet: rowGroup() after footer()');
    const rows = this.pending;
    if (rows === 0) return new Uint8Array(0);
    for (const b of this.builders) if (b.n !== rows) throw new Error(`parquet: column '${b.column.name}' has ${b.n} values, row group has ${rows} rows`);
    const chunks: Uint8Array[] = [];
    if (this.offset === 0) {
      chunks.push(MAGIC);
      this.offset = MAGIC.length;
    }
    const group: RowGroupMeta = { rows, offset: this.offset, chunks: [] };
    for (const b of this.builders) {
      const { pages, meta } = this.encodeChunk(b, rows);
      chunks.push(...pages);
      group.chunks.push(meta);
      b.reset();
    }
    this.groups.push(group);
    this.total += rows;
    this.pending = 0;
    return Buffer.concat(chunks);
  }

  /** One column chunk: a dictionary page when the builder made one, then one data page. */
  private encodeChunk(b: ColumnBuilder, rows: number): { pages: Uint8Array[]; meta: ChunkMeta } {
    const body = this.body;
    const dict = this.dict;
    body.len = 0;
    dict.len = 0;
    b.writeLevels(body);
    const dictCount = b.encodeValues(body, dict);
    const start = this.offset;
    const pages: Uint8Array[] = [];
    let uncompressed = 0;
    const page = (type: number, raw: Uint8Array, header: (t: Thrift) => void): number => {
      const data = compress(raw, this.codec);
      const h = new Thrift().i32(1, type).i32(2, raw.length).i32(3, data.length);
      header(h);
      h.end();
      const hb = h.b.view();
      pages.push(hb, data);
      uncompressed += hb.length + raw.length;
      const at = this.offset;
      this.offset += hb.length + data.length;
      return at;
    };
    const dictionaryPageOffset = dictCount >= 0 ? page(PAGE_DICTIONARY, dict.view(), (h) => h.struct(7).i32(1, dictCount).i32(2, ENC_PLAIN).end()) : undefined;
    const encoding = dictCount >= 0 ? ENC_RLE_DICTIONARY : ENC_PLAIN;
    const dataPageOffset = page(PAGE_DATA, body.view(), (h) => h.struct(5).i32(1, rows).i32(2, encoding).i32(3, ENC_RLE).i32(4, ENC_RLE).end());
    const encodings = encoding === ENC_RLE_DICTIONARY ? [ENC_PLAIN, ENC_RLE, ENC_RLE_DICTIONARY] : [ENC_PLAIN, ENC_RLE];
    return { pages, meta: { column: b.column, encodings, numValues: rows, uncompressed, compressed: this.offset - start, dataPageOffset, dictionaryPageOffset } };
  }

  /** The file's tail (footer, its length, the magic); for a file of no row groups, the leading magic too. */
  footer(): Uint8Array {
    if (this.pending) throw new Error(`parquet: ${this.pending} rows not yet taken by rowGroup()`);
    if (this.finished) throw new Error('parquet: footer() called twice');
    this.finished = true;
    const t = new Thrift();
    t.i32(1, 1);
    t.list(2, 'struct', this.columns.length + 1);
    t.item().string(4, 'schema').i32(5, this.columns.length).end();
    for (const c of this.columns) {
      t.item().i32(1, physical(c.type)).i32(3, c.nullable ? 1 : 0).string(4, c.name);
      // STRING: converted type UTF8 (0) for old readers, logical type STRING (union field 1).
      if (c.type === 'utf8') t.i32(6, 0).struct(10).struct(1).end().end();
      t.end();
    }
    t.i64(3, this.total);
    t.list(4, 'struct', this.groups.length);
    for (const g of this.groups) {
      t.item().list(1, 'struct', g.chunks.length);
      let total = 0;
      let compressed = 0;
      for (const ch of g.chunks) {
        total += ch.uncompressed;
        compressed += ch.compressed;
        t.item().i64(2, ch.dictionaryPageOffset ?? ch.dataPageOffset).struct(3);
        t.i32(1, physical(ch.column.type));
        t.list(2, 'i32', ch.encodings.length);
        for (const e of ch.encodings) t.listI32(e);
        t.list(3, 'string', 1).listString(ch.column.name);
        t.i32(4, this.codec === 'brotli' ? CODEC_BROTLI : CODEC_UNCOMPRESSED);
        t.i64(5, ch.numValues).i64(6, ch.uncompressed).i64(7, ch.compressed).i64(9, ch.dataPageOffset);
        if (ch.dictionaryPageOffset !== undefined) t.i64(11, ch.dictionaryPageOffset);
        t.end(); // ColumnMetaData
        t.end(); // ColumnChunk
      }
      t.i64(2, total).i64(3, g.rows).i64(5, g.offset).i64(6, compressed);
      t.end(); // RowGroup
    }
    t.string(6, 'sluice');
    t.end();
    t.b.u32le(t.b.len);
    t.b.bytes(MAGIC);
    return this.offset === 0 ? Buffer.concat([MAGIC, t.b.view()]) : t.b.view();
  }
}

/**
 * Streams a flat table to one Parquet file behind an atomic writer: `add` rows, `flush()` to
 * write the buffered rows as a row group (`add` returns the count, so callers cut where they
 * like), `close()` to write the footer and commit; nothing is visible before. Options: `codec`
 * (default `'brotli'`).
 */
export class FlatParquetWriter {
  private readonly enc: FlatParquetEncoder;
  private bytes = 0;
  constructor(
    private readonly out: AtomicWriter,
    columns: readonly FlatColumn[],
    opts: { codec?: FlatCodec } = {},
  ) {
    this.enc = new FlatParquetEncoder(columns, opts);
  }
  /** Buffers a row; returns the rows buffered. */
  add(values: readonly FlatValue[]): number {
    return this.enc.add(values);
  }
  /** Writes the buffered rows as one row group. */
  async flush(): Promise<void> {
    const g = this.enc.rowGroup();
    if (!g.length) return;
    this.bytes += g.length;
    await this.out.write(g);
  }
  /** Flushes, writes the footer and commits the file; returns its rows and bytes. */
  async close(): Promise<{ rows: number; bytes: number }> {
    try {
      await this.flush();
      const tail = this.enc.footer();
      await this.out.write(tail);
      await this.out.commit();
      return { rows: this.enc.fileRows, bytes: this.bytes + tail.length };
    } catch (e) {
      await this.out.abort();
      throw e;
    }
  }
  /** Drops the file: nothing becomes visible. */
  async abort(): Promise<void> {
    await this.out.abort();
  }
}

function physical(type: FlatType): number {
  switch (type) {
    case 'utf8':
      return T_BYTE_ARRAY;
    case 'int32':
      return T_INT32;
    case 'float64':
      return T_DOUBLE;
    case 'bool':
      return T_BOOLEAN;
    default: {
      const never: never = type;
      throw new Error(`parquet: unknown column type ${JSON.stringify(never)}`);
    }
  }
}
