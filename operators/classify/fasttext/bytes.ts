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

/** A cursor over the bytes of a model file; every read checks the bounds. */
export class ByteReader {
  private readonly view: DataView;
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly source: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.bytes.byteLength) {
      throw new FastTextFormatError(`${this.source}: truncated fastText model: ${what} needs ${n} bytes at offset ${this.pos}, the file has ${this.bytes.byteLength}`);
    }
  }
  i32(what = 'int32'): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  /** An int64 as a JS number (exact up to 2^53, which every count and size in a model is). */
  i64(what = 'int64'): number {
    this.need(8, what);
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FastTextFormatError(`${this.source}: ${what} = ${v} at offset ${this.pos - 8} is out of range`);
    }
    return Number(v);
  }
  f64(what = 'double'): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  bool(what = 'bool'): boolean {
    this.need(1, what);
    return this.bytes[this.pos++]! !== 0;
  }
  u8(what = 'byte'): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }
  /** The bytes of a NUL-terminated string (without the NUL). */
  cstring(what = 'string'): Uint8Array {
    const end = this.bytes.indexOf(0, this.pos);
    if (end < 0) throw new FastTextFormatError(`${this.source}: truncated fastText model: ${what} at offset ${this.pos} has no terminating NUL`);
    const s = this.bytes.subarray(this.pos, end);
    this.pos = end + 1;
    return s;
  }
  /** `n` float32 values, copied into an aligned array. */
  f32s(n: number, what = 'floats'): Float32Array {
    this.need(n * 4, what);
    const out = new Float32Array(n);
    new Uint8Array(out.buffer).set(this.bytes.subarray(this.pos, this.pos + n * 4));
    this.pos += n * 4;
    return out;
  }
  u8s(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const out = this.bytes.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
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
