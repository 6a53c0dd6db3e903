/**
 * GPT-3-style text normalisation and the 64-bit n-gram hashes the contamination index and the
 * scanner share.
 *
 * Normalisation (GPT-3 appendix C, lm-evaluation-harness `janitor.py`): lowercase, remove
 * punctuation (without splitting: `don't` → `dont`, `well-known` → `wellknown`), split on
 * whitespace. Punctuation here is every Unicode punctuation or symbol character (`\p{P}`, `\p{S}`)
 * and format character (`\p{Cf}`, e.g. zero-width spaces), a superset of Python's ASCII
 * `string.punctuation`, so curly and straight quotes normalise alike.
 *
 * Hashing: each word gets two independent 32-bit hashes (FNV-1a-style over the lowercased UTF-16
 * code units, then a murmur3 finaliser); an n-gram's 64-bit key is a pair of polynomial hashes
 * over its words (mod 2^32, computed from prefix sums so any length costs O(1)), each finalised.
 * The same functions hash benchmark items and training text, so they agree by construction.
 */

/**
 * One table for the hot loop: per UTF-16 code unit, 0 = separator (whitespace, controls),
 * 1 = removed (punctuation, symbols, format characters), else the lowercased code unit
 * (never 0 or 1: those are controls). Surrogate halves are word characters, kept as-is.
 */
let TABLE: Uint16Array | undefined;

function table(): Uint16Array {
  if (TABLE) return TABLE;
  const t = new Uint16Array(65536);
  const space = /^\s$/u;
  const punct = /^[\p{P}\p{S}\p{Cf}]$/u;
  for (let c = 0; c < 65536; c++) {
    if (c >= 0xd800 && c <= 0xdfff) {
      t[c] = c;
      continue;
    }
    const s = String.fromCharCode(c);
    if (c < 32 || c === 0x7f || space.test(s)) t[c] = 0;
    else if (punct.test(s)) t[c] = 1;
    else {
      const l = s.toLowerCase();
      t[c] = l.length === 1 && l.charCodeAt(0) > 1 ? l.charCodeAt(0) : c;
    }
  }
  TABLE = t;
  return t;
}

/** The normalised words of a text, as strings (for reports and tests; the scanner hashes instead). */
export function normalizeWords(text: string): string[] {
  const t = table();
  const words: string[] = [];
  let cur: number[] = [];
  const flush = () => {
    if (cur.length) words.push(String.fromCharCode(...cur));
    cur = [];
  };
  for (let i = 0; i < text.length; i++) {
    const l = t[text.charCodeAt(i)]!;
    if (l > 1) cur.push(l);
    else if (l === 0) flush();
  }
  flush();
  return words;
}

/** Growable per-document buffers of word hashes and character offsets, reused across documents. */
export class UnitBuffer {
  h1 = new Int32Array(1024);
  h2 = new Int32Array(1024);
  start = new Int32Array(1024);
  end = new Int32Array(1024);
  p1 = new Int32Array(1025);
  p2 = new Int32Array(1025);
  n = 0;
  ensure(cap: number): void {
    if (cap <= this.h1.length) return;
    let size = this.h1.length;
    while (size < cap) size *= 2;
    const grow = (a: Int32Array, s: number) => {
      const b = new Int32Array(s);
      b.set(a);
      return b;
    };
    this.h1 = grow(this.h1, size);
    this.h2 = grow(this.h2, size);
    this.start = grow(this.start, size);
    this.end = grow(this.end, size);
    this.p1 = new Int32Array(size + 1);
    this.p2 = new Int32Array(size + 1);
  }
}

/** murmur3's 32-bit finaliser. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

const S1 = 0x811c9dc5 | 0;
const S2 = 0x2545f491 | 0;
const M1 = 0x01000193;
const M2 = 0x5bd1e995;

/**
 * Splits `text` into normalised words and writes their hashes (and character offsets
 * `[start, end)` into the original text) into `buf`. Returns the word count. This is the scanner's hot loop: one table lookup and two multiplies per character.
 */
