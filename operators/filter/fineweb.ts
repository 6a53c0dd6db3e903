/**
 * `filter.fineweb`: the three heuristics FineWeb added on top of Gopher and C4 (Penedo et al.
 * 2024, §3.3), plus datatrove's list-like ratio: share of lines ending in punctuation, share of
 * short lines, characters in duplicated lines, and newlines per word.
 */
import { z } from 'zod';
import type { Json, Operator } from '../../engine/types.ts';
import { defineThresholdFilter } from './define-threshold.ts';
import type { ThresholdRule } from './rules.ts';
import { duplicates, endsWithPunctuation, nonBlankLines, r6, words } from './text-stats.ts';

/** The scores `filter.fineweb` records for every doc. */
export const FINEWEB_SCORES = ['linePunctuationRatio', 'shortLineRatio', 'dupLineCharRatio', 'newlinesPerWord'] as const;

/** FineWeb statistics of a text. */
export function finewebScores(text: string, shortLineLength = 30): Record<(typeof FINEWEB_SCORES)[number], number> {
  const ls = nonBlankLines(text);
  let punct = 0;
  let short = 0;
  for (const l of ls) {
    if (endsWithPunctuation(l)) punct++;
    if (l.length <= shortLineLength) short++;
  }
  const chars = text.replace(/\n/g, '').length;
  const newlines = (text.match(/\n/g) ?? []).length;
  const nWords = words(text).length;
  return {
    linePunctuationRatio: r6(ls.length ? punct / ls.length : 0),
    shortLineRatio: r6(ls.length ? short / ls.length : 0),
    dupLineCharRatio: r6(chars ? duplicates(ls).chars / chars : 0),
    newlinesPerWord: r6(nWords ? newlines / nWords : 0),
  };
}

/** The declaration behind `filter.fineweb` (rules, reasons, scores). */
const finewebFilter = defineThresholdFilter({
  type: 'filter.fineweb',
  version: '1',
  describe: 'FineWeb rules (line punctuation, short lines, duplicate lines, list-likeness)',
  scores: FINEWEB_SCORES,
  rules: {
    minLinePunctuation: { score: 'linePunctuationRatio', bound: 'min', default: 0.12, reason: 'linePunctuation' },
    maxShortLines: { score: 'shortLineRatio', bound: 'max', default: 0.67, reason: 'shortLines' },
    maxDupLineChars: { score: 'dupLineCharRatio', bound: 'max', default: 0.01, reason: 'dupLineChars' },
    maxNewlinesPerWord: { score: 'newlinesPerWord', bound: 'max', default: 0.3, reason: 'newlinesPerWord' },
  },
  /** A line of at most this many characters is short. */
  options: { shortLineLength: z.number().int().min(1).default(30) },
  measure: (doc, c) => finewebScores(doc.text, c.shortLineLength),
});

/** Options of `filter.fineweb`; a threshold set to `null` switches its rule off. */
export type FinewebOptions = Parameters<typeof finewebFilter>[0] & {};

/** The threshold rules of a fineweb config. */
export function finewebRules(config: Json): ThresholdRule[] {
  return finewebFilter.rules(config);
}

/**
 * FineWeb quality filter. Defaults: lines ending in punctuation ≥ 0.12; short lines (≤ 30
 * chars) ≤ 0.67; characters in duplicated lines ≤ 0.01; newlines per word ≤ 0.3. Reasons
 * `fineweb.linePunctuation`, `fineweb.shortLines`, `fineweb.dupLineChars`,
 * `fineweb.newlinesPerWord`; scores `linePunctuationRatio`, `shortLineRatio`,
 * `dupLineCharRatio`, `newlinesPerWord`.
 */
export function fineweb(options: FinewebOptions = {}): Operator {
  return finewebFilter(options);
}
