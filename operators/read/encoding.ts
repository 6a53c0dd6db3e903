/**
 * Text encodings of input files: byte-order marks, transcoding to UTF-8 as a stream, and where
 * UTF-8 goes wrong. Transcoders never replace bad input silently: an unpaired UTF-16 surrogate,
 * a UTF-32 value that is no code point or a stray trailing byte becomes the byte 0xFF, which
 * UTF-8 never contains, so the reader's validity check records the line that held it.
 */

/**
 * Text encodings an input may be in. `auto` (the default everywhere): a byte-order mark picks
 * UTF-8, UTF-16LE/BE or UTF-32LE/BE, and without one the input is UTF-8. `latin1` is ISO-8859-1
 * (every byte is the code point of the same value); `windows-1252` is the WHATWG decoder of it.
 */
export const TEXT_ENCODINGS = ['auto', 'utf-8', 'utf-16le', 'utf-16be', 'utf-32le', 'utf-32be', 'latin1', 'windows-1252'] as const;
export type TextEncoding = (typeof TEXT_ENCODINGS)[number];
/** The encoding an input was actually decoded from (`auto` resolved). */
export type ResolvedEncoding = Exclude<TextEncoding, 'auto'>;

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

/** UTF-8 bytes of a string, writing each lone surrogate as an invalid byte so readers see it. */
function utf8Marked(s: string): Buffer {
  // String.prototype.isWellFormed: Node 20 has it (tsconfig's lib declares ES2024.String).
  if (s.isWellFormed()) return Buffer.from(s, 'utf8');
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

/** UTF-8 bytes of `src`, decoded from `encoding`. */
export function transcode(src: AsyncIterable<Buffer>, encoding: ResolvedEncoding): AsyncIterable<Buffer> {
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
