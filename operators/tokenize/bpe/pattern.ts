/**
 * Pre-tokenisation patterns: the GPT-2 (r50k/p50k), cl100k and o200k presets, and custom regexes
 * written in tiktoken's (Rust fancy-regex) dialect.
 *
 * Presets run as hand-written scanners that reproduce the regex's leftmost-first, backtracking
 * semantics exactly (fuzzed against tiktoken itself in the tests); a custom pattern is translated
 * to an equivalent JavaScript regex (regex.ts). Both use Rust's whitespace (`\p{White_Space}`:
 * U+0085 yes, U+FEFF no), not JavaScript's `\s`.
 */
import { C_L, C_LO, C_N, C_NL, C_U, C_W, charClass } from './charclass.ts';
import { compilePattern } from './regex.ts';

export { compilePattern };

/** tiktoken's pattern strings (as shipped by the tiktoken package). */
export const PATTERNS = {
  gpt2: "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
  cl100k:
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  o200k: [
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?",
    '\\p{N}{1,3}',
    ' ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*',
    '\\s*[\\r\\n]+',
    '\\s+(?!\\S)',
    '\\s+',
  ].join('|'),
} as const;

/** A preset name. */
export type PresetName = keyof typeof PATTERNS;

/**
 * Equivalent spellings of the presets. (Newer tiktoken's possessive cl100k spelling with `\s++$`
 * ahead of `\s*[\r\n]` splits a trailing `"  \n  "` differently, so it is not aliased: it runs as
 * a translated regex with its own semantics.)
 */
const ALIASES: Record<string, PresetName> = {
  [PATTERNS.gpt2]: 'gpt2',
  "'(?:[sdmt]|ll|ve|re)| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+": 'gpt2',
  "'(?:[sdmt]|ll|ve|re)| ?\\p{L}++| ?\\p{N}++| ?[^\\s\\p{L}\\p{N}]++|\\s++$|\\s+(?!\\S)|\\s": 'gpt2',
  [PATTERNS.cl100k]: 'cl100k',
  [PATTERNS.o200k]: 'o200k',
};

/** Splits text into pre-tokens. `next` returns the end of the piece found at or after `pos`. */
export interface PreTokenizer {
  /** The pattern in tiktoken's dialect (what gets saved with a tokenizer). */
  readonly pattern: string;
  /** The preset it runs as, if any. */
  readonly preset: PresetName | undefined;
  /**
   * Finds the next piece at or after `pos` (`pos < text.length`): sets `start` and returns its
   * end, or -1 when no further piece matches (custom patterns may leave characters unmatched;
   * like tiktoken, those are skipped).
   */
  next(text: string, pos: number): number;
  start: number;
}

/** Resolves a preset name or a pattern string into a pre-tokenizer. */
export function preTokenizer(patternOrPreset: string): PreTokenizer {
  const preset = (patternOrPreset in PATTERNS ? patternOrPreset : ALIASES[patternOrPreset]) as PresetName | undefined;
  if (preset) return new PresetScanner(preset, patternOrPreset in PATTERNS ? PATTERNS[preset] : patternOrPreset);
  return new RegexPreTokenizer(patternOrPreset);
}

/** Splits a whole text into its pre-token strings (convenience for tests and training). */
export function splitText(pt: PreTokenizer, text: string): string[] {
  const out: string[] = [];
  let pos = 0;
  while (pos < text.length) {
    const end = pt.next(text, pos);
    if (end < 0) break;
    out.push(text.slice(pt.start, end));
    pos = end;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Preset scanners

const LATIN = Uint8Array.from({ length: 256 }, (_, c) => charClass(c));

let width = 1; // width (UTF-16 units) of the char last classified by clsAt
function clsAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0x100) {
    width = 1;
    return LATIN[c]!;
  }
  if (c < 0xd800 || c > 0xdbff) {
    width = 1;
    return charClass(c);
  }
  const d = s.charCodeAt(i + 1);
  if (d >= 0xdc00 && d <= 0xdfff) {
    width = 2;
    return charClass(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000);
  }
  width = 1;
  return 0;
}

