/**
 * `filter.fineweb`: the three heuristics FineWeb added on top of Gopher and C4 (Penedo et al.
 * 2024, §3.3), plus datatrove's list-like ratio: share of lines ending in punctuation, share of
 * short lines, characters in duplicated lines, and newlines per word.
 */
import { z } from 'zod';
import { defineFilter, parseConfig, registerOperator } from '../../engine/operator.ts';
import type { Json, Operator } from '../../engine/types.ts';
import { CommonOptions, threshold, verdictFromRules } from './common.ts';
import { registerRules, rule, type ThresholdRule } from './rules.ts';
import { duplicates, endsWithPunctuation, nonBlankLines, r6, words } from './text-stats.ts';

const Options = z
  .object({
    ...CommonOptions,
    minLinePunctuation: threshold(0.12),
    maxShortLines: threshold(0.67),
    /** A line of at most this many characters is short. */
    shortLineLength: z.number().int().min(1).default(30),
    maxDupLineChars: threshold(0.01),
    maxNewlinesPerWord: threshold(0.3),
  })
  .strict();

/** Options of `filter.fineweb`; a threshold set to `null` switches its rule off. */
export type FinewebOptions = z.input<typeof Options>;

/** FineWeb statistics of a text. */
export function finewebScores(text: string, shortLineLength = 30): Record<string, number> {
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

/** The threshold rules of a fineweb config. */
export function finewebRules(config: Json): ThresholdRule[] {
  const c = config as Record<string, unknown>;
  return [
    rule(c, 'minLinePunctuation', 'linePunctuationRatio', 'min', 'fineweb.linePunctuation'),
    rule(c, 'maxShortLines', 'shortLineRatio', 'max', 'fineweb.shortLines'),
    rule(c, 'maxDupLineChars', 'dupLineCharRatio', 'max', 'fineweb.dupLineChars'),
    rule(c, 'maxNewlinesPerWord', 'newlinesPerWord', 'max', 'fineweb.newlinesPerWord'),
  ];
}
registerRules('filter.fineweb', finewebRules);

/**
 * FineWeb quality filter. Defaults: lines ending in punctuation ≥ 0.12; short lines (≤ 30
 * chars) ≤ 0.67; characters in duplicated lines ≤ 0.01; newlines per word ≤ 0.3. Reasons
 * `fineweb.linePunctuation`, `fineweb.shortLines`, `fineweb.dupLineChars`,
 * `fineweb.newlinesPerWord`; scores `linePunctuationRatio`, `shortLineRatio`,
 * `dupLineCharRatio`, `newlinesPerWord`.
 */
export function fineweb(options: FinewebOptions = {}): Operator {
  const o = parseConfig('filter.fineweb', Options, options);
  const { mode, name, ...config } = o;
  const rules = finewebRules(config as Json);
  return defineFilter({
    type: 'filter.fineweb',
    name: name ?? 'fineweb',
    version: '1',
    // The mode is part of the config: switching drop ↔ annotate changes the output, hence the fingerprint.
    config: { mode, ...config } as Json,
    mode,
    test: (doc) => verdictFromRules(rules, finewebScores(doc.text, o.shortLineLength)),
  });
}

registerOperator('filter.fineweb', 'FineWeb rules (line punctuation, short lines, duplicate lines, list-likeness)', (c) => fineweb((c ?? {}) as FinewebOptions));
