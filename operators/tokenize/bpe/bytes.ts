/**
 * Byte-level helpers: GPT-2's reversible byte ↔ printable-character map (what `vocab.json`,
 * `merges.txt` and HF `tokenizer.json` spell tokens with), and a UTF-8 encoder into a reusable
 * buffer for the encoder's hot path.
 */
import { isUtf8 } from 'node:buffer';

let b2u: string[] | undefined;
let u2b: Map<string, number> | undefined;

/**
 * GPT-2's `bytes_to_unicode`: printable Latin-1 bytes map to themselves, the other 68 bytes to
 * U+0100 onwards. Returns the char for each byte (index = byte value).
 */
export function byteToUnicode(): string[] {
  if (b2u) return b2u;
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const out = new Array<string>(256);
  for (let i = 0; i < 256; i++) out[bs[i]!] = String.fromCharCode(cs[i]!);
  b2u = out;
  return out;
}

/** The bytes in GPT-2's `bytes_to_unicode` order (printable first): the id order of byte tokens. */
export function gpt2ByteOrder(): number[] {
  const m = byteToUnicode();
  return [...Array(256).keys()].sort((a, b) => m[a]!.charCodeAt(0) - m[b]!.charCodeAt(0));
}

/** Spells bytes as a GPT-2 byte-level string. */
export function bytesToGpt2(bytes: Uint8Array): string {
  const m = byteToUnicode();
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += m[bytes[i]!];
  return s;
}

/** Parses a GPT-2 byte-level string back into bytes; a char outside the map is an error naming it. */
export function gpt2ToBytes(s: string): Uint8Array {
  if (!u2b) {
    u2b = new Map();
    byteToUnicode().forEach((ch, b) => u2b!.set(ch, b));
  }
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const b = u2b.get(s[i]!);
    if (b === undefined) throw new Error(`not a byte-level token: ${JSON.stringify(s)} (char U+${s.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')})`);
    out[i] = b;
  }
  return out;
}

/** Bytes as a Latin-1 string (one char per byte): the key type of byte-keyed maps. */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  if (end - start < 8) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
    return s;
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
}

let scratch = new Uint8Array(1024);

/**
 * UTF-8 encodes `s` into a shared scratch buffer and returns a view of it (valid until the next
 * call). Lone surrogates become U+FFFD, as `TextEncoder` (and tiktoken's JS binding) do.
 */
export function utf8Scratch(s: string): Uint8Array {
  const n = s.length;
  if (scratch.length < n * 3) scratch = new Uint8Array(n * 3 + 16);
  const out = scratch;
  let j = 0;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) out[j++] = c;
    else if (c < 0x800) {
      out[j++] = 0xc0 | (c >> 6);
      out[j++] = 0x80 | (c & 63);
    } else {
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
          i++;
          out[j++] = 0xf0 | (cp >> 18);
          out[j++] = 0x80 | ((cp >> 12) & 63);
          out[j++] = 0x80 | ((cp >> 6) & 63);
          out[j++] = 0x80 | (cp & 63);
          continue;
        }
        c = 0xfffd;
      }
      out[j++] = 0xe0 | (c >> 12);
      out[j++] = 0x80 | ((c >> 6) & 63);
      out[j++] = 0x80 | (c & 63);
    }
  }
  return out.subarray(0, j);
}

/** Decodes bytes that must be valid UTF-8 (a BOM kept as U+FEFF); undefined when they are not. */
export function strictUtf8(bytes: Uint8Array): string | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  return isUtf8(b) ? b.toString('utf8') : undefined;
}
