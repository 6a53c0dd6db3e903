/**
 * Character classes the pre-tokenizer patterns need, as one bit mask per code point, computed
 * lazily in blocks of 256 code points from V8's Unicode property escapes.
 *
 * Whitespace is Rust's `\s` (the Unicode `White_Space` property, what tiktoken's fancy-regex
 * uses), not JavaScript's `\s`: JS counts U+FEFF as whitespace and U+0085 as not, Rust the
 * reverse. Getting this wrong changes token ids on real web text (BOMs mid-document).
 */

/** `\p{L}` */
export const C_L = 1;
/** `\p{N}` */
export const C_N = 2;
/** Rust `\s` = `\p{White_Space}` */
export const C_W = 4;
/** `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]` (o200k "upper-ish") */
export const C_U = 8;
/** `[\p{Ll}\p{Lm}\p{Lo}\p{M}]` (o200k "lower-ish") */
export const C_LO = 16;
/** `\r` or `\n` */
export const C_NL = 32;

const RE_L = /^\p{L}$/u;
const RE_N = /^\p{N}$/u;
const RE_W = /^\p{White_Space}$/u;
const RE_U = /^[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]$/u;
const RE_LO = /^[\p{Ll}\p{Lm}\p{Lo}\p{M}]$/u;

const table = new Uint8Array(0x110000);
const done = new Uint8Array(0x110000 >> 8);

function fill(block: number): void {
  const start = block << 8;
  for (let cp = start; cp < start + 256; cp++) {
    // Lone surrogates are code points of category Cs: none of the classes.
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const s = String.fromCodePoint(cp);
    let m = 0;
    if (RE_L.test(s)) m |= C_L;
    if (RE_N.test(s)) m |= C_N;
    if (RE_W.test(s)) m |= C_W;
    if (RE_U.test(s)) m |= C_U;
    if (RE_LO.test(s)) m |= C_LO;
    if (cp === 10 || cp === 13) m |= C_NL;
    table[cp] = m;
  }
  done[block] = 1;
}
fill(0);

/** The class bits of a code point. */
export function charClass(cp: number): number {
  if (cp < 256) return table[cp]!;
  const b = cp >> 8;
  if (done[b] === 0) fill(b);
  return table[cp]!;
}
