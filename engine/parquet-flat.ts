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

/** A column type: `utf8` (BYTE_ARRAY, STRING), `int32`, `float64` (DOUBLE) or `bool` (BOOLEAN). */
export type FlatType = 'utf8' | 'int32' | 'float64' | 'bool';

/** One column of a flat table. */
export interface FlatColumn {
  name: string;
  type: FlatType;
  /** OPTIONAL when true (null and undefined are nulls), REQUIRED otherwise (a null is an error). */
  nullable: boolean;
  /**
   * For `utf8`: `'runs'` (default) keeps runs of equal values as dictionary indices (written
   * RLE_DICTIONARY, or PLAIN when a row group has more runs than half its values); `'plain'`
   * encodes each value as it arrives, for columns of mostly distinct values (JSON details).
   */
  encoding?: 'runs' | 'plain';
}

/** A cell: strings for `utf8` (numbers and booleans are written as their `String()`), numbers for `int32`/`float64`, booleans for `bool`. */
export type FlatValue = string | number | boolean | null | undefined;

/** Page compression: Brotli (default, quality 1), or none. */
export type FlatCodec = 'brotli' | 'none';

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

// Thrift compact protocol type ids.
const C_TRUE = 1;
const C_FALSE = 2;
const C_I32 = 5;
const C_I64 = 6;
const C_BINARY = 8;
const C_LIST = 9;
const C_STRUCT = 12;

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"

/** A growable byte buffer. */
class Bytes {
  buf: Uint8Array;
  len = 0;
  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.nodeView = undefined;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  /** An unsigned LEB128 varint of a non-negative integer below 2^53. */
  varint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
  }
  /** A zigzag varint (thrift i16/i32/i64) of an integer of magnitude below 2^52. */
  zigzag(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  u32le(v: number): void {
    this.ensure(4);
    const b = this.buf;
    b[this.len++] = v & 0xff;
    b[this.len++] = (v >>> 8) & 0xff;
    b[this.len++] = (v >>> 16) & 0xff;
    b[this.len++] = (v >>> 24) & 0xff;
  }
  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.len);
    this.len += src.length;
  }
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
  private nodeView: Buffer | undefined;
  /** The whole buffer as a node Buffer (for `Buffer.write`), made again after growth. */
  node(): Buffer {
    return (this.nodeView ??= Buffer.from(this.buf.buffer, this.buf.byteOffset, this.buf.length));
  }
}

/** Thrift compact protocol: structs of the field kinds Parquet's metadata needs. */
class Thrift {
  readonly b = new Bytes();
  private last = 0;
  private readonly stack: number[] = [];
  private field(id: number, type: number): void {
    const d = id - this.last;
    if (d > 0 && d <= 15) this.b.byte((d << 4) | type);
    else {
      this.b.byte(type);
      this.b.zigzag(id);
    }
    this.last = id;
  }
  i32(id: number, v: number): this {
    this.field(id, C_I32);
    this.b.zigzag(v);
    return this;
  }
  i64(id: number, v: number): this {
    this.field(id, C_I64);
    this.b.zigzag(v);
    return this;
  }
  bool(id: number, v: boolean): this {
    this.field(id, v ? C_TRUE : C_FALSE);
    return this;
  }
  string(id: number, s: string): this {
    this.field(id, C_BINARY);
    this.rawString(s);
    return this;
  }
  private rawString(s: string): void {
    const e = Buffer.from(s, 'utf8');
    this.b.varint(e.length);
    this.b.bytes(e);
  }
  /** A struct-valued field; close it with `end()`. */
  struct(id: number): this {
    this.field(id, C_STRUCT);
    this.stack.push(this.last);
    this.last = 0;
    return this;
  }
  /** A list-valued field's header; write `size` elements next (`item()`…`end()` for structs). */
  list(id: number, elemType: 'i32' | 'string' | 'struct', size: number): this {
    this.field(id, C_LIST);
    const t = elemType === 'i32' ? C_I32 : elemType === 'string' ? C_BINARY : C_STRUCT;
    if (size < 15) this.b.byte((size << 4) | t);
    else {
      this.b.byte(0xf0 | t);
      this.b.varint(size);
    }
    return this;
  }
  listI32(v: number): this {
    this.b.zigzag(v);
    return this;
  }
  listString(s: string): this {
    this.rawString(s);
    return this;
  }
  /** A struct element of a list; close it with `end()`. */
  item(): this {
    this.stack.push(this.last);
    this.last = 0;
    return this;
  }
  /** Ends the current struct (or the top-level one). */
  end(): this {
    this.b.byte(0);
    this.last = this.stack.pop() ?? 0;
    return this;
  }
}

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

