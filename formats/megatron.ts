/**
 * Megatron-LM indexed datasets (`MMIDIDX`, the format of Megatron-LM's
 * `megatron/core/datasets/indexed_dataset.py`, also read by NeMo): a `<prefix>.bin` of raw
 * little-endian token ids, no header, and a `<prefix>.idx` index. Byte layout of the `.idx`,
 * all little-endian:
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 9 | magic `MMIDIDX\x00\x00` |
 * | 9 | 8 | version, uint64 = 1 |
 * | 17 | 1 | dtype code, uint8 (see {@link MEGATRON_DTYPES}) |
 * | 18 | 8 | sequence count S, uint64 |
 * | 26 | 8 | document-index count D, uint64 (documents + 1) |
 * | 34 | 4·S | sequence lengths, int32 (tokens) |
 * | 34+4S | 8·S | sequence pointers, int64 (byte offset of each sequence in the `.bin`) |
 * | 34+12S | 8·D | document indices, int64: document `d` is sequences `[di[d], di[d+1])`; `di[0] = 0`, `di[D-1] = S` |
 * | 34+12S+8D | S | sequence modes, int8 (multimodal datasets only; no header flag marks them) |
 *
 * Megatron's writer stores sequences contiguously, so pointer[i] = Σ lengths[<i] × itemsize and
 * the `.bin` is exactly Σ lengths × itemsize bytes. Sluice writes one sequence per document
 * (`di = 0, 1, …, S`), as Megatron's `preprocess_data.py` does for GPT data.
 */
import type { StorageLike } from '../engine/types.ts';
import { tokenDtype } from './tokens.ts';

/** The 9 magic bytes an `.idx` starts with. */
export const MEGATRON_MAGIC = Uint8Array.from([0x4d, 0x4d, 0x49, 0x44, 0x49, 0x44, 0x58, 0x00, 0x00]);
/** The only index version Megatron-LM writes or reads. */
export const MEGATRON_VERSION = 1;
/** Bytes before the sequence lengths. */
export const MEGATRON_HEADER_BYTES = 34;

/** Element types of a Megatron `.bin` (numpy names). */
export type MegatronDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'int64' | 'float64' | 'float32' | 'uint16';

/** Megatron-LM's `DType` enum: code and item size of each element type. */
export const MEGATRON_DTYPES: Record<MegatronDtype, { code: number; size: number }> = {
  uint8: { code: 1, size: 1 },
  int8: { code: 2, size: 1 },
  int16: { code: 3, size: 2 },
  int32: { code: 4, size: 4 },
  int64: { code: 5, size: 8 },
  float64: { code: 6, size: 8 },
  float32: { code: 7, size: 4 },
  uint16: { code: 8, size: 2 },
};

/** The dtype whose code is `code`, or undefined. */
export function megatronDtypeOfCode(code: number): MegatronDtype | undefined {
  return (Object.keys(MEGATRON_DTYPES) as MegatronDtype[]).find((k) => MEGATRON_DTYPES[k].code === code);
}

/**
 * The dtype Sluice writes for a vocabulary of `vocabSize` ids: uint16 when every id fits
 * (≤ 65,536 ids, the rule of the other shard layouts), else int32. Megatron's own
 * `DType.optimal_dtype` switches at 65,500, a margin its reader does not need: it reads any dtype
 * the code names.
 */
export function megatronDtypeFor(vocabSize: number): 'uint16' | 'int32' {
  if (vocabSize > 0x80000000) throw new Error(`a vocabulary of ${vocabSize} ids does not fit Megatron's int32 tokens`);
  return tokenDtype(vocabSize) === 'uint16' ? 'uint16' : 'int32';
}

/** What the 34-byte header says, with the byte offsets of the arrays after it. */
export interface MegatronIndexHeader {
  dtype: MegatronDtype;
  /** Bytes per token. */
  itemSize: number;
  sequences: number;
  /** Entries in the document index: documents + 1. */
  docIndexEntries: number;
  lengthsAt: number;
  pointersAt: number;
  docIndicesAt: number;
  /** True when the file also holds the int8 sequence modes (size S + header + arrays). */
  multimodal: boolean;
}

/** The 34-byte header for `sequences` sequences in `documents` documents of `dtype`. */
export function megatronHeader(dtype: MegatronDtype, sequences: number, documents: number): Uint8Array {
  const h = new Uint8Array(MEGATRON_HEADER_BYTES);
  const dv = new DataView(h.buffer);
  h.set(MEGATRON_MAGIC, 0);
  dv.setBigUint64(9, BigInt(MEGATRON_VERSION), true);
  dv.setUint8(17, MEGATRON_DTYPES[dtype].code);
  dv.setBigUint64(18, BigInt(sequences), true);
  dv.setBigUint64(26, BigInt(documents + 1), true);
  return h;
}