/** End of `'s|'t|'re|'ve|'m|'ll|'d` at i (s[i] is `'`), or -1. `ci`: case-insensitive (Rust folds). */
function contraction(s: string, i: number, ci: boolean): number {
  const len = s.length;
  if (i + 1 >= len) return -1;
  let a = s.charCodeAt(i + 1);
  if (ci) {
    if (a >= 65 && a <= 90) a |= 0x20;
    else if (a === 0x17f) a = 115; // ſ folds to s
  }
  switch (a) {
    case 115: // s
    case 116: // t
    case 109: // m
    case 100: // d
      return i + 2;
    case 114: // r
    case 118: {
      // v
      if (i + 2 >= len) return -1;
      let b = s.charCodeAt(i + 2);
      if (ci && b >= 65 && b <= 90) b |= 0x20;
      return b === 101 ? i + 3 : -1;
    }
    case 108: {
      // l
      if (i + 2 >= len) return -1;
      let b = s.charCodeAt(i + 2);
      if (ci && b >= 65 && b <= 90) b |= 0x20;
      return b === 108 ? i + 3 : -1;
    }
    default:
      return -1;
  }
}

/** End of a run of chars having any of `mask`, from j. */
function run(s: string, j: number, mask: number): number {
  const len = s.length;
  while (j < len) {
    const c = s.charCodeAt(j);
    if (c < 0x80) {
      // ASCII fast path: most of English text.
      if ((LATIN[c]! & mask) === 0) break;
      j++;
      continue;
    }
    if ((clsAt(s, j) & mask) === 0) break;
    j += width;
  }
  return j;
}

/** End of a run of chars having none of `mask` (a char of no class counts), from j. */
function runNot(s: string, j: number, mask: number): number {
  const len = s.length;
  while (j < len) {
    const c = s.charCodeAt(j);
    if (c < 0x80) {
      if ((LATIN[c]! & mask) !== 0) break;
      j++;
      continue;
    }
    if ((clsAt(s, j) & mask) !== 0) break;
    j += width;
  }
  return j;
}

/** End of `[\r\n]*` (or `[\r\n/]*` when `slash`) from j. */
function nlTail(s: string, j: number, slash: boolean): number {
  const len = s.length;
  while (j < len) {
    const c = s.charCodeAt(j);
    if (c === 10 || c === 13 || (slash && c === 47)) j++;
    else break;
  }
  return j;
}

/**
 * The whitespace alternatives `\s*[\r\n]+|\s+(?!\S)|\s+` (withNl) or `\s+(?!\S)|\s+` from i,
 * where s[i] is whitespace of width w. White_Space chars are all in the BMP (width 1).
 */
function whitespace(s: string, i: number, withNl: boolean): number {
  const len = s.length;
  let j = i;
  let lastNl = -1;
  while (j < len) {
    const k = clsAt(s, j);
    if ((k & C_W) === 0) break;
    if (k & C_NL) lastNl = j;
    j += width;
  }
  if (withNl && lastNl >= 0) return lastNl + 1;
  if (j === len) return j;
  return j - 1 > i ? j - 1 : j;
}

function scanGpt2(s: string, i: number): number {
  const len = s.length;
  const c = s.charCodeAt(i);
  if (c === 39) {
    const e = contraction(s, i, false);
    if (e > 0) return e;
  }
  let j = i;
  if (c === 32 && i + 1 < len) {
    const k2 = clsAt(s, i + 1);
    if ((k2 & C_W) === 0) j = i + 1; // ' ?' then letters, numbers or others
  }
  const k = clsAt(s, j);
  if (k & C_L) return run(s, j + width, C_L);
  if (k & C_N) return run(s, j + width, C_N);
  if ((k & C_W) === 0) return runNot(s, j + width, C_W | C_L | C_N);
  return whitespace(s, i, false);
}