function grownI32(a: Int32Array<ArrayBuffer>, need: number): Int32Array<ArrayBuffer> {
  if (need <= a.length) return a;
  const b = new Int32Array(Math.max(need, a.length * 2));
  b.set(a);
  return b;
}

/**
 * One column of the row group being built. Values are encoded as they are added (no JS value
 * is kept per row, so 8,192 rows of span details are not strings the collector must promote):
 * definition levels as runs, then the values in the column's form.
 */
abstract class ColumnBuilder {
  /** Values added, nulls included. */
  n = 0;
  /** Definition-level runs: +length for a run of values, -length for a run of nulls. */
  private defRuns = new Int32Array(16);
  private defCount = 0;
  private levelValid = true;
  private levelRun = 0;
  constructor(readonly column: FlatColumn) {}

  /** Appends a value (null and undefined are nulls). */
  abstract add(v: FlatValue): void;
  /** Writes the values' page body (after the levels), and any dictionary into `dict`; returns the dictionary's entry count, -1 when there is none. */
  abstract encodeValues(body: Bytes, dict: Bytes): number;
  /** The value encoding `encodeValues` wrote (after it ran). */
  abstract encoding(): number;
  /** Empties the builder for the next row group. */
  reset(): void {
    this.n = 0;
    this.defCount = 0;
    this.levelRun = 0;
    this.resetValues();
  }
  protected abstract resetValues(): void;

  /** Records one definition level; throws on a null in a required column. */
  protected level(valid: boolean): void {
    this.n++;
    if (!this.column.nullable) {
      if (!valid) throw new Error(`parquet: column '${this.column.name}' is not nullable but row ${this.n - 1} of its row group is null`);
      return;
    }
    if (this.levelRun && valid !== this.levelValid) {
      this.defRuns = grownI32(this.defRuns, this.defCount + 1);
      this.defRuns[this.defCount++] = this.levelValid ? this.levelRun : -this.levelRun;
      this.levelRun = 0;
    }
    this.levelValid = valid;
    this.levelRun++;
  }

  /** Definition levels (bit width 1) as RLE runs behind their 4-byte length, as DataPage V1 wants. */
  writeLevels(out: Bytes): void {
    if (!this.column.nullable) return;
    const lenAt = out.len;
    out.u32le(0);
    const start = out.len;
    const runs = (r: number) => {
      out.varint(Math.abs(r) * 2);
      out.byte(r > 0 ? 1 : 0);
    };
    for (let i = 0; i < this.defCount; i++) runs(this.defRuns[i]!);
    if (this.levelRun) runs(this.levelValid ? this.levelRun : -this.levelRun);
    const len = out.len - start;
    out.buf[lenAt] = len & 0xff;
    out.buf[lenAt + 1] = (len >>> 8) & 0xff;
    out.buf[lenAt + 2] = (len >>> 16) & 0xff;
    out.buf[lenAt + 3] = len >>> 24;
  }
}

/** Writes `s` as a PLAIN byte array (4-byte length, UTF-8) with one native `Buffer.write`. */
function plainString(out: Bytes, s: string): void {
  // At most 3 UTF-8 bytes per UTF-16 code unit.
  out.ensure(4 + 3 * s.length);
  const at = out.len;
  const l = out.node().write(s, at + 4, 'utf8');
  const b = out.buf;
  b[at] = l & 0xff;
  b[at + 1] = (l >>> 8) & 0xff;
  b[at + 2] = (l >>> 16) & 0xff;
  b[at + 3] = l >>> 24;
  out.len = at + 4 + l;
}