export function hashWords(text: string, buf: UnitBuffer): number {
  const t = table();
  const len = text.length;
  // A text of L characters has at most ceil(L/2) words.
  buf.ensure((len >> 1) + 2);
  const h1 = buf.h1, h2 = buf.h2, st = buf.start, en = buf.end;
  let n = 0;
  let a = S1, b = S2, inWord = false, ws = 0, we = 0;
  for (let i = 0; i < len; i++) {
    const l = t[text.charCodeAt(i)]!;
    if (l > 1) {
      if (!inWord) {
        inWord = true;
        a = S1;
        b = S2;
        ws = i;
      }
      a = Math.imul(a ^ l, M1);
      b = Math.imul(b + l, M2);
      we = i + 1;
    } else if (l === 0 && inWord) {
      h1[n] = fmix32(a);
      h2[n] = fmix32(b ^ (a >>> 11));
      st[n] = ws;
      en[n] = we;
      n++;
      inWord = false;
    }
  }
  if (inWord) {
    h1[n] = fmix32(a);
    h2[n] = fmix32(b ^ (a >>> 11));
    st[n] = ws;
    en[n] = we;
    n++;
  }
  buf.n = n;
  return n;
}

/** Hashes token ids as units (token-level n-gram mode); offsets are token positions. */
export function hashTokens(tokens: ArrayLike<number>, buf: UnitBuffer): number {
  const n = tokens.length;
  buf.ensure(n + 1);
  for (let i = 0; i < n; i++) {
    const t = tokens[i]! | 0;
    buf.h1[i] = fmix32(t ^ 0x3c6ef372);
    buf.h2[i] = fmix32(Math.imul(t, 0x27d4eb2f) ^ 0x1b873593);
    buf.start[i] = i;
    buf.end[i] = i + 1;
  }
  buf.n = n;
  return n;
}

/** Polynomial bases (odd) and their powers, for O(1) n-gram hashes from prefix sums. */
const B1 = 0x9e3779b1 | 0;
const B2 = 0x7feb352d | 0;
const MAX_LEN = 4096;
export const POW1 = new Int32Array(MAX_LEN + 1);
export const POW2 = new Int32Array(MAX_LEN + 1);
POW1[0] = 1;
POW2[0] = 1;
for (let i = 1; i <= MAX_LEN; i++) {
  POW1[i] = Math.imul(POW1[i - 1]!, B1);
  POW2[i] = Math.imul(POW2[i - 1]!, B2);
}
/** The longest n-gram (in units) the hashing supports. */
export const MAX_NGRAM = MAX_LEN;

/** Fills the prefix sums of `buf`'s first `n` unit hashes. */
export function prefixSums(buf: UnitBuffer, n = buf.n): void {
  const p1 = buf.p1, p2 = buf.p2, h1 = buf.h1, h2 = buf.h2;
  p1[0] = 0;
  p2[0] = 0;
  for (let i = 0; i < n; i++) {
    p1[i + 1] = (Math.imul(p1[i]!, B1) + h1[i]!) | 0;
    p2[i + 1] = (Math.imul(p2[i]!, B2) + h2[i]!) | 0;
  }
}

/** First half of the 64-bit key of the n-gram of `len` units at `i` (prefix sums filled). */
export function gramKey1(p1: Int32Array, i: number, len: number): number {
  return fmix32(((p1[i + len]! - Math.imul(p1[i]!, POW1[len]!)) | 0) ^ Math.imul(len, 0x2c1b3c6d));
}

/** `gramKey1` from the raw value `rawGram1` returned. */
export function finishKey1(raw: number, len: number): number {
  return fmix32(raw ^ Math.imul(len, 0x2c1b3c6d));
}

/** Second half of the 64-bit key; mixes in the first so the halves are not independent by accident. */
export function gramKey2(p2: Int32Array, i: number, len: number, k1: number): number {
  return fmix32(((p2[i + len]! - Math.imul(p2[i]!, POW2[len]!)) | 0) ^ Math.imul(len, 0x297a2d39) ^ (k1 >>> 7));
}

/** Hash of the first two units at `i` (the short-gram prefilter key; unit hashes are mixed already). */
export function pairKey(h1: Int32Array, i: number): number {
  return (Math.imul(h1[i]!, B1) + h1[i + 1]!) | 0;
}

/**
 * The unfinalised first half of an n-gram's key: the scanner's bit filter reads its high bits
 * (well mixed in a polynomial hash mod 2^32) and finalises only the candidates that pass.
 */
export function rawGram1(p1: Int32Array, i: number, len: number): number {
  return (p1[i + len]! - Math.imul(p1[i]!, POW1[len]!)) | 0;
}

/** A readable description of the normalisation, for the report's method card. */
export const NORMALISATION =
  'lowercase; Unicode punctuation, symbols and format characters removed (\\p{P}\\p{S}\\p{Cf}, no split); split on whitespace (GPT-3 appendix C)';
