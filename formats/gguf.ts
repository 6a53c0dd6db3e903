/**
 * GGUF (version 3), the file format of llama.cpp, Ollama and LM Studio: a header (magic `GGUF`,
 * version, tensor count, key/value count), typed key/value metadata, tensor descriptors (name,
 * dimensions innermost first, type, offset into the data section), then the tensor data, each
 * tensor aligned to `general.alignment` (32 bytes). All integers little-endian. Spec:
 * ggml-org/ggml `docs/gguf.md`; the reader it must satisfy is llama.cpp's `gguf.cpp`.
 *
 * Written here rather than with a package: the format is ~150 lines to write; `@huggingface/gguf`
 * parses files and re-serialises the metadata of an existing one (its header editor) but writes
 * no tensor descriptors or data; and the tests load the result with llama.cpp itself
 * (node-llama-cpp) and check it with node-llama-cpp's own GGUF parser.
 */

/** GGUF metadata value types (`gguf_type`). */
export const GGUF_TYPE = { u8: 0, i8: 1, u16: 2, i16: 3, u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10, i64: 11, f64: 12 } as const;

/** A scalar metadata type. */
export type GgufScalarType = Exclude<keyof typeof GGUF_TYPE, 'array'>;

/** A metadata value: a scalar of a given type, or an array of one scalar type. */
export type GgufValue =
  | { type: Exclude<GgufScalarType, 'string' | 'bool' | 'u64' | 'i64'>; value: number }
  | { type: 'u64' | 'i64'; value: bigint | number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'array'; of: 'string'; values: string[] }
  | { type: 'array'; of: Exclude<GgufScalarType, 'string' | 'bool' | 'u64' | 'i64'>; values: ArrayLike<number> };

/** ggml tensor types this writer emits. */
export const GGML_TYPE = { f32: 0, f16: 1 } as const;

/** A tensor to write: shape outermost first (numpy/PyTorch order), float32 values row-major. */
export interface GgufTensor {
  name: string;
  shape: number[];
  data: Float32Array;
  /** Stored type (default `f32`; `f16` rounds each value to half precision). */
  type?: keyof typeof GGML_TYPE;
}

/** Where the bytes go: e.g. the storage facade's atomic writer. */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
}

/** The alignment of tensor data (GGUF's default, `general.alignment`). */
export const GGUF_ALIGNMENT = 32;

