/**
 * The `.bin` token shard layout of nanoGPT/llm.c: what `shard.tokens({ format: 'bin' })` writes
 * and the trainer reads. A header of 256 little-endian int32 (`[0]` magic, `[1]` version, `[2]`
 * token count, the rest zero), then the tokens, little-endian. `20240520`/1 holds uint16 tokens
 * (vocabularies up to 65,536 ids), `20240520`/2 uint32 (Sluice's layout for larger ones),
 * `20240801`/7 uint32 (llm.c's Llama 3 shards, read only). The width follows formats/tokens.ts.
 */
import { TOKEN_BYTES, type TokenDtype, type TokenIds } from './tokens.ts';

/** Magic of Sluice/nanoGPT shards (versions 1 and 2). */
export const BIN_MAGIC = 20240520;
/** Magic of llm.c's Llama 3 shards (version 7, uint32). */
export const BIN_MAGIC_LLAMA3 = 20240801;
/** Header size: 256 int32. */
export const BIN_HEADER_BYTES = 1024;

/** What a shard's header says. */
export interface BinHeader {
  magic: number;
  version: number;
  /** Number of tokens after the header. */
  tokens: number;
  /** 2 (uint16) or 4 (uint32). */
  bytesPerToken: 2 | 4;
}

/** The 1,024-byte header for `tokens` tokens of `dtype`. */
export function binHeader(tokens: number, dtype: TokenDtype): Uint8Array {
  if (tokens > 0x7fffffff) throw new Error(`a .bin shard holds at most 2^31−1 tokens (int32 header), got ${tokens}`);
  const h = new Uint8Array(BIN_HEADER_BYTES);
  const dv = new DataView(h.buffer);
  dv.setInt32(0, BIN_MAGIC, true);
  dv.setInt32(4, dtype === 'uint16' ? 1 : 2, true);
  dv.setInt32(8, tokens, true);
  return h;
}

/** Parses the 1,024-byte header; throws naming `uri` when it is not a token shard. */
export function parseBinHeader(bytes: Uint8Array, uri: string): BinHeader {
  if (bytes.byteLength < BIN_HEADER_BYTES) throw new Error(`${uri}: ${bytes.byteLength} bytes, shorter than the 1024-byte shard header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, BIN_HEADER_BYTES);
  const magic = dv.getInt32(0, true);
  const version = dv.getInt32(4, true);
  const tokens = dv.getInt32(8, true);
  let bytesPerToken: 2 | 4;
  if (magic === BIN_MAGIC && version === 1) bytesPerToken = 2;
  else if (magic === BIN_MAGIC && version === 2) bytesPerToken = 4;
  else if (magic === BIN_MAGIC_LLAMA3 && version === 7) bytesPerToken = 4;
  else throw new Error(`${uri}: not a token shard (magic ${magic}, version ${version}; expected ${BIN_MAGIC} v1/v2 or ${BIN_MAGIC_LLAMA3} v7)`);
  if (tokens < 0) throw new Error(`${uri}: negative token count ${tokens} in the header`);
  return { magic, version, tokens, bytesPerToken };
}

/** Parses a whole `.bin` shard (a copy of its tokens); throws naming `uri` when the header or size is wrong. */
export function readBin(bytes: Uint8Array, uri = '.bin'): { dtype: TokenDtype; tokens: TokenIds } {
  const h = parseBinHeader(bytes, uri);
  if (bytes.byteLength !== BIN_HEADER_BYTES + h.tokens * h.bytesPerToken) throw new Error(`${uri}: header says ${h.tokens} tokens but the file has ${bytes.byteLength - BIN_HEADER_BYTES} bytes of tokens`);
  // Copy (Uint8Array.prototype.slice: a Buffer's own slice is a view on a shared pool).
  const copy = Uint8Array.prototype.slice.call(bytes, BIN_HEADER_BYTES);
  return h.bytesPerToken === TOKEN_BYTES.uint16 ? { dtype: 'uint16', tokens: new Uint16Array(copy.buffer) } : { dtype: 'uint32', tokens: new Uint32Array(copy.buffer) };
}

/**
 * Encodes tokens as one `.bin` shard: uint16 (v1) when every id fits, else uint32 (v2), or as
 * `bytesPerToken` says. For tests, benchmarks and hand-made corpora; `shard.tokens` writes a
 * pipeline's shards (with the tokenizer's width, not the data's).
 */
export function encodeBin(tokens: ArrayLike<number>, bytesPerToken?: 2 | 4): Uint8Array {
  let max = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!Number.isInteger(t) || t < 0 || t > 0xffffffff) throw new Error(`encodeBin: token ${i} is ${t}, not a uint32`);
    if (t > max) max = t;
  }
  const width = bytesPerToken ?? (max < 65536 ? 2 : 4);
  if (width === 2 && max >= 65536) throw new Error(`encodeBin: token id ${max} does not fit uint16`);
  const out = new Uint8Array(BIN_HEADER_BYTES + tokens.length * width);
  out.set(binHeader(tokens.length, width === 2 ? 'uint16' : 'uint32'));
  const dv = new DataView(out.buffer);
  for (let i = 0; i < tokens.length; i++) {
    if (width === 2) dv.setUint16(BIN_HEADER_BYTES + 2 * i, tokens[i]!, true);
    else dv.setUint32(BIN_HEADER_BYTES + 4 * i, tokens[i]!, true);
  }
  return out;
}
