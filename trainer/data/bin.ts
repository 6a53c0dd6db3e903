/**
 * Reading `.bin` token shards from storage (local or `s3://`) with ranged reads; the layout
 * itself is formats/bin.ts.
 */
import { storage as defaultStorage, type Storage } from '../../engine/storage/index.ts';
import { BIN_HEADER_BYTES, parseBinHeader, type BinHeader } from '../../formats/bin.ts';

/** Reads a shard's header with one ranged read (local or `s3://`). */
export async function readShardHeader(uri: string, store: Storage = defaultStorage): Promise<BinHeader> {
  const head = await readRange(uri, 0, BIN_HEADER_BYTES, store);
  const h = parseBinHeader(head, uri);
  const st = await store.stat(uri);
  const need = BIN_HEADER_BYTES + h.tokens * h.bytesPerToken;
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
