/**
 * The byte buffer and the Thrift compact-protocol writer behind the flat Parquet encoder
 * (engine/parquet-flat.ts): Parquet's page headers and file footer are Thrift structs, and these
 * write the few field kinds they use (i32, i64, bool, binary, lists, nested structs).
 */

// Thrift compact protocol type ids.
const C_TRUE = 1;
const C_FALSE = 2;
const C_I32 = 5;
const C_I64 = 6;
const C_BINARY = 8;
const C_LIST = 9;
const C_STRUCT = 12;

/** A growable byte buffer. */
export class Bytes {
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
    this.dataView = undefined;
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
  /** Appends a little-endian u32. */
  u32le(v: number): void {
    this.ensure(4);
    this.len += 4;
    this.setU32le(this.len - 4, v);
  }
  /** Overwrites 4 bytes at `at` with a little-endian u32 (a length known only after what follows it). */
  setU32le(at: number, v: number): void {
    const b = this.buf;
    b[at] = v & 0xff;
    b[at + 1] = (v >>> 8) & 0xff;
    b[at + 2] = (v >>> 16) & 0xff;
    b[at + 3] = (v >>> 24) & 0xff;
  }
  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.len);
    this.len += src.length;
  }
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
  private dataView: DataView | undefined;
  /** A DataView of `buf` (until it grows), for word-at-a-time copies. */
  data(): DataView {
    return (this.dataView ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length));
  }
  private nodeView: Buffer | undefined;
  /** The whole buffer as a node Buffer (for `Buffer.write`), made again after growth. */
  node(): Buffer {
    return (this.nodeView ??= Buffer.from(this.buf.buffer, this.buf.byteOffset, this.buf.length));
  }
}

/** Thrift compact protocol: structs of the field kinds Parquet's metadata needs. */
export class Thrift {
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
