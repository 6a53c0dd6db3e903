/**
 * Little-endian binary reading and writing for fastText's model files, which are the raw
 * in-memory layout of its C++ structs (int32, int64, float32, double, bool as one byte,
 * NUL-terminated strings) written by `std::ostream::write` on x86-64.
 */

/** Thrown when a file is not a (complete) fastText model: names the file and what is wrong. */
export class FastTextFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FastTextFormatError';
  }
}

/**
 * A cursor over a model file; every read checks the bounds. Subclasses supply the bytes: from
 * memory (`ByteReader`) or read from a file window by window (`FileReader`, file-reader.ts), so
 * a model larger than Node's 2 GiB single-read limit loads with its matrices read straight into
 * their arrays.
 */
export abstract class ModelReader {
  pos = 0;
  private dv: DataView | undefined;
  private dvOf: Uint8Array | undefined;
  constructor(
    readonly source: string,
    readonly size: number,
  ) {}

  /** Bytes left after the cursor. */
  get remaining(): number {
    return this.size - this.pos;
  }
  /** A buffer holding bytes `[pos, pos + n)` from index `at` (valid until the next read). */
  protected abstract window(n: number): { b: Uint8Array; at: number };
  /** The bytes `[pos, end)` where `end` is the next NUL at or after `pos`, or null when there is none. */
  protected abstract untilNul(): Uint8Array | null;

  protected need(n: number, what: string): void {
    if (n > this.remaining) {
      throw new FastTextFormatError(`${this.source}: truncated fastText model: ${what} needs ${n} bytes at offset ${this.pos}, the file has ${this.size}`);
    }
  }
  private take(n: number, what: string): { v: DataView; at: number; b: Uint8Array } {
    this.need(n, what);
    const { b, at } = this.window(n);
    if (this.dvOf !== b) {
      this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      this.dvOf = b;
    }
    this.pos += n;
    return { v: this.dv!, at, b };
  }
  i32(what = 'int32'): number {
    const { v, at } = this.take(4, what);
    return v.getInt32(at, true);
  }
  /** An int64 as a JS number (exact up to 2^53, which every count and size in a model is). */
  i64(what = 'int64'): number {
    const { v, at } = this.take(8, what);
    const x = v.getBigInt64(at, true);
    if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FastTextFormatError(`${this.source}: ${what} = ${x} at offset ${this.pos - 8} is out of range`);
    }
    return Number(x);
  }
  f64(what = 'double'): number {
    const { v, at } = this.take(8, what);
    return v.getFloat64(at, true);
  }
  bool(what = 'bool'): boolean {
    return this.u8(what) !== 0;
  }
  u8(what = 'byte'): number {
    const { b, at } = this.take(1, what);
    return b[at]!;
  }
  /** The bytes of a NUL-terminated string (without the NUL), copied. */
  cstring(what = 'string'): Uint8Array {
    const s = this.untilNul();
    if (!s) throw new FastTextFormatError(`${this.source}: truncated fastText model: ${what} at offset ${this.pos} has no terminating NUL`);
    const out = s.slice();
    this.pos += s.length + 1;
    return out;
  }
  /** `n` float32 values in a fresh (aligned) array. */
  f32s(n: number, what = 'floats'): Float32Array {
    this.need(n * 4, what);
    const out = new Float32Array(n);
    this.readInto(new Uint8Array(out.buffer), what);
    return out;
  }
  /** `n` bytes in a fresh array. */
  u8s(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = new Uint8Array(n);
    this.readInto(out, what);
    return out;
  }
  /** Fills `dst` with the next `dst.length` bytes. */
  protected readInto(dst: Uint8Array, what: string): void {
    const { b, at } = this.take(dst.length, what);
    dst.set(b.subarray(at, at + dst.length));
  }
}

/** A model file's bytes in memory. */
export class ByteReader extends ModelReader {
  constructor(
    readonly bytes: Uint8Array,
    source: string,
  ) {
    super(source, bytes.byteLength);
  }
  protected window(_n: number): { b: Uint8Array; at: number } {
    return { b: this.bytes, at: this.pos };
  }
  protected untilNul(): Uint8Array | null {
    const end = this.bytes.indexOf(0, this.pos);
    return end < 0 ? null : this.bytes.subarray(this.pos, end);
  }
}

/** Appends fastText's binary fields to a growing list of chunks. */
export class ByteWriter {
  private readonly chunks: Uint8Array[] = [];
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  private used = 0;

  private room(n: number): void {
    if (this.used + n <= this.buf.byteLength) return;
    this.flush();
    if (n > this.buf.byteLength) {
      this.buf = new Uint8Array(n);
      this.view = new DataView(this.buf.buffer);
    }
  }
  private flush(): void {
    if (this.used) this.chunks.push(this.buf.slice(0, this.used));
    this.used = 0;
  }
  i32(v: number): void {
    this.room(4);
    this.view.setInt32(this.used, v, true);
    this.used += 4;
  }
  i64(v: number): void {
    this.room(8);
    this.view.setBigInt64(this.used, BigInt(v), true);
    this.used += 8;
  }
  f64(v: number): void {
    this.room(8);
    this.view.setFloat64(this.used, v, true);
    this.used += 8;
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.used++] = v;
  }
  bool(v: boolean): void {
    this.u8(v ? 1 : 0);
  }
  cstring(s: Uint8Array): void {
    this.bytes(s);
    this.u8(0);
  }
  /** Small arrays are copied into the buffer; large ones (matrices) are referenced as their own chunk. */
  bytes(b: Uint8Array): void {
    if (b.length <= 4096) {
      this.room(b.length);
      this.buf.set(b, this.used);
      this.used += b.length;
      return;
    }
    this.flush();
    this.chunks.push(b);
  }
  f32s(a: Float32Array): void {
    this.bytes(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  }
  /** The chunks written so far (large arrays are referenced, not copied). */
  finish(): Uint8Array[] {
    this.flush();
    return this.chunks;
  }
}