/** Size in bytes of an index of `sequences` sequences and `docIndexEntries` document indices. */
export function megatronIndexBytes(sequences: number, docIndexEntries: number, multimodal = false): number {
  return MEGATRON_HEADER_BYTES + 12 * sequences + 8 * docIndexEntries + (multimodal ? sequences : 0);
}

/**
 * Parses and checks an `.idx` header. `size`, when given, is the file size: it must match the
 * counts (with or without the multimodal modes). Every error names `uri` and what is wrong.
 */
export function parseMegatronHeader(bytes: Uint8Array, uri: string, size?: number): MegatronIndexHeader {
  const have = size ?? bytes.byteLength;
  if (bytes.byteLength < MEGATRON_HEADER_BYTES || have < MEGATRON_HEADER_BYTES) throw new Error(`${uri}: truncated Megatron index: ${Math.min(have, bytes.byteLength)} bytes, shorter than the ${MEGATRON_HEADER_BYTES}-byte header`);
  for (let i = 0; i < MEGATRON_MAGIC.length; i++) {
    if (bytes[i] !== MEGATRON_MAGIC[i]) throw new Error(`${uri}: not a Megatron-LM index: magic ${JSON.stringify(Buffer.from(bytes.subarray(0, 9)).toString('latin1'))}, expected "MMIDIDX\\x00\\x00"`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, MEGATRON_HEADER_BYTES);
  const version = dv.getBigUint64(9, true);
  if (version !== BigInt(MEGATRON_VERSION)) throw new Error(`${uri}: Megatron index version ${version}; only version ${MEGATRON_VERSION} exists`);
  const code = dv.getUint8(17);
  const dtype = megatronDtypeOfCode(code);
  if (!dtype) throw new Error(`${uri}: unknown Megatron dtype code ${code} (known: 1–8)`);
  const s = dv.getBigUint64(18, true);
  const d = dv.getBigUint64(26, true);
  if (s > BigInt(Number.MAX_SAFE_INTEGER) || d > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${uri}: header counts out of range (${s} sequences, ${d} document indices)`);
  const sequences = Number(s);
  const docIndexEntries = Number(d);
  if (docIndexEntries < 1) throw new Error(`${uri}: the document index is empty (it holds at least the leading 0)`);
  let multimodal = false;
  if (size !== undefined) {
    const plain = megatronIndexBytes(sequences, docIndexEntries);
    if (size === plain + sequences && sequences > 0) multimodal = true;
    else if (size < plain) throw new Error(`${uri}: truncated Megatron index: ${size} bytes, but its header counts ${sequences} sequences and ${docIndexEntries} document indices (${plain} bytes)`);
    else if (size !== plain) throw new Error(`${uri}: ${size} bytes, but its header counts ${sequences} sequences and ${docIndexEntries} document indices (${plain} bytes, or ${plain + sequences} with sequence modes)`);
  }
  return {
    dtype,
    itemSize: MEGATRON_DTYPES[dtype].size,
    sequences,
    docIndexEntries,
    lengthsAt: MEGATRON_HEADER_BYTES,
    pointersAt: MEGATRON_HEADER_BYTES + 4 * sequences,
    docIndicesAt: MEGATRON_HEADER_BYTES + 12 * sequences,
    multimodal,
  };
}

/** A byte sink (an atomic storage writer or a stage file writer). */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
}

/** Elements per write when streaming the index arrays (512 KiB of int64). */
const IDX_BLOCK = 1 << 16;

/**
 * Streams a one-sequence-per-document `.idx` for documents of `lengths` tokens into `sink`:
 * header, lengths (int32), pointers (int64, contiguous), document indices `0…n` (int64).
 * Memory: one 512 KiB block besides `lengths`. Throws on a length over int32.
 */
export async function writeMegatronIndex(sink: ByteSink, dtype: MegatronDtype, lengths: ArrayLike<number>): Promise<number> {
  const n = lengths.length;
  const item = MEGATRON_DTYPES[dtype].size;
  await sink.write(megatronHeader(dtype, n, n));
  for (let a = 0; a < n; a += IDX_BLOCK) {
    const b = Math.min(n, a + IDX_BLOCK);
    const block = new Int32Array(b - a);
    for (let i = a; i < b; i++) {
      const l = lengths[i]!;
      if (l > 0x7fffffff) throw new Error(`a document of ${l} tokens is over Megatron's int32 sequence length`);
      block[i - a] = l;
    }
    await sink.write(new Uint8Array(block.buffer));
  }
  let ptr = 0n;
  for (let a = 0; a < n; a += IDX_BLOCK) {
    const b = Math.min(n, a + IDX_BLOCK);
    const block = new BigInt64Array(b - a);
    for (let i = a; i < b; i++) {
      block[i - a] = ptr;
      ptr += BigInt(lengths[i]!) * BigInt(item);
    }
    await sink.write(new Uint8Array(block.buffer));
  }
  for (let a = 0; a <= n; a += IDX_BLOCK) {
    const b = Math.min(n + 1, a + IDX_BLOCK);
    const block = new BigInt64Array(b - a);
    for (let i = a; i < b; i++) block[i - a] = BigInt(i);
    await sink.write(new Uint8Array(block.buffer));
  }
  return megatronIndexBytes(n, n + 1);
}

