/**
 * The charset decision for an HTML (or text) payload, in the order the issue asks and browsers
 * mostly follow: a byte-order mark, then the HTTP `Content-Type` charset, then a
 * `<meta charset>` / `<meta http-equiv=Content-Type>` in the first 4 KiB, then detection (valid
 * UTF-8 is UTF-8; otherwise `chardet`'s best guess; `windows-1252` when it has none). Labels
 * are resolved with the WHATWG Encoding Standard through `TextDecoder` (Node's full ICU), so
 * `latin1`, `iso-8859-1` and `us-ascii` all decode as windows-1252 like a browser would.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { lazyPackage } from '../../../engine/modules/lazy.ts';

/** chardet (23 ms of CPU to import), loaded on first use: only non-UTF-8 bytes without a declared charset need it. */
const chardet = lazyPackage<typeof import('chardet')>('chardet');

/** Where the charset decision came from (recorded as `meta.charsetSource`). */
export type CharsetSource = 'bom' | 'http-header' | 'meta-tag' | 'detected' | 'default';

export interface CharsetDecision {
  /** The WHATWG encoding name used to decode (e.g. `utf-8`, `windows-1252`, `shift_jis`). */
  charset: string;
  source: CharsetSource;
  /** The label as declared, when one was declared but could not be used. */
  rejected?: string;
}

const decoders = new Map<string, TextDecoder | null>();

/** A decoder for a label, or null when the label names no encoding `TextDecoder` supports. */
function decoderFor(label: string): TextDecoder | null {
  const key = label.trim().toLowerCase();
  let d = decoders.get(key);
  if (d === undefined) {
    try {
      d = new TextDecoder(key);
      // UTF-16 declared inside an 8-bit-readable document is wrong by construction (HTML spec)
      if (d.encoding.startsWith('utf-16')) d = null;
    } catch {
      d = null;
    }
    decoders.set(key, d);
  }
  return d;
}

const META_RE = /<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([a-zA-Z0-9_:.+-]+)/i;

/** The charset declared by a `<meta>` tag in the first 4 KiB of `body`, if any. */
export function metaCharset(body: Uint8Array): string | undefined {
  const head = Buffer.from(body.buffer, body.byteOffset, Math.min(body.byteLength, 4096)).toString('latin1');
  return META_RE.exec(head)?.[1];
}

/**
 * Decides the charset of `body`. `httpCharset` is the `charset` parameter of the HTTP
 * Content-Type; `html` enables the `<meta>` prescan; `detect` (default true) enables chardet for
 * bodies that are not valid UTF-8.
 */
export function decideCharset(body: Uint8Array, httpCharset: string | undefined, html: boolean, detect = true): CharsetDecision {
  if (body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return { charset: 'utf-8', source: 'bom' };
  if (body[0] === 0xff && body[1] === 0xfe) return { charset: 'utf-16le', source: 'bom' };
  if (body[0] === 0xfe && body[1] === 0xff) return { charset: 'utf-16be', source: 'bom' };
  let rejected: string | undefined;
  if (httpCharset) {
    const d = decoderFor(httpCharset);
    if (d) return { charset: d.encoding, source: 'http-header' };
    rejected = httpCharset;
  }
  if (html) {
    const m = metaCharset(body);
    if (m) {
      const d = decoderFor(m);
      if (d) return rejected ? { charset: d.encoding, source: 'meta-tag', rejected } : { charset: d.encoding, source: 'meta-tag' };
      rejected ??= m;
    }
  }
  const withRejected = (x: CharsetDecision): CharsetDecision => (rejected ? { ...x, rejected } : x);
  if (isUtf8(body)) return withRejected({ charset: 'utf-8', source: 'detected' });
  // statistical detection only for text: on images and archives it costs ~10x the read and means nothing
  const guess = detect ? chardet().detect(body.subarray(0, 64 << 10)) : null;
  const d = guess ? decoderFor(guess) : null;
  if (d) return withRejected({ charset: d.encoding, source: 'detected' });
  return withRejected({ charset: 'windows-1252', source: 'default' });
}

/** Decodes `body` with the decided charset (invalid sequences become U+FFFD; a BOM is dropped). */
export function decodeText(body: Uint8Array, charset: string): string {
  const d = decoderFor(charset) ?? decoderFor('utf-8')!;
  if (d.encoding === 'utf-8') {
    // Buffer's UTF-8 decoder (simdutf) is several times faster than TextDecoder here; both
    // replace invalid sequences with U+FFFD. The BOM is dropped as TextDecoder would.
    const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const bom = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
    // pure ASCII (most HTML): the Latin-1 path builds the same one-byte string about 2x faster
    if (!bom && isAscii(b)) return b.toString('latin1');
    return b.toString('utf8', bom);
  }
  return d.decode(body);
}
