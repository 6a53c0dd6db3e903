/**
 * The one way Sluice opens a user's text input (`read.jsonl`, `sluice apply`, `sluice tokenizer
 * train`, `sluice contamination` corpora and benchmark files): a local path, `file://`, `s3://`
 * or `-` (stdin), streamed. Compression is decided by the first bytes, never by the name:
 * gzip (`1f 8b`, multi-member) through node zlib, zstd (`28 b5 2f fd`, multi-frame) through fzstd,
 * anything else is read as it is. The text encoding is decided by a byte-order mark (UTF-8,
 * UTF-16LE/BE, UTF-32LE/BE) or given explicitly (`encoding.ts`); whatever it was, the stream
 * that comes out is UTF-8. A damaged compressed stream ends with an `InputReadError` that names the file, says
 * whether it was truncated or corrupt and how far decoding got; everything decoded before the
 * damage has been delivered by then.
 */
import { isUtf8 } from 'node:buffer';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { Decompress } from 'fzstd';
import type { StorageLike } from '../../engine/types.ts';
import { storage as defaultStorage } from '../../engine/storage/index.ts';
import { bomOf, firstInvalidUtf8, transcode, type ResolvedEncoding, type TextEncoding } from './encoding.ts';

export { firstInvalidUtf8, TEXT_ENCODINGS, type ResolvedEncoding, type TextEncoding } from './encoding.ts';

/** How an input's bytes are compressed, as its first bytes say. */
export type Compression = 'gzip' | 'zstd' | 'none';

/** Options of `openInput`. */
export interface OpenOptions {
  /** Storage facade (default: the process-wide one). */
  storage?: StorageLike;
  /** Byte range `[start, end)` of a plain (uncompressed, UTF-8) file; a compressed input refuses a range. */
  start?: number;
  end?: number;
  /** Text encoding (default `auto`: by byte-order mark, else UTF-8). */
  encoding?: TextEncoding;
}

/** Counters of an open input, live while it is read. */
export interface InputProgress {
  /** Bytes read from the file (compressed bytes for a compressed input). */
  rawBytes: number;
  /** Decompressed bytes produced, before transcoding. */
  bytes: number;
}

/** An opened input: UTF-8 bytes, and what was found out about the file. */
export interface OpenedInput {
  uri: string;
  compression: Compression;
  encoding: ResolvedEncoding;
  /** True when a byte-order mark was found (and removed). */
  bom: boolean;
  /** The text as UTF-8 bytes. Invalid sequences stay invalid (the reader records them). */
  chunks: AsyncIterable<Buffer>;
  progress: InputProgress;
}

/** Why a compressed input could not be read to its end. */
export type InputErrorKind = 'truncated' | 'corrupt';

/**
 * A compressed input that ends early (`truncated`) or holds undecodable data (`corrupt`). The
 * message names the file and how far decoding got; the fields carry the same for audit records.
 */
export class InputReadError extends Error {
  constructor(
    readonly uri: string,
    readonly kind: InputErrorKind,
    readonly compression: Compression,
    readonly rawBytes: number,
    readonly bytes: number,
    readonly detail: string,
  ) {
    super(`${uri}: ${kind === 'truncated' ? 'truncated' : 'corrupt'} ${compression} stream (${detail}) after ${rawBytes.toLocaleString('en-US')} compressed bytes, ${bytes.toLocaleString('en-US')} bytes decompressed`);
    this.name = 'InputReadError';
  }
}

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];

