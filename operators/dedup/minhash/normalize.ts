/**
 * Text normalisation for near-duplicate detection: lowercase, diacritics removed (NFKD, then
 * combining marks dropped), every decimal digit mapped to `0`, punctuation and symbols deleted
 * (so "don't" and "dont" are the same word), any run of whitespace or control characters a
 * single word boundary. The same rules drive the fast word scanner in `shingle.ts`; `normalizeText`
 * is the readable reference the tests compare it against, and what `dedup.exact` uses.
 */

/** Character classes of the scanner. */
export const enum CharClass {
  /** Not yet classified (lazy table fill for non-ASCII). */
  Unknown = 0,
  /** Part of a word, kept as is (after lowercasing). */
  Keep = 1,
  /** A decimal digit: becomes `0`. */
  Digit = 2,
  /** Punctuation, symbol, format or surrogate: deleted. */
  Delete = 3,
  /** Whitespace or control: a word boundary. */
  Space = 4,
}

const table = new Uint8Array(65536);
const DIGIT = /^\p{Nd}$/u;
const WORD = /^[\p{L}\p{M}\p{N}]$/u;
const SPACE = /^[\s\p{Cc}\p{Zs}\p{Zl}\p{Zp}]$/u;

function classifySlow(code: number): CharClass {
  const ch = String.fromCharCode(code);
  if (DIGIT.test(ch)) return CharClass.Digit;
  if (WORD.test(ch)) return CharClass.Keep;
  if (SPACE.test(ch)) return CharClass.Space;
  return CharClass.Delete;
}
for (let c = 0; c < 128; c++) table[c] = classifySlow(c);

/** The class of a UTF-16 code unit (lone surrogates, i.e. astral symbols such as emoji, are deleted). */
export function charClass(code: number): CharClass {
  let k = table[code]!;
  if (k === CharClass.Unknown) {
    k = code >= 0xd800 && code <= 0xdfff ? CharClass.Delete : classifySlow(code);
    table[code] = k;
  }
  return k as CharClass;
}

const NON_ASCII = /[^\x00-\x7f]/;
const MARKS = /\p{M}+/gu;
const UPPER = /[A-Z]/;

/**
 * Lowercases and, only when the text has non-ASCII characters, applies NFKD and removes combining
 * marks. The ASCII fast path matters: NFKD costs more than the whole shingling of ASCII text.
 */
export function foldCase(text: string): string {
  if (NON_ASCII.test(text)) return text.normalize('NFKD').replace(MARKS, '').toLowerCase();
  return UPPER.test(text) ? text.toLowerCase() : text;
}

/**
 * The normalised form of `text`: its words (see the module comment) joined by single spaces.
 * Example: `"Café, 2024!  Don't"` → `"cafe 0000 dont"`.
 */
export function normalizeText(text: string): string {
  const s = foldCase(text);
  const words: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const k = charClass(s.charCodeAt(i));
    switch (k) {
      case CharClass.Keep:
        cur += s[i];
        break;
      case CharClass.Digit:
        cur += '0';
        break;
      case CharClass.Space:
        if (cur) words.push(cur);
        cur = '';
        break;
      case CharClass.Delete:
      case CharClass.Unknown:
        break;
      default: {
        const never: never = k;
        throw new Error(`unexpected char class ${String(never)}`);
      }
    }
  }
  if (cur) words.push(cur);
  return words.join(' ');
}
