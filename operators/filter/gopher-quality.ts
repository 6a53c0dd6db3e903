/**
 * `filter.gopherQuality`: the Gopher quality rules (Rae et al. 2021, appendix A.1.1), as used
 * by FineWeb through datatrove. Words are whitespace tokens; "non-symbol" words contain a letter
 * or digit. Written for space-separated scripts: on Chinese or Japanese text the word counts
 * are meaningless, so run it after `filter.language` keeps such languages out, or annotate only.
 */
import { z } from 'zod';
import { defineFilter, parseConfig, registerOperator } from '../../engine/operator.ts';
import type { Json, Operator } from '../../engine/types.ts';
import { CommonOptions, threshold, verdictFromRules } from './common.ts';
import { registerRules, rule, type ThresholdRule } from './rules.ts';
import { bareWord, hasLetter, isSymbolWord, lines, r6, words } from './text-stats.ts';

/** The Gopher stop words: a document must contain at least two of them. */
export const GOPHER_STOP_WORDS = ['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with'];

const BULLETS = /^[•‣◦●▪∙·\-*–—]/;

const Options = z
  .object({
    ...CommonOptions,
    minWords: threshold(50),
    maxWords: threshold(100_000),
    minMeanWordLength: threshold(3),
    maxMeanWordLength: threshold(10),
    maxHashRatio: threshold(0.1),
    maxEllipsisRatio: threshold(0.1),
    maxBulletLines: threshold(0.9),
    maxEllipsisLines: threshold(0.3),
    minAlphaWords: threshold(0.8),
    minStopWords: threshold(2),
    stopWords: z.array(z.string()).default(GOPHER_STOP_WORDS),
  })
  .strict();

/** Options of `filter.gopherQuality`; a threshold set to `null` switches its rule off. */
export type GopherQualityOptions = z.input<typeof Options>;

/** The Gopher quality statistics of a text (every rule's score, always all computed). */
export function gopherQualityScores(text: string, stopWords: Set<string>): Record<string, number> {
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

/** The threshold rules of a gopherQuality config, in the order reasons are reported. */
export function gopherQualityRules(config: Json): ThresholdRule[] {
  const c = config as Record<string, unknown>;
  return [
    rule(c, 'minWords', 'words', 'min', 'gopher.minWords'),
    rule(c, 'maxWords', 'words', 'max', 'gopher.maxWords'),
    rule(c, 'minMeanWordLength', 'meanWordLength', 'min', 'gopher.minMeanWordLength'),
    rule(c, 'maxMeanWordLength', 'meanWordLength', 'max', 'gopher.maxMeanWordLength'),
    rule(c, 'maxHashRatio', 'hashRatio', 'max', 'gopher.hashRatio'),
    rule(c, 'maxEllipsisRatio', 'ellipsisRatio', 'max', 'gopher.ellipsisRatio'),
    rule(c, 'maxBulletLines', 'bulletLineRatio', 'max', 'gopher.bulletLines'),
    rule(c, 'maxEllipsisLines', 'ellipsisLineRatio', 'max', 'gopher.ellipsisLines'),
    rule(c, 'minAlphaWords', 'alphaWordRatio', 'min', 'gopher.alphaWords'),
    rule(c, 'minStopWords', 'stopWords', 'min', 'gopher.stopWords'),
  ];
}
registerRules('filter.gopherQuality', gopherQualityRules);

/**
 * Gopher quality filter. Defaults: non-symbol words 50–100,000; mean word length 3–10; `#` and
 * ellipses per word ≤ 0.1 each; lines starting with a bullet ≤ 0.9; lines ending with an
 * ellipsis ≤ 0.3; words with a letter ≥ 0.8; ≥ 2 stop words (the, be, to, of, and, that, have,
 * with). Reasons: `gopher.minWords`, `gopher.maxWords`, `gopher.minMeanWordLength`, … Scores
 * (all, for kept and dropped docs): `words`, `meanWordLength`, `hashRatio`, `ellipsisRatio`,
 * `bulletLineRatio`, `ellipsisLineRatio`, `alphaWordRatio`, `stopWords`.
 */
export function gopherQuality(options: GopherQualityOptions = {}): Operator {
  const o = parseConfig('filter.gopherQuality', Options, options);
  const { mode, name, ...config } = o;
  const rules = gopherQualityRules(config as Json);
  const stop = new Set(o.stopWords.map((w) => w.toLowerCase()));
  return defineFilter({
    type: 'filter.gopherQuality',
    name: name ?? 'gopherQuality',
    version: '1',
    // The mode is part of the config: switching drop ↔ annotate changes the output, hence the fingerprint.
    config: { mode, ...config } as Json,
    mode,
    test: (doc) => verdictFromRules(rules, gopherQualityScores(doc.text, stop)),
  });
}

registerOperator('filter.gopherQuality', 'Gopher quality rules (word counts, symbols, bullets, stop words)', (c) => gopherQuality((c ?? {}) as GopherQualityOptions));