/**
 * A `utf8` column encoded PLAIN as values arrive, one `Buffer.write` each: 68 ns for an 85-char
 * flat string (~150 for a fresh template string, most of it flattening the rope), against
 * 130–400 ns for the ways that join the column into one string first (measured on 8,192
 * span-details values).
 */
class PlainStrings extends ColumnBuilder {
  private readonly bytes = new Bytes(1 << 16);
  add(v: FlatValue): void {
    const valid = v !== null && v !== undefined;
    this.level(valid);
    if (valid) plainString(this.bytes, typeof v === 'string' ? v : String(v));
  }
  encodeValues(body: Bytes): number {
    body.bytes(this.bytes.view());
    return -1;
  }
  encoding(): number {
    return ENC_PLAIN;
  }
  protected resetValues(): void {
    this.bytes.len = 0;
  }
}

/**
 * A `utf8` column whose values come in runs (an audit's operator, reason, and the document id of
 * consecutive spans): kept as runs of dictionary indices, one comparison per value and one Map
 * lookup per run, written as RLE_DICTIONARY. A row group with more runs than half its values is
 * written PLAIN instead (no dictionary of unique values).
 */
class RunStrings extends ColumnBuilder {
  private readonly index = new Map<string, number>();
  private entries: string[] = [];
  private runIdx = new Int32Array(64);
  private runLen = new Int32Array(64);
  private runs = 0;
  private prev: string | undefined;
  private cur = 0;
  private values = 0;
  private plain = false;
  add(v: FlatValue): void {
    const valid = v !== null && v !== undefined;
    this.level(valid);
    if (!valid) return;
    const s = typeof v === 'string' ? v : String(v);
    this.values++;
    if (s === this.prev) {
      this.cur++;
      return;
    }
    this.closeRun();
    this.prev = s;
    this.cur = 1;
  }
  private closeRun(): void {
    if (!this.cur) return;
    const s = this.prev!;
    let k = this.index.get(s);
    if (k === undefined) {
      k = this.entries.length;
      this.index.set(s, k);
      this.entries.push(s);
    }
    this.runIdx = grownI32(this.runIdx, this.runs + 1);
    this.runLen = grownI32(this.runLen, this.runs + 1);
    this.runIdx[this.runs] = k;
    this.runLen[this.runs++] = this.cur;
    this.cur = 0;
  }
  encodeValues(body: Bytes, dict: Bytes): number {
    this.closeRun();
    this.plain = this.runs * 2 > this.values;
    if (this.plain) {
      for (let r = 0; r < this.runs; r++) {
        const s = this.entries[this.runIdx[r]!]!;
        for (let i = this.runLen[r]!; i > 0; i--) plainString(body, s);
      }
      return -1;
    }
    for (const s of this.entries) plainString(dict, s);
    const w = bitWidth(this.entries.length);
    const wb = (w + 7) >> 3;
    body.byte(w);
    for (let r = 0; r < this.runs; r++) {
      body.varint(this.runLen[r]! * 2);
      const k = this.runIdx[r]!;
      body.ensure(wb);
      for (let b = 0; b < wb; b++) body.buf[body.len++] = (k >>> (8 * b)) & 0xff;
    }
    return this.entries.length;
  }
  encoding(): number {
    return this.plain ? ENC_PLAIN : ENC_RLE_DICTIONARY;
  }
  protected resetValues(): void {
    this.index.clear();
    this.entries = [];
    this.runs = 0;
    this.prev = undefined;
    this.cur = 0;
    this.values = 0;
  }
}