/** Reads exactly `[start, start + length)` of `uri` (a ranged read on S3); throws naming `uri` when short. */
export async function readRange(store: Pick<StorageLike, 'readStream'>, uri: string, start: number, length: number): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  if (length === 0) return out;
  let fill = 0;
  for await (const chunk of await store.readStream(uri, start, start + length)) {
    const c = chunk as Uint8Array;
    const take = Math.min(c.byteLength, length - fill);
    out.set(c.subarray(0, take), fill);
    fill += take;
    if (fill === length) break;
  }
  if (fill !== length) throw new Error(`${uri}: truncated: wanted bytes ${start}–${start + length}, got ${fill}`);
  return out;
}

/** `count` int64 values at `offset` of `uri`, as numbers (throws naming `uri` past 2^53 or below 0). */
export async function readInt64s(store: Pick<StorageLike, 'readStream'>, uri: string, offset: number, count: number, what: string): Promise<Float64Array> {
  const raw = await readRange(store, uri, offset, count * 8);
  const v = new BigInt64Array(raw.buffer, raw.byteOffset, count);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const x = v[i]!;
    if (x < 0n || x > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${uri}: ${what} ${x} is out of range`);
    out[i] = Number(x);
  }
  return out;
}

/** `count` int32 sequence lengths at sequence `from` of `uri`. */
export async function readLengths(store: Pick<StorageLike, 'readStream'>, uri: string, h: MegatronIndexHeader, from: number, count: number): Promise<Int32Array> {
  const raw = await readRange(store, uri, h.lengthsAt + 4 * from, 4 * count);
  const v = new Int32Array(raw.buffer, raw.byteOffset, count);
  for (let i = 0; i < count; i++) if (v[i]! < 0) throw new Error(`${uri}: sequence ${from + i} has a negative length (${v[i]})`);
  return v;
}

/**
 * Token ids of one document's bytes as Sluice's token array, a Uint32Array whatever the stored
 * width (docs carry uint32 ids: formats/tokens.ts). Returns a reason instead when an id is
 * negative or over 2^32 − 1; floats have no token ids (the source rejects them at plan time).
 */
export function megatronTokens(bytes: Uint8Array, dtype: MegatronDtype): Uint32Array | string {
  // `bytes` is a fresh, aligned buffer per document (the reader allocates it), so views are safe.
  switch (dtype) {
    case 'uint16':
      return Uint32Array.from(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
    case 'uint8':
      return Uint32Array.from(bytes);
    case 'int8':
    case 'int16':
    case 'int32': {
      const v = dtype === 'int8' ? new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : dtype === 'int16' ? new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2) : new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      for (let i = 0; i < v.length; i++) if (v[i]! < 0) return `negative token id ${v[i]} at position ${i}`;
      return dtype === 'int32' ? new Uint32Array(bytes.buffer, bytes.byteOffset, v.length) : Uint32Array.from(v);
    }
    case 'int64': {
      const v = new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
      const out = new Uint32Array(v.length);
      for (let i = 0; i < v.length; i++) {
        const x = v[i]!;
        if (x < 0n || x > 0xffffffffn) return `token id ${x} at position ${i} is outside 0…2^32−1`;
        out[i] = Number(x);
      }
      return out;
    }
    case 'float32':
    case 'float64':
      return `dtype ${dtype} holds no token ids`;
    default: {
      const never: never = dtype;
      throw new Error(`unknown Megatron dtype ${String(never)}`);
    }
  }
}
