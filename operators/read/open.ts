/**
 * The one way Sluice opens a user's text input (`read.jsonl`, `sluice apply`, `sluice tokenizer
 * train`, `sluice contamination` corpora and benchmark files): a local path, `file://`, `s3://`
 * or `-` (stdin), streamed. Compression is decided by the first bytes, never by the name:
 * gzip (`1f 8b`, multi-member) through node zlib, zstd (`28 b5 2f fd`, multi-frame) through fzstd,
 * anything else is read as it is. The text encoding is decided by a byte-order mark (UTF-8,
 * UTF-16LE/BE, UTF-32LE/BE) or given explicitly; whatever it was, the stream that comes out is
 * UTF-8. A damaged compressed stream ends with an `InputReadError` that names the file, says
 * whether it was truncated or corrupt and how far decoding got; everything decoded before the
 * damage has been delivered by then.
 */
import { isUtf8 } from 'node:buffer';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { Decompress } from 'fzstd';
import type { StorageLike } from '../../engine/types.ts';
import { storage as defaultStorage } from '../../engine/storage/index.ts';

/** How an input's bytes are compressed, as its first bytes say. */
export type Compression = 'gzip' | 'zstd' | 'none';

/**
 * Text encodings an input may be in. `auto` (the default everywhere): a byte-order mark picks
 * UTF-8, UTF-16LE/BE or UTF-32LE/BE, and without one the input is UTF-8. `latin1` is ISO-8859-1
 * (every byte is the code point of the same value); `windows-1252` is the WHATWG decoder of it.
 */
export const TEXT_ENCODINGS = ['auto', 'utf-8', 'utf-16le', 'utf-16be', 'utf-32le', 'utf-32be', 'latin1', 'windows-1252'] as const;
export type TextEncoding = (typeof TEXT_ENCODINGS)[number];
/** The encoding an input was actually decoded from (`auto` resolved). */
export type ResolvedEncoding = Exclude<TextEncoding, 'auto'>;

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

/** The byte-order mark at the start of `head`, if any: the encoding it names and its length. */
export function bomOf(head: Uint8Array): { encoding: ResolvedEncoding; length: number } | null {
  const [a, b, c, d] = head;
  if (a === 0xef && b === 0xbb && c === 0xbf) return { encoding: 'utf-8', length: 3 };
  // UTF-32LE's mark begins with UTF-16LE's: test it first.
  if (a === 0xff && b === 0xfe && c === 0 && d === 0) return { encoding: 'utf-32le', length: 4 };
  if (a === 0 && b === 0 && c === 0xfe && d === 0xff) return { encoding: 'utf-32be', length: 4 };
  if (a === 0xff && b === 0xfe) return { encoding: 'utf-16le', length: 2 };
  if (a === 0xfe && b === 0xff) return { encoding: 'utf-16be', length: 2 };
  return null;
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

/** UTF-8 bytes of a string, writing each lone surrogate as an invalid byte so readers see it. */
function utf8Marked(s: string): Buffer {
  // String.prototype.isWellFormed: Node 20 has it; TypeScript's ES2023 lib does not declare it.
  if ((s as unknown as { isWellFormed(): boolean }).isWellFormed()) return Buffer.from(s, 'utf8');
  // 0xFF never occurs in UTF-8: the reader's validity check catches the line holding it.
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < s.length) {
      const n = s.charCodeAt(i + 1);
      if (n >= 0xdc00 && n <= 0xdfff) {
        i++;
        continue;
      }
    }
    parts.push(Buffer.from(s.slice(from, i), 'utf8'), Buffer.from([0xff]));
    from = i + 1;
  }
  parts.push(Buffer.from(s.slice(from), 'utf8'));
  return Buffer.concat(parts);
}

