/**
 * The column builders of the flat Parquet encoder (engine/parquet-flat.ts): each encodes its
 * values as they are added (definition levels as runs, then the values in the column's form), so
 * no JS value is kept per row, and writes a column chunk's page body (and dictionary) on demand.
 */
import { Bytes } from './thrift.ts';

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

/**
 * A `utf8` cell given as its UTF-8 bytes, the first `length` of `bytes` (copied when added, so
 * the caller may reuse the buffer): for values built as bytes, with no string to make, flatten
 * and encode per row (the paragraph dedup's span details, `operators/dedup/json-bytes.ts`).
 */
export interface Utf8Bytes {
  readonly bytes: Uint8Array;
  readonly length: number;
  /**
   * A DataView over `bytes` (offset 0 at `bytes[0]`), when the caller keeps one: the column then
   * copies four bytes per load (~45 ns for an 80-byte value, against ~110 byte by byte and ~85
   * for `set(subarray)`, measured in isolation).
   */
  readonly view?: DataView;
}

/**
 * A cell: strings or `Utf8Bytes` for `utf8` (numbers and booleans are written as their
 * `String()`), numbers for `int32`/`float64`, booleans for `bool`.
 */
export type FlatValue = string | number | boolean | Utf8Bytes | null | undefined;

const utf8Decoder = new TextDecoder();

/** A `utf8` cell's text: `Utf8Bytes` decoded, numbers and booleans as their `String()`. */
function cellText(v: string | number | boolean | Utf8Bytes): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return utf8Decoder.decode(v.bytes.subarray(0, v.length));
  return String(v);
}

/** Page compression: Brotli (default, quality 1), or none. */
export type FlatCodec = 'brotli' | 'none';

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
export abstract class ColumnBuilder {
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
  /**
   * Writes the values' page body (after the levels), and any dictionary into `dict`; returns the
   * dictionary's entry count (the body is then RLE_DICTIONARY), -1 when there is none (PLAIN).
   */
  abstract encodeValues(body: Bytes, dict: Bytes): number;
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
    if (!this.column.nullable) {
      if (!valid) throw new Error(`parquet: column '${this.column.name}' is not nullable but row ${this.n} of its row group is null`);
      this.n++;
      return;
    }
    this.n++;
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
    out.setU32le(lenAt, out.len - start);
  }
}

/** Writes `s` as a PLAIN byte array (4-byte length, UTF-8) with one native `Buffer.write`. */
function plainString(out: Bytes, s: string): void {
  // At most 3 UTF-8 bytes per UTF-16 code unit.
  out.ensure(4 + 3 * s.length);
  const at = out.len;
  const l = out.node().write(s, at + 4, 'utf8');
  out.setU32le(at, l);
  out.len = at + 4 + l;
}

/** Writes a `Utf8Bytes` value as a PLAIN byte array (4-byte length, then the bytes). */
function plainBytes(out: Bytes, v: Utf8Bytes): void {
  const length = v.length;
  const src = v.bytes;
  out.ensure(4 + length);
  out.u32le(length);
  const b = out.buf;
  const at = out.len;
  let i = 0;
  const sv = v.view;
  if (sv) {
    const dv = out.data();
    // Read and written with the same (default) byte order: the four bytes land as they were.
    for (; i + 4 <= length; i += 4) dv.setInt32(at + i, sv.getInt32(i));
  }
  for (; i < length; i++) b[at + i] = src[i]!;
  out.len = at + length;
}

/**
 * A `utf8` column encoded PLAIN as values arrive, one `Buffer.write` each: 68 ns for an 85-char
 * flat string (~150 for a fresh template string, most of it flattening the rope), against
 * 130–400 ns for the ways that join the column into one string first (measured on 8,192
 * span-details values). `Utf8Bytes` values are copied as they are.
 */
class PlainStrings extends ColumnBuilder {
  private readonly bytes = new Bytes(1 << 16);
  add(v: FlatValue): void {
    const valid = v !== null && v !== undefined;
    this.level(valid);
    if (!valid) return;
    if (typeof v === 'string') plainString(this.bytes, v);
    else if (typeof v === 'object') plainBytes(this.bytes, v);
    else plainString(this.bytes, String(v));
  }
  encodeValues(body: Bytes): number {
    body.bytes(this.bytes.view());
    return -1;
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
  add(v: FlatValue): void {
    const valid = v !== null && v !== undefined;
    this.level(valid);
    if (!valid) return;
    const s = cellText(v);
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
    if (this.runs * 2 > this.values) {
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
    // Checked before the level is recorded: a bad value leaves the column as it was.
    if (valid && (typeof v !== 'number' || (this.column.type === 'int32' && (!Number.isInteger(v) || v < -2147483648 || v > 2147483647)))) {
      throw new Error(`parquet: column '${this.column.name}' is ${this.column.type} but got ${JSON.stringify(v)}`);
    }
    this.level(valid);
    if (!valid) return;
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
    if (valid && typeof v !== 'boolean') throw new Error(`parquet: column '${this.column.name}' is bool but got ${JSON.stringify(v)}`);
    this.level(valid);
    if (!valid) return;
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
  protected resetValues(): void {
    this.bits.fill(0, 0, (this.count + 7) >> 3);
    this.count = 0;
  }
}

/** The builder of a column (by type, and for `utf8` by `encoding`). */
export function builder(c: FlatColumn): ColumnBuilder {
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