/** A growable little-endian byte buffer (one allocation per doubling, not one per value). */
class Bytes {
  private buf = new Uint8Array(1 << 16);
  private dv = new DataView(this.buf.buffer);
  length = 0;
  private room(n: number): number {
    if (this.length + n > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < this.length + n) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.dv = new DataView(next.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }
  /** Reserves `n` bytes at the end and returns the (possibly new) view to write them through. */
  private at(n: number): DataView {
    this.room(n);
    return this.dv;
  }
  u8 = (v: number) => this.at(1).setUint8(this.length - 1, v);
  i8 = (v: number) => this.at(1).setInt8(this.length - 1, v);
  u16 = (v: number) => this.at(2).setUint16(this.length - 2, v, true);
  i16 = (v: number) => this.at(2).setInt16(this.length - 2, v, true);
  u32 = (v: number) => this.at(4).setUint32(this.length - 4, v, true);
  i32 = (v: number) => this.at(4).setInt32(this.length - 4, v, true);
  f32 = (v: number) => this.at(4).setFloat32(this.length - 4, v, true);
  f64 = (v: number) => this.at(8).setFloat64(this.length - 8, v, true);
  u64 = (v: bigint | number) => this.at(8).setBigUint64(this.length - 8, BigInt(v), true);
  i64 = (v: bigint | number) => this.at(8).setBigInt64(this.length - 8, BigInt(v), true);
  str(s: string) {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    const at = this.room(b.length);
    this.buf.set(b, at);
  }
  pad(to: number) {
    this.room((to - (this.length % to)) % to); // fresh bytes are zero
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

const RANGES: Record<string, [number, number]> = { u8: [0, 255], i8: [-128, 127], u16: [0, 65535], i16: [-32768, 32767], u32: [0, 2 ** 32 - 1], i32: [-(2 ** 31), 2 ** 31 - 1] };

function checkNumber(key: string, type: string, v: number) {
  const r = RANGES[type];
  if (r && !(Number.isInteger(v) && v >= r[0] && v <= r[1])) throw new Error(`gguf: key ${key}: ${v} is not a ${type}`);
  if (!r && !Number.isFinite(v)) throw new Error(`gguf: key ${key}: ${v} is not a finite ${type}`);
}

function scalar(out: Bytes, key: string, type: GgufScalarType, v: unknown): void {
  switch (type) {
    case 'string':
      return out.str(v as string);
    case 'bool':
      return out.u8(v ? 1 : 0);
    case 'u64':
      return out.u64(v as bigint | number);
    case 'i64':
      return out.i64(v as bigint | number);
    case 'u8':
    case 'i8':
    case 'u16':
    case 'i16':
    case 'u32':
    case 'i32':
    case 'f32':
    case 'f64':
      checkNumber(key, type, v as number);
      return out[type](v as number);
    default: {
      const never: never = type;
      throw new Error(`gguf: unknown type ${String(never)}`);
    }
  }
}

/** Half-precision bits of a float32 (round to nearest even; overflow → ±Inf), as ggml's `GGML_FP32_TO_FP16`. */
export function f32ToF16(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

function tensorBytes(t: GgufTensor): Uint8Array {
  const type = t.type ?? 'f32';
  switch (type) {
    case 'f32':
      // Float32Array is little-endian on every platform Node runs on (x86-64, arm64).
      return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    case 'f16': {
      const h = new Uint16Array(t.data.length);
      for (let i = 0; i < h.length; i++) h[i] = f32ToF16(t.data[i]!);
      return new Uint8Array(h.buffer);
    }
    default: {
      const never: never = type;
      throw new Error(`gguf: unknown tensor type ${String(never)}`);
    }
  }
}

/**
 * Writes a GGUF v3 file to `sink`: the metadata in the order given, then the tensors in the
 * order given (each aligned to 32 bytes); resolves to the bytes written. Throws, naming the key or tensor, on a value out of its
 * type's range, a duplicate name, or data that does not fill the shape.
 */
export async function writeGguf(sink: ByteSink, metadata: Array<[string, GgufValue]>, tensors: GgufTensor[]): Promise<number> {
  const head = new Bytes();
  head.u32(0x46554747); // "GGUF"
  head.u32(3);
  head.u64(tensors.length);
  head.u64(metadata.length);
  const keys = new Set<string>();
  for (const [key, v] of metadata) {
    if (keys.has(key)) throw new Error(`gguf: duplicate key ${key}`);
    keys.add(key);
    head.str(key);
    head.u32(GGUF_TYPE[v.type]);
    if (v.type === 'array') {
      head.u32(GGUF_TYPE[v.of]);
      head.u64(v.values.length);
      for (let i = 0; i < v.values.length; i++) scalar(head, key, v.of, v.values[i]);
    } else scalar(head, key, v.type, v.value);
  }
  const names = new Set<string>();
  let offset = 0;
  const sizes: number[] = [];
  for (const t of tensors) {
    if (names.has(t.name)) throw new Error(`gguf: duplicate tensor ${t.name}`);
    names.add(t.name);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`gguf: tensor ${t.name} has ${t.data.length} values for shape [${t.shape}]`);
    head.str(t.name);
    head.u32(t.shape.length);
    for (const d of [...t.shape].reverse()) head.u64(d); // ggml's ne[]: innermost dimension first
    head.u32(GGML_TYPE[t.type ?? 'f32']);
    head.u64(offset);
    const size = n * ((t.type ?? 'f32') === 'f16' ? 2 : 4);
    sizes.push(size);
    offset += Math.ceil(size / GGUF_ALIGNMENT) * GGUF_ALIGNMENT;
  }
  head.pad(GGUF_ALIGNMENT);
  let written = head.length;
  await sink.write(head.bytes());
  for (const [i, t] of tensors.entries()) {
    const b = tensorBytes(t);
    await sink.write(b);
    // The last tensor is padded too, as gguf-py does: readers that sum padded sizes stay in the file.
    const pad = (GGUF_ALIGNMENT - (sizes[i]! % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT;
    if (pad) await sink.write(new Uint8Array(pad));
    written += b.length + pad;
  }
  return written;
}
