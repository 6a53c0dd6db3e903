/**
 * The token shard `.bin` layout of nanoGPT/llm.c, which the trainer reads: a header of 256
 * little-endian int32 (`[0]` magic, `[1]` version, `[2]` token count, the rest zero), then the
 * tokens, little-endian. `20240520`/1 holds uint16 tokens (GPT-2-sized vocabularies), `20240520`/2
 * uint32 (Sluice's layout for vocabularies over 65,536), `20240801`/7 uint32 (llm.c's Llama 3).
 */
import { storage as defaultStorage, type Storage } from '../../engine/storage/index.ts';

export const SHARD_HEADER_BYTES = 1024;
export const SHARD_MAGIC = 20240520;
export const SHARD_MAGIC_LLAMA3 = 20240801;

/** What a shard's header says. */
export interface ShardHeader {
  magic: number;
  version: number;
  /** Number of tokens after the header. */
  tokens: number;
  /** 2 (uint16) or 4 (uint32). */
  bytesPerToken: 2 | 4;
}

/** Parses the 1,024-byte header; throws naming `uri` when it is not a token shard. */
export function parseShardHeader(bytes: Uint8Array, uri: string): ShardHeader {
  if (bytes.byteLength < SHARD_HEADER_BYTES) throw new Error(`${uri}: ${bytes.byteLength} bytes, shorter than the 1024-byte shard header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, SHARD_HEADER_BYTES);
  const magic = dv.getInt32(0, true);
  const version = dv.getInt32(4, true);
  const tokens = dv.getInt32(8, true);
  let bytesPerToken: 2 | 4;
  if (magic === SHARD_MAGIC && version === 1) bytesPerToken = 2;
  else if (magic === SHARD_MAGIC && version === 2) bytesPerToken = 4;
  else if (magic === SHARD_MAGIC_LLAMA3 && version === 7) bytesPerToken = 4;
  else throw new Error(`${uri}: not a token shard (magic ${magic}, version ${version}; expected ${SHARD_MAGIC} v1/v2 or ${SHARD_MAGIC_LLAMA3} v7)`);
  if (tokens < 0) throw new Error(`${uri}: negative token count ${tokens} in the header`);
  return { magic, version, tokens, bytesPerToken };
}

/**
 * Encodes tokens as one `.bin` shard: uint16 (v1) when every id fits, else uint32 (v2), or as
 * `bytesPerToken` says. Used by tests and benchmarks; the shard stage (operators/shard) writes
 * the pipeline's shards.
 */
export function encodeShard(tokens: ArrayLike<number>, bytesPerToken?: 2 | 4): Uint8Array {
  let max = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!Number.isInteger(t) || t < 0 || t > 0xffffffff) throw new Error(`encodeShard: token ${i} is ${t}, not a uint32`);
    if (t > max) max = t;
  }
  const width = bytesPerToken ?? (max < 65536 ? 2 : 4);
  if (width === 2 && max >= 65536) throw new Error(`encodeShard: token id ${max} does not fit uint16`);
  const out = new Uint8Array(SHARD_HEADER_BYTES + tokens.length * width);
  const dv = new DataView(out.buffer);
  dv.setInt32(0, SHARD_MAGIC, true);
  dv.setInt32(4, width === 2 ? 1 : 2, true);
  dv.setInt32(8, tokens.length, true);
  for (let i = 0; i < tokens.length; i++) {
    if (width === 2) dv.setUint16(SHARD_HEADER_BYTES + 2 * i, tokens[i]!, true);
    else dv.setUint32(SHARD_HEADER_BYTES + 4 * i, tokens[i]!, true);
  }
  return out;
}

/** Reads a shard's header with one ranged read (local or `s3://`). */
export async function readShardHeader(uri: string, store: Storage = defaultStorage): Promise<ShardHeader> {
  const head = await readRange(uri, 0, SHARD_HEADER_BYTES, store);
  const h = parseShardHeader(head, uri);
  const st = await store.stat(uri);
  const need = SHARD_HEADER_BYTES + h.tokens * h.bytesPerToken;
  if (st && st.size < need) throw new Error(`${uri}: header says ${h.tokens} tokens (${need} bytes) but the file has ${st.size} bytes`);
  return h;
}

/** Bytes `[start, end)` of an object, through the storage's ranged stream. */
export async function readRange(uri: string, start: number, end: number, store: Storage = defaultStorage): Promise<Uint8Array> {
  const stream = await store.readStream(uri, start, end);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
