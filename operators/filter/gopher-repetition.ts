/**
 * `filter.gopherRepetition`: the Gopher repetition rules (Rae et al. 2021, table A1): duplicate
 * lines and paragraphs (by count and by characters), the share of characters in the most
 * frequent 2–4-gram, and the share of characters in duplicated 5–10-grams. Fractions of
 * characters are over the whole text's length, as in datatrove.
 */
import { z } from 'zod';
import { defineFilter, parseConfig, registerOperator } from '../../engine/operator.ts';
import type { Json, Operator } from '../../engine/types.ts';
import { CommonOptions, threshold, verdictFromRules } from './common.ts';
import { registerRules, type ThresholdRule } from './rules.ts';
import { duplicateNgramChars, duplicates, paragraphs, r6, topNgramChars, words } from './text-stats.ts';

const NgramMap = (d: Record<string, number>) => z.record(z.string().regex(/^\d+$/, 'n-gram sizes are integers'), z.number().nullable()).default(d);

const Options = z
  .object({
    ...CommonOptions,
    maxDupLineFrac: threshold(0.3),
    maxDupParaFrac: threshold(0.3),
    maxDupLineCharFrac: threshold(0.2),
    maxDupParaCharFrac: threshold(0.2),
    /** n → max share of characters in the most frequent n-gram. */
    topNgrams: NgramMap({ '2': 0.2, '3': 0.18, '4': 0.16 }),
    /** n → max share of characters in duplicated n-grams. */
    dupNgrams: NgramMap({ '5': 0.15, '6': 0.14, '7': 0.13, '8': 0.12, '9': 0.11, '10': 0.1 }),
  })
  .strict();

/** Options of `filter.gopherRepetition`; a threshold set to `null` switches its rule off. */
export type GopherRepetitionOptions = z.input<typeof Options>;

/** Repetition statistics of a text for the given n-gram sizes. */
export function gopherRepetitionScores(text: string, topNs: number[], dupNs: number[]): Record<string, number> {
  const len = Math.max(1, text.length);
  const paras = paragraphs(text);
  const ls = text.split(/\n+/);
  const dp = duplicates(paras);
  const dl = duplicates(ls);
  const s: Record<string, number> = {
    dupLineFrac: r6(ls.length ? dl.count / ls.length : 0),
    dupParaFrac: r6(paras.length ? dp.count / paras.length : 0),
    dupLineCharFrac: r6(dl.chars / len),
    dupParaCharFrac: r6(dp.chars / len),
  };
  const ws = words(text);
  for (const n of topNs) s[`topNgram${n}`] = r6(topNgramChars(ws, n) / len);
  for (const n of dupNs) s[`dupNgram${n}`] = r6(duplicateNgramChars(ws, n) / len);
  return s;
}

function sizes(m: unknown): number[] {
  return Object.keys((m ?? {}) as Record<string, unknown>)
    .map(Number)
    .sort((a, b) => a - b);
}

/** The threshold rules of a gopherRepetition config. */
export function gopherRepetitionRules(config: Json): ThresholdRule[] {
  const c = config as Record<string, unknown>;
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  const rules: ThresholdRule[] = [
    { config: 'maxDupLineFrac', score: 'dupLineFrac', bound: 'max', reason: 'gopher.dupLines', threshold: num(c.maxDupLineFrac) },
    { config: 'maxDupParaFrac', score: 'dupParaFrac', bound: 'max', reason: 'gopher.dupParagraphs', threshold: num(c.maxDupParaFrac) },
    { config: 'maxDupLineCharFrac', score: 'dupLineCharFrac', bound: 'max', reason: 'gopher.dupLineChars', threshold: num(c.maxDupLineCharFrac) },
    { config: 'maxDupParaCharFrac', score: 'dupParaCharFrac', bound: 'max', reason: 'gopher.dupParagraphChars', threshold: num(c.maxDupParaCharFrac) },
  ];
  const top = (c.topNgrams ?? {}) as Record<string, unknown>;
  const dup = (c.dupNgrams ?? {}) as Record<string, unknown>;
  for (const n of sizes(top)) rules.push({ config: `topNgrams.${n}`, score: `topNgram${n}`, bound: 'max', reason: `gopher.topNgram${n}`, threshold: num(top[String(n)]) });
  for (const n of sizes(dup)) rules.push({ config: `dupNgrams.${n}`, score: `dupNgram${n}`, bound: 'max', reason: `gopher.dupNgram${n}`, threshold: num(dup[String(n)]) });
  return rules;
}
registerRules('filter.gopherRepetition', gopherRepetitionRules);

/**
 * Gopher repetition filter. Defaults: duplicate-line and duplicate-paragraph fractions ≤ 0.3,
 * their character fractions ≤ 0.2; top n-gram character share 2→0.20, 3→0.18, 4→0.16;
 * duplicated n-gram share 5→0.15 … 10→0.10. Reasons `gopher.dupLines`, `gopher.dupParagraphs`,
 * `gopher.dupLineChars`, `gopher.dupParagraphChars`, `gopher.topNgram<n>`, `gopher.dupNgram<n>`;
 * scores `dupLineFrac`, `dupParaFrac`, `dupLineCharFrac`, `dupParaCharFrac`, `topNgram<n>`, `dupNgram<n>`.
 */
export function gopherRepetition(options: GopherRepetitionOptions = {}): Operator {
  const o = parseConfig('filter.gopherRepetition', Options, options);
  const { mode, name, ...config } = o;
  const rules = gopherRepetitionRules(config as Json);
  const topNs = sizes(o.topNgrams);
  const dupNs = sizes(o.dupNgrams);
  return defineFilter({
    type: 'filter.gopherRepetition',
    name: name ?? 'gopherRepetition',
    version: '1',
    // The mode is part of the config: switching drop ↔ annotate changes the output, hence the fingerprint.
    config: { mode, ...config } as Json,
    mode,
    test: (doc) => verdictFromRules(rules, gopherRepetitionScores(doc.text, topNs, dupNs)),
  });
}

registerOperator('filter.gopherRepetition', 'Gopher repetition rules (duplicate lines, paragraphs, n-grams)', (c) => gopherRepetition((c ?? {}) as GopherRepetitionOptions));