/** Compression of a file from its first bytes (at least 4 when the file has them). */
export function compressionOf(head: Uint8Array): Compression {
  if (head[0] === GZIP[0] && head[1] === GZIP[1]) return 'gzip';
  if (ZSTD.every((b, i) => head[i] === b)) return 'zstd';
  // A zstd skippable frame (magic 0x184D2A50–5F, little-endian) may lead a zstd file.
  if (head.length >= 4 && (head[0]! & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18) return 'zstd';
  return 'none';
}

function toBuffer(c: Uint8Array | string): Buffer {
  if (typeof c === 'string') return Buffer.from(c, 'utf8');
  return Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}

/** Reads from `it` until `n` bytes are buffered or it ends; returns them and the iterator's rest. */
async function peek(it: AsyncIterator<Uint8Array | string>, n: number): Promise<{ head: Buffer; done: boolean }> {
  const parts: Buffer[] = [];
  let total = 0;
  while (total < n) {
    const r = await it.next();
    if (r.done) return { head: Buffer.concat(parts, total), done: true };
    const b = toBuffer(r.value);
    parts.push(b);
    total += b.length;
  }
  return { head: parts.length === 1 ? parts[0]! : Buffer.concat(parts, total), done: false };
}

/** `head` followed by the rest of `it`. */
async function* prepend(head: Buffer, it: AsyncIterator<Uint8Array | string>, done: boolean): AsyncGenerator<Buffer> {
  let finished = done;
  try {
    if (head.length) yield head;
    while (!finished) {
      const r = await it.next();
      if (r.done) {
        finished = true;
        return;
      }
      const b = toBuffer(r.value);
      if (b.length) yield b;
    }
  } finally {
    // A reader that stops early (a range task past its end) closes the file here.
    if (!finished) await it.return?.();
  }
}

/** Marks errors of the underlying file read, so they are not taken for damaged compression. */
class SourceError extends Error {
  constructor(readonly original: unknown) {
    super((original as Error)?.message ?? String(original));
  }
}

async function* counted(src: AsyncIterable<Buffer>, progress: InputProgress): AsyncGenerator<Buffer> {
  try {
    for await (const b of src) {
      progress.rawBytes += b.length;
      yield b;
    }
  } catch (e) {
    throw new SourceError(e);
  }
}

async function* gunzip(src: AsyncIterable<Buffer>, uri: string, progress: InputProgress): AsyncGenerator<Buffer> {
  const z = createGunzip();
  const input = Readable.from(src);
  // Errors of the source (an I/O error) reach the gunzip stream and end its iteration.
  input.on('error', (e) => z.destroy(e));
  input.pipe(z);
  try {
    for await (const c of z) {
      progress.bytes += (c as Buffer).length;
      yield c as Buffer;
    }
  } catch (e) {
    if (e instanceof SourceError) throw e.original;
    const code = (e as NodeJS.ErrnoException).code;
    const kind: InputErrorKind = code === 'Z_BUF_ERROR' || /unexpected end/i.test((e as Error).message) ? 'truncated' : 'corrupt';
    throw new InputReadError(uri, kind, 'gzip', progress.rawBytes, progress.bytes, (e as Error).message);
  } finally {
    input.destroy();
  }
}

async function* unzstd(src: AsyncIterable<Buffer>, uri: string, progress: InputProgress): AsyncGenerator<Buffer> {
  let out: Buffer[] = [];
  const d = new Decompress((chunk) => {
    // fzstd reuses no output buffer across calls, but copy to own the bytes whatever it does.
    out.push(Buffer.from(chunk));
  });
  const fail = (e: unknown): never => {
    const msg = (e as Error).message;
    throw new InputReadError(uri, /unexpected EOF/i.test(msg) ? 'truncated' : 'corrupt', 'zstd', progress.rawBytes, progress.bytes, msg);
  };
  const drain = function* () {
    const o = out;
    out = [];
    for (const b of o) {
      progress.bytes += b.length;
      yield b;
    }
  };
  try {
    for await (const b of src) {
      try {
        d.push(b);
      } catch (e) {
        yield* drain();
        fail(e);
      }
      yield* drain();
    }
  } catch (e) {
    if (e instanceof SourceError) throw e.original;
    throw e;
  }
  try {
    d.push(new Uint8Array(0), true);
  } catch (e) {
    yield* drain();
    fail(e);
  }
  yield* drain();
}

/** Reads the first bytes of an input: its compression and, for a plain input, its byte-order mark. */
export async function sniffInput(uri: string, s: StorageLike = defaultStorage): Promise<{ compression: Compression; bom: ResolvedEncoding | null }> {
  const raw = (await s.readStream(uri, 0, 4)) as AsyncIterable<Uint8Array>;
  const parts: Buffer[] = [];
  for await (const c of raw) parts.push(toBuffer(c));
  const head = Buffer.concat(parts);
  const compression = compressionOf(head);
  return { compression, bom: compression === 'none' ? (bomOf(head)?.encoding ?? null) : null };
}

/**
 * Opens `uri` (a path, `file://`, `s3://`, or `-` for stdin) and returns its text as a stream
 * of UTF-8 bytes, decompressed by magic bytes and transcoded from its encoding (by byte-order
 * mark under the default `auto`). A `start`/`end` range reads part of a plain file (its
 * encoding must then be single-byte or UTF-8, which the planner checks with `sniffInput`).
 * Errors: an unreadable file names it (from the storage layer); a damaged compressed stream
 * throws `InputReadError` at the point of damage, after everything before it.
 */
export async function openInput(uri: string, opts: OpenOptions = {}): Promise<OpenedInput> {
  const s = opts.storage ?? defaultStorage;
  const start = opts.start ?? 0;
  const raw: AsyncIterable<Uint8Array | string> = uri === '-' ? process.stdin : ((await s.readStream(uri, start > 0 ? start : undefined, opts.end)) as AsyncIterable<Uint8Array>);
  const it = raw[Symbol.asyncIterator]();
  const first = await peek(it, 4);
  const progress: InputProgress = { rawBytes: 0, bytes: 0 };
  const compression = start > 0 ? 'none' : compressionOf(first.head);
  let bytes: AsyncIterable<Buffer> = counted(prepend(first.head, it, first.done), progress);
  switch (compression) {
    case 'gzip':
      bytes = gunzip(bytes, uri, progress);
      break;
    case 'zstd':
      bytes = unzstd(bytes, uri, progress);
      break;
    case 'none':
      bytes = (async function* (src) {
        try {
          for await (const b of src) {
            progress.bytes += b.length;
            yield b;
          }
        } catch (e) {
          throw e instanceof SourceError ? e.original : e;
        }
      })(bytes);
      break;
    default: {
      const never: never = compression;
      throw new Error(`unknown compression ${String(never)}`);
    }
  }
  // The byte-order mark is read from the decompressed text.
  const want = opts.encoding ?? 'auto';
  const dit = bytes[Symbol.asyncIterator]();
  let d: { head: Buffer; done: boolean };
  try {
    d = start > 0 ? { head: Buffer.alloc(0), done: false } : await peek(dit, 4);
  } catch (e) {
    // Damage within the first bytes: the reader meets it where it reads, like any later damage.
    if (!(e instanceof InputReadError)) throw e;
    const failing = (async function* (): AsyncGenerator<Buffer> {
      throw e;
    })();
    return { uri, compression, encoding: want === 'auto' ? 'utf-8' : want, bom: false, chunks: failing, progress };
  }
  const bom = bomOf(d.head);
  const encoding: ResolvedEncoding = want === 'auto' ? (bom?.encoding ?? 'utf-8') : want;
  let head = d.head;
  // A mark is removed when it agrees with the encoding (given or detected); otherwise it is text.
  if (bom && bom.encoding === encoding) head = head.subarray(bom.length);
  const text = transcode(prepend(head, dit, d.done), encoding);
  return { uri, compression, encoding, bom: !!bom && bom.encoding === encoding, chunks: text, progress };
}

/**
 * Reads a whole input (decompressed, transcoded) into a string, for small files read at once
 * (benchmark files, labels, CSV, one-document text files). `invalidAt` is the byte offset of
 * the first invalid UTF-8 sequence (decoded as U+FFFD in `text`), or null when the text is valid.
 * A damaged compressed stream throws `InputReadError`.
 */
export async function readInputText(uri: string, opts: OpenOptions = {}): Promise<{ text: string; invalidAt: number | null; input: OpenedInput }> {
  const input = await openInput(uri, opts);
  const parts: Buffer[] = [];
  for await (const c of input.chunks) parts.push(c);
  const buf = Buffer.concat(parts);
  return { text: buf.toString('utf8'), invalidAt: isUtf8(buf) ? null : firstInvalidUtf8(buf), input };
}