/** An `int32` or `float64` column: values in a growing typed array, written PLAIN (little-endian). */
class Numbers extends ColumnBuilder {
  private values: Int32Array | Float64Array;
  private count = 0;
  constructor(column: FlatColumn) {
    super(column);
    this.values = column.type === 'int32' ? new Int32Array(1024) : new Float64Array(1024);
  }
  add(v: FlatValue): void {
    const valid = v !== null && v !== undefined;
    this.level(valid);
    if (!valid) return;
    if (typeof v !== 'number' || (this.column.type === 'int32' && (!Number.isInteger(v) || v < -2147483648 || v > 2147483647))) {
      throw new Error(`parquet: column '${this.column.name}' is ${this.column.type} but got ${JSON.stringify(v)}`);
    }
    if (this.count === this.values.length) {
      const next = this.values instanceof Int32Array ? new Int32Array(this.count * 2) : new Float64Array(this.count * 2);
      next.set(this.values);
      this.values = next;
    }
    this.values[this.count++] = v;
  }
  encodeValues(body: Bytes): number {
    const v = this.values.subarray(0, this.count);
    body.bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return -1;
  }
  encoding(): number {
    return ENC_PLAIN;
  }
  protected resetValues(): void {
    this.count = 0;
  }
}

/** A `bool` column, written PLAIN (bit-packed, least significant bit first). */
class Booleans extends ColumnBuilder {
  private bits = new Uint8Array(128);
  private count = 0;
  add(v: FlatValue): void {
    const valid = v !== null && v !== undefined;
    this.level(valid);
    if (!valid) return;
    if (typeof v !== 'boolean') throw new Error(`parquet: column '${this.column.name}' is bool but got ${JSON.stringify(v)}`);
    if (this.count >> 3 >= this.bits.length) {
      const next = new Uint8Array(this.bits.length * 2);
      next.set(this.bits);
      this.bits = next;
    }
    if (v) this.bits[this.count >> 3]! |= 1 << (this.count & 7);
    this.count++;
  }
  encodeValues(body: Bytes): number {
    body.bytes(this.bits.subarray(0, (this.count + 7) >> 3));
    return -1;
  }
  encoding(): number {
    return ENC_PLAIN;
  }
  protected resetValues(): void {
    this.bits.fill(0, 0, (this.count + 7) >> 3);
    this.count = 0;
  }
}

function builder(c: FlatColumn): ColumnBuilder {
  switch (c.type) {
    case 'utf8':
      return c.encoding === 'plain' ? new PlainStrings(c) : new RunStrings(c);
    case 'int32':
    case 'float64':
      return new Numbers(c);
    case 'bool':
      return new Booleans(c);
    default: {
      const never: never = c.type;
      throw new Error(`parquet: unknown column type ${JSON.stringify(never)}`);
    }
  }
}

/** Bits needed for dictionary indices below `size` (at least 1). */
function bitWidth(size: number): number {
  let w = 1;
  while (2 ** w < size && w < 32) w++;
  return w;
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

  /** Rows buffered for the next row group. */
  get rows(): number {
    return this.pending;
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
    return concat(chunks);
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
    const encoding = b.encoding();
    const dataPageOffset = page(PAGE_DATA, body.view(), (h) => h.struct(5).i32(1, rows).i32(2, encoding).i32(3, ENC_RLE).i32(4, ENC_RLE).end());
    const encodings = encoding === ENC_RLE_DICTIONARY ? [ENC_PLAIN, ENC_RLE, ENC_RLE_DICTIONARY] : [ENC_PLAIN, ENC_RLE];
    return { pages, meta: { column: b.column, encodings, numValues: rows, uncompressed, compressed: this.offset - start, dataPageOffset, dictionaryPageOffset } };
  }

  /** The file's tail (footer, its length, the magic); for a file of no row groups, the leading magic too. */
  footer(): Uint8Array {
    if (this.pending) throw new Error(`parquet: ${this.pending} rows not yet taken by rowGroup()`);
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
    const footer = t.b.view();
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, footer.length, true);
    const parts = this.offset === 0 ? [MAGIC, footer, len, MAGIC] : [footer, len, MAGIC];
    this.offset = -1;
    return concat(parts);
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

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
