/**
 * Text statistics shared by the quality filters (Gopher, C4, FineWeb): word splitting, line and
 * paragraph splitting, duplicate counting and n-gram repetition, following the definitions of
 * the Gopher paper (Rae et al. 2021, appendix A) as implemented by datatrove.
 */

/** Whitespace tokens: the "words" of the Gopher rules (punctuation stays attached). */
export function words(text: string): string[] {
  const out: string[] = [];
  for (const w of text.split(/\s+/)) if (w) out.push(w);
  return out;
}

const LETTER = /\p{L}/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/** Whether a token has at least one letter. */
export function hasLetter(w: string): boolean {
  return LETTER.test(w);
}

/** Whether a token is made of symbols and punctuation only (no letter or digit). */
export function isSymbolWord(w: string): boolean {
  return !LETTER_OR_DIGIT.test(w);
}

/** A token lower-cased with leading and trailing punctuation removed (for stop-word matching). */
export function bareWord(w: string): string {
  return w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '').toLowerCase();
}

/** Lines of the text (split on `\n`, `\r\n`). */
export function lines(text: string): string[] {
  return text.split(/\r?\n/);
}

/** Non-blank lines, as FineWeb and C4 count them. */
export function nonBlankLines(text: string): string[] {
  return lines(text).filter((l) => l.trim() !== '');
}

/** Paragraphs: runs separated by two or more newlines (the Gopher definition). */
export function paragraphs(text: string): string[] {
  return text.trim().split(/\n{2,}/);
}

/**
 * Counts repeated elements: every occurrence after the first of an element is a duplicate.
 * Returns the number of duplicate elements and their total characters.
 */
export function duplicates(items: string[]): { count: number; chars: number } {
  const seen = new Set<string>();
  let count = 0;
  let chars = 0;
  for (const x of items) {
    if (seen.has(x)) {
      count++;
      chars += x.length;
    } else seen.add(x);
  }
  return { count, chars };
}

/**
 * Characters covered by the most frequent word n-gram (its length with single spaces, times
 * its count): the Gopher "top n-gram" statistic before dividing by the text length.
 */
export function topNgramChars(ws: string[], n: number): number {
  if (ws.length < n) return 0;
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= ws.length; i++) {
    let key = ws[i]!;
    for (let j = 1; j < n; j++) key += ' ' + ws[i + j]!;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  // Ties go to the n-gram seen first, as with Python's Counter.most_common in datatrove.
  let best = 0;
  let bestKey = '';
  for (const [key, c] of counts) {
    if (c > best) {
      best = c;
      bestKey = key;
    }
  }
  return best > 1 ? bestKey.length * best : 0;
}

/**
 * Characters in duplicated word n-grams: scanning left to right, an n-gram already seen counts
 * its characters and the scan jumps past it (so overlapping repeats are not double counted).
 */
export function duplicateNgramChars(ws: string[], n: number): number {
  const seen = new Set<string>();
  let chars = 0;
  let i = 0;
  while (i + n <= ws.length) {
    let key = ws[i]!;
    let len = key.length;
    for (let j = 1; j < n; j++) {
      key += '\u0000' + ws[i + j]!;
      len += ws[i + j]!.length;
    }
    if (seen.has(key)) {
      chars += len;
      i += n;
    } else {
      seen.add(key);
      i++;
    }
  }
  return chars;
}

/** Characters that end a sentence or a line of prose, across scripts. */
export const TERMINAL_PUNCTUATION = new Set([
  '.', '!', '?', '…', '"', "'", '”', '’', '»', '«', ')', ']', ':', ';',
  '。', '！', '？', '．', '」', '』', '】', '）', '؟', '۔', '।', '॥', '።', '፧', '፨', '၊', '။', '¡', '¿',
]);

/** Whether a line ends with terminal punctuation (trailing whitespace ignored). */
export function endsWithPunctuation(line: string): boolean {
  const t = line.trimEnd();
  if (!t) return false;
  const last = t[t.length - 1]!;
  return TERMINAL_PUNCTUATION.has(last);
}

/** Rounds a ratio for stable audit values (6 decimals). */
export function r6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
