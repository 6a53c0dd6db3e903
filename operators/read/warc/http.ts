/**
 * HTTP/1.x message parsing for WARC `response` (and `request`) blocks and for the crawler: status
 * line, headers, the entity body with its transfer coding removed (chunked) and its content
 * coding decoded (gzip, deflate, br, zstd), with a cap on the decoded size against
 * decompression bombs.
 */
import zlib from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';

/** A parsed HTTP message. Header names are lower-cased; repeated headers keep every value. */
export interface HttpMessage {
  /** Status code of a response (undefined for a request). */
  status?: number;
  /** First line as written (`HTTP/1.1 200 OK`, `GET / HTTP/1.1`). */
  startLine: string;
  headers: Map<string, string[]>;
  /** The body as transmitted, transfer coding removed (what WARC-Payload-Digest covers). */
  payload: Buffer;
  /** Problems that were worked around (e.g. a body declared chunked that is not). */
  warnings: string[];
}

/** A message that cannot be used, with the reason. */
export class HttpError extends Error {}

/** First value of a header. */
export function header(h: Map<string, string[]>, name: string): string | undefined {
  return h.get(name)?.[0];
}

/** Parses an HTTP message block (a WARC response/request record's block). Throws HttpError when unusable. */
export function parseHttp(block: Buffer): HttpMessage {
  // CRLF or LF-only, as the status line ends (searching for both would scan the whole body)
  const nl = block.indexOf(10);
  const crlf = nl > 0 && block[nl - 1] === 13;
  let a = crlf ? block.indexOf('\r\n\r\n') : block.indexOf('\n\n');
  let sep = crlf ? 4 : 2;
  if (crlf && a >= 0) {
    // a CRLF status line with LF-only headers after it (seen in hand-edited files)
    const b = block.lastIndexOf('\n\n', a);
    if (b >= 0) {
      a = b;
      sep = 2;
    }
  }
  let head: string;
  let body: Buffer;
  if (a < 0) {
    // headers only (e.g. a 304 written without the blank line)
    head = block.toString('latin1');
    body = Buffer.alloc(0);
  } else {
    head = block.toString('latin1', 0, a);
    body = block.subarray(a + sep);
  }
  const lines = head.split(/\r?\n/);
  const startLine = lines[0]!.trim();
  let status: number | undefined;
  const m = /^HTTP\/\d(?:\.\d)?\s+(\d{3})\b/i.exec(startLine);
  if (m) status = Number(m[1]);
  else if (!/^[A-Z]+\s+\S+\s+HTTP\/\d/i.test(startLine)) throw new HttpError('http: invalid status line');
  const headers = new Map<string, string[]>();
  let last: string[] | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line) continue;
    if ((line[0] === ' ' || line[0] === '\t') && last) {
      last[last.length - 1] += ' ' + line.trim();
      continue;
    }
    const c = line.indexOf(':');
    if (c <= 0) continue;
    const name = line.slice(0, c).trim().toLowerCase();
    const value = line.slice(c + 1).trim();
    const arr = headers.get(name);
    if (arr) arr.push(value);
    else headers.set(name, [value]);
    last = headers.get(name);
  }
  const warnings: string[] = [];
  const te = header(headers, 'transfer-encoding')?.toLowerCase();
  if (te && te.includes('chunked')) {
    const d = dechunk(body);
    if (d) body = d;
    else warnings.push('http: body declared chunked is not; kept as received');
  }
  return { status, startLine, headers, payload: body, warnings };
}

/** Removes chunked transfer coding; undefined when the body is not validly chunked. */
export function dechunk(body: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let p = 0;
  for (;;) {
    const nl = body.indexOf('\n', p);
    if (nl < 0) return undefined;
    const sizeLine = body.toString('latin1', p, nl).trim().split(';')[0]!.trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeLine)) return undefined;
    const size = parseInt(sizeLine, 16);
    p = nl + 1;
    if (size === 0) return Buffer.concat(parts);
    if (p + size > body.length) return undefined;
    parts.push(body.subarray(p, p + size));
    p += size;
    if (body[p] === 13) p++;
    if (body[p] === 10) p++;
    else if (p < body.length) return undefined;
    if (p >= body.length) return Buffer.concat(parts); // missing last-chunk: keep what is there
  }
}

/**
 * Decodes the content coding named by `Content-Encoding` (identity, gzip, x-gzip, deflate, br,
 * zstd; a list is undone right to left). Output is capped at `maxBytes`. Throws HttpError on an
 * unknown coding or undecodable data.
 */
export function decodeContent(payload: Buffer, contentEncoding: string | undefined, maxBytes: number): Buffer {
  if (!contentEncoding) return payload;
  const codings = contentEncoding
    .toLowerCase()
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'identity');
  let out = payload;
  for (const c of codings.reverse()) {
    try {
      switch (c) {
        case 'gzip':
        case 'x-gzip':
          out = zlib.gunzipSync(out, { maxOutputLength: maxBytes });
          break;
        case 'deflate':
          // servers send both zlib-wrapped and raw deflate under this name
          out = out[0] !== undefined && (out[0] & 0x0f) === 8 && ((out[0] << 8) | out[1]!) % 31 === 0 ? zlib.inflateSync(out, { maxOutputLength: maxBytes }) : zlib.inflateRawSync(out, { maxOutputLength: maxBytes });
          break;
        case 'br':
          out = zlib.brotliDecompressSync(out, { maxOutputLength: maxBytes });
          break;
        case 'zstd': {
          const d = zstdDecompress(out);
          if (d.length > maxBytes) throw new Error('output over limit');
          out = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
          break;
        }
        default:
          throw new HttpError(`http: unsupported Content-Encoding '${c}'`);
      }
    } catch (e) {
      if (e instanceof HttpError) throw e;
      throw new HttpError(`http: cannot decode Content-Encoding '${c}': ${(e as Error).message}`);
    }
  }
  return out;
}

/** The MIME type (lower-case, no parameters) and charset parameter of a Content-Type value. */
export function parseContentType(value: string | undefined): { mime: string | undefined; charset: string | undefined } {
  if (!value) return { mime: undefined, charset: undefined };
  const [type, ...params] = value.split(';');
  const mime = type!.trim().toLowerCase() || undefined;
  let charset: string | undefined;
  for (const p of params) {
    const m = /^\s*charset\s*=\s*["']?([^"';\s]+)/i.exec(p);
    if (m) charset = m[1];
  }
  return { mime, charset };
}