function scanCl100k(s: string, i: number): number {
  const len = s.length;
  const c = s.charCodeAt(i);
  if (c === 39) {
    const e = contraction(s, i, true);
    if (e > 0) return e;
  }
  const k = clsAt(s, i);
  const w = width;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (k & C_L) return run(s, i + w, C_L);
  if ((k & (C_NL | C_N)) === 0 && i + w < len && clsAt(s, i + w) & C_L) return run(s, i + w + width, C_L);
  // \p{N}{1,3}
  if (k & C_N) {
    let j = i + w;
    for (let n = 1; n < 3 && j < len; n++) {
      if ((clsAt(s, j) & C_N) === 0) break;
      j += width;
    }
    return j;
  }
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  const other = C_W | C_L | C_N;
  if (c === 32 && i + 1 < len && (clsAt(s, i + 1) & other) === 0) return nlTail(s, runNot(s, i + 1 + width, other), false);
  if ((k & other) === 0) return nlTail(s, runNot(s, i + w, other), false);
  return whitespace(s, i, true);
}

/** o200k's `[U]*[LO]+` (lower) or `[U]+[LO]*` (upper) core from s, then the optional contraction. */
function o200kWord(s: string, st: number, lower: boolean): number {
  const len = s.length;
  if (st >= len) return -1;
  let u = st;
  let lastLo = -1;
  let lastLoW = 1;
  while (u < len) {
    const k = clsAt(s, u);
    if ((k & C_U) === 0) break;
    if (k & C_LO) {
      lastLo = u;
      lastLoW = width;
    }
    u += width;
  }
  let v: number;
  if (lower) {
    if (u < len && clsAt(s, u) & C_LO) v = run(s, u + width, C_LO);
    else if (lastLo >= 0) v = lastLo + lastLoW;
    else return -1;
  } else {
    if (u === st) return -1;
    v = run(s, u, C_LO);
  }
  if (v < len && s.charCodeAt(v) === 39) {
    const e = contraction(s, v, true);
    if (e > 0) return e;
  }
  return v;
}

function scanO200k(s: string, i: number): number {
  const len = s.length;
  const k = clsAt(s, i);
  const w = width;
  const prefixable = (k & (C_NL | C_L | C_N)) === 0;
  let e: number;
  if (prefixable && (e = o200kWord(s, i + w, true)) >= 0) return e;
  if ((e = o200kWord(s, i, true)) >= 0) return e;
  if (prefixable && (e = o200kWord(s, i + w, false)) >= 0) return e;
  if ((e = o200kWord(s, i, false)) >= 0) return e;
  if (k & C_N) {
    let j = i + w;
    for (let n = 1; n < 3 && j < len; n++) {
      if ((clsAt(s, j) & C_N) === 0) break;
      j += width;
    }
    return j;
  }
  const other = C_W | C_L | C_N;
  const c = s.charCodeAt(i);
  if (c === 32 && i + 1 < len && (clsAt(s, i + 1) & other) === 0) return nlTail(s, runNot(s, i + 1 + width, other), true);
  if ((k & other) === 0) return nlTail(s, runNot(s, i + w, other), true);
  return whitespace(s, i, true);
}

class PresetScanner implements PreTokenizer {
  start = 0;
  private readonly scan: (s: string, i: number) => number;
  constructor(
    readonly preset: PresetName,
    readonly pattern: string,
  ) {
    switch (preset) {
      case 'gpt2':
        this.scan = scanGpt2;
        break;
      case 'cl100k':
        this.scan = scanCl100k;
        break;
      case 'o200k':
        this.scan = scanO200k;
        break;
      default: {
        const never: never = preset;
        throw new Error(`unknown preset ${String(never)}`);
      }
    }
  }
  next(text: string, pos: number): number {
    this.start = pos;
    return this.scan(text, pos);
  }
}

// ---------------------------------------------------------------------------------------------
// Custom patterns

class RegexPreTokenizer implements PreTokenizer {
  start = 0;
  readonly preset = undefined;
  private readonly re: RegExp;
  constructor(readonly pattern: string) {
    this.re = compilePattern(pattern);
  }
  next(text: string, pos: number): number {
    const re = this.re;
    for (;;) {
      re.lastIndex = pos;
      const m = re.exec(text);
      if (!m) return -1;
      if (m[0].length === 0) {
        // An empty match yields no piece; move on by one code point (as find_iter does).
        pos = m.index + (m.index < text.length && text.codePointAt(m.index)! > 0xffff ? 2 : 1);
        if (pos > text.length) return -1;
        continue;
      }
      this.start = m.index;
      return m.index + m[0].length;
    }
  }
}
