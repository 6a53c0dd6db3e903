/**
 * `filter.gopherQuality`: the Gopher quality rules (Rae et al. 2021, appendix A.1.1), as used
 * by FineWeb through datatrove. Words are whitespace tokens; "non-symbol" words contain a letter
 * or digit. Written for space-separated scripts: on Chinese or Japanese text the word counts
 * are meaningless, so run it after `filter.language` keeps such languages out, or annotate only.
 */
import { z } from 'zod';
import type { Json, Operator } from '../../engine/types.ts';
import { defineThresholdFilter } from './define-threshold.ts';
import type { ThresholdRule } from './rules.ts';
import { bareWord, hasLetter, isSymbolWord, lines, r6, words } from './text-stats.ts';

/** The Gopher stop words: a document must contain at least two of them. */
export const GOPHER_STOP_WORDS = ['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with'];

const BULLETS = /^[•‣◦●▪∙·\-*–—]/;

/** The scores `filter.gopherQuality` records for every doc. */
export const GOPHER_QUALITY_SCORES = ['words', 'meanWordLength', 'hashRatio', 'ellipsisRatio', 'bulletLineRatio', 'ellipsisLineRatio', 'alphaWordRatio', 'stopWords'] as const;

/** The Gopher quality statistics of a text (every rule's score, always all computed). */
export function gopherQualityScores(text: string, stopWords: Set<string>): Record<(typeof GOPHER_QUALITY_SCORES)[number], number> {
  const ws = words(text);
  let nonSymbol = 0;
  let nonSymbolChars = 0;
  let alpha = 0;
  let stops = 0;
  for (const w of ws) {
    if (!isSymbolWord(w)) {
      nonSymbol++;
      nonSymbolChars += [...w].length;
    }
    if (hasLetter(w)) alpha++;
    if (stopWords.has(bareWord(w))) stops++;
  }
  const n = ws.length;
  let hashes = 0;
  for (let i = text.indexOf('#'); i >= 0; i = text.indexOf('#', i + 1)) hashes++;
  const ellipses = (text.match(/\.\.\.|…/g) ?? []).length;
  const ls = lines(text);
  let bullets = 0;
  let ellipsisEnd = 0;
  for (const l of ls) {
    if (BULLETS.test(l.trimStart())) bullets++;
    const t = l.trimEnd();
    if (t.endsWith('...') || t.endsWith('…')) ellipsisEnd++;
  }
  return {
    words: nonSymbol,
    meanWordLength: r6(nonSymbol ? nonSymbolChars / nonSymbol : 0),
    hashRatio: r6(n ? hashes / n : 0),
    ellipsisRatio: r6(n ? ellipses / n : 0),
    bulletLineRatio: r6(ls.length ? bullets / ls.length : 0),
    ellipsisLineRatio: r6(ls.length ? ellipsisEnd / ls.length : 0),
    alphaWordRatio: r6(n ? alpha / n : 0),
    stopWords: stops,
  };
}

const stopSets = new WeakMap<string[], Set<string>>();

/** The declaration behind `filter.gopherQuality` (rules, reasons, scores). */
const gopherQualityFilter = defineThresholdFilter({
  type: 'filter.gopherQuality',
  name: 'gopherQuality',
  family: 'gopher',
  version: '1',
  describe: 'Gopher quality rules (word counts, symbols, bullets, stop words)',
  scores: GOPHER_QUALITY_SCORES,
  rules: {
    minWords: { score: 'words', bound: 'min', default: 50 },
    maxWords: { score: 'words', bound: 'max', default: 100_000 },
    minMeanWordLength: { score: 'meanWordLength', bound: 'min', default: 3 },
    maxMeanWordLength: { score: 'meanWordLength', bound: 'max', default: 10 },
    maxHashRatio: { score: 'hashRatio', bound: 'max', default: 0.1, reason: 'hashRatio' },
    maxEllipsisRatio: { score: 'ellipsisRatio', bound: 'max', default: 0.1, reason: 'ellipsisRatio' },
    maxBulletLines: { score: 'bulletLineRatio', bound: 'max', default: 0.9, reason: 'bulletLines' },
    maxEllipsisLines: { score: 'ellipsisLineRatio', bound: 'max', default: 0.3, reason: 'ellipsisLines' },
    minAlphaWords: { score: 'alphaWordRatio', bound: 'min', default: 0.8, reason: 'alphaWords' },
    minStopWords: { score: 'stopWords', bound: 'min', default: 2, reason: 'stopWords' },
  },
  options: { stopWords: z.array(z.string()).default(GOPHER_STOP_WORDS) },
  measure(doc, c) {
    let stop = stopSets.get(c.stopWords);
    if (!stop) stopSets.set(c.stopWords, (stop = new Set(c.stopWords.map((w) => w.toLowerCase()))));
    return gopherQualityScores(doc.text, stop);
  },
});

/** Options of `filter.gopherQuality`; a threshold set to `null` switches its rule off. */
export type GopherQualityOptions = Parameters<typeof gopherQualityFilter>[0] & {};

/** The threshold rules of a gopherQuality config, in the order reasons are reported. */
export function gopherQualityRules(config: Json): ThresholdRule[] {
  return gopherQualityFilter.rules(config);
}

/**
 * Gopher quality filter. Defaults: non-symbol words 50–100,000; mean word length 3–10; `#` and
 * ellipses per word ≤ 0.1 each; lines starting with a bullet ≤ 0.9; lines ending with an
 * ellipsis ≤ 0.3; words with a letter ≥ 0.8; ≥ 2 stop words (the, be, to, of, and, that, have,
 * with). Reasons: `gopher.minWords`, `gopher.maxWords`, `gopher.minMeanWordLength`, … Scores
 * (all, for kept and dropped docs): `words`, `meanWordLength`, `hashRatio`, `ellipsisRatio`,
 * `bulletLineRatio`, `ellipsisLineRatio`, `alphaWordRatio`, `stopWords`.
 */
export function gopherQuality(options: GopherQualityOptions = {}): Operator {
  return gopherQualityFilter(options);
}