/** Transcodes UTF-16 to UTF-8; an odd trailing byte or a lone surrogate becomes an invalid byte. */
async function* fromUtf16(src: AsyncIterable<Buffer>, bigEndian: boolean): AsyncGenerator<Buffer> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const b of src) {
    let buf = carry.length ? Buffer.concat([carry, b]) : b;
    let n = buf.length & ~1;
    // Keep a trailing high surrogate for the next chunk: its pair may be there.
    if (n >= 2) {
      const last = bigEndian ? buf.readUInt16BE(n - 2) : buf.readUInt16LE(n - 2);
      if (last >= 0xd800 && last <= 0xdbff) n -= 2;
    }
    carry = Buffer.from(buf.subarray(n));
    buf = buf.subarray(0, n);
    if (bigEndian) buf = Buffer.from(buf).swap16();
    if (buf.length) yield utf8Marked(buf.toString('utf16le'));
  }
  if (carry.length) {
    const whole = carry.length & ~1;
    const s = (bigEndian ? Buffer.from(carry.subarray(0, whole)).swap16() : carry.subarray(0, whole)).toString('utf16le');
    yield Buffer.concat([utf8Marked(s), carry.length > whole ? Buffer.from([0xff]) : Buffer.alloc(0)]);
  }
}

/** Transcodes UTF-32 to UTF-8; a code unit that is no scalar value becomes an invalid byte. */
async function* fromUtf32(src: AsyncIterable<Buffer>, bigEndian: boolean): AsyncGenerator<Buffer> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const b of src) {
    const buf = carry.length ? Buffer.concat([carry, b]) : b;
    const n = buf.length & ~3;
    const out = Buffer.allocUnsafe(n); // a code point takes at most 4 UTF-8 bytes
    let o = 0;
    for (let i = 0; i < n; i += 4) {
      const cp = bigEndian ? buf.readUInt32BE(i) : buf.readUInt32LE(i);
      if (cp < 0x80) out[o++] = cp;
      else if (cp < 0x800) {
        out[o++] = 0xc0 | (cp >> 6);
        out[o++] = 0x80 | (cp & 63);
      } else if (cp < 0x10000) {
        if (cp >= 0xd800 && cp <= 0xdfff) out[o++] = 0xff;
        else {
          out[o++] = 0xe0 | (cp >> 12);
          out[o++] = 0x80 | ((cp >> 6) & 63);
          out[o++] = 0x80 | (cp & 63);
        }
      } else if (cp <= 0x10ffff) {
        out[o++] = 0xf0 | (cp >> 18);
        out[o++] = 0x80 | ((cp >> 12) & 63);
        out[o++] = 0x80 | ((cp >> 6) & 63);
        out[o++] = 0x80 | (cp & 63);
      } else out[o++] = 0xff;
    }
    carry = Buffer.from(buf.subarray(n));
    if (o) yield out.subarray(0, o);
  }
  if (carry.length) yield Buffer.from([0xff]);
}

/** Transcodes a single-byte encoding to UTF-8 (every byte is a whole character). */
async function* fromSingleByte(src: AsyncIterable<Buffer>, encoding: 'latin1' | 'windows-1252'): AsyncGenerator<Buffer> {
  const dec = encoding === 'windows-1252' ? new TextDecoder('windows-1252') : null;
  for await (const b of src) yield Buffer.from(dec ? dec.decode(b, { stream: true }) : b.toString('latin1'), 'utf8');
}

function transcode(src: AsyncIterable<Buffer>, encoding: ResolvedEncoding): AsyncIterable<Buffer> {
  switch (encoding) {
    case 'utf-8':
      return src;
    case 'utf-16le':
    case 'utf-16be':
      return fromUtf16(src, encoding === 'utf-16be');
    case 'utf-32le':
    case 'utf-32be':
      return fromUtf32(src, encoding === 'utf-32be');
    case 'latin1':
    case 'windows-1252':
      return fromSingleByte(src, encoding);
    default: {
      const never: never = encoding;
      throw new Error(`unknown encoding ${String(never)}`);
    }
  }
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

/** Index of the first byte of `buf` that starts an invalid UTF-8 sequence (`buf.length` when none). */
export function firstInvalidUtf8(buf: Uint8Array): number {
  for (let i = 0; i < buf.length; ) {
    const b = buf[i]!;
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b < 0x80) need = 0;
    else if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // overlong
      if (b === 0xf4) hi = 0x8f; // above U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = buf[i + k];
      if (c === undefined || c < (k === 1 ? lo : 0x80) || c > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return buf.length;
}
