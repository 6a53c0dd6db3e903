/**
 * `filter.c4`: the C4 cleaning heuristics (Raffel et al. 2020, §2.2) in datatrove's order. It is
 * a line filter and a document filter: lines without terminal punctuation, with fewer than 3
 * words, with a word over 1,000 characters, mentioning javascript, or cookie / privacy / terms
 * policies are removed, citation markers (`[1]`, `[edit]`, `[citation needed]`) are stripped;
 * then the document is dropped if a remaining line has "lorem ipsum" or `{`, or fewer than 5
 * sentences remain. Kept docs carry the cleaned text (drop mode; annotate leaves text as is).
 * `--what-if` can change the document-level rules (`minSentences`, `loremIpsum`,
 * `curlyBracket`) from recorded scores; the line rules change the text, so they need a re-run.
 */
import { z } from 'zod';
import { defineFilter, parseConfig, registerOperator } from '../../engine/operator.ts';
import type { Json, Operator } from '../../engine/types.ts';
import { CommonOptions, TextCache, threshold, verdictFromRules, withPostMap } from './common.ts';
import { registerRules, rule, toggleRule, type ThresholdRule } from './rules.ts';

const POLICY = ['terms of use', 'privacy policy', 'cookie policy', 'uses cookies', 'use of cookies', 'use cookies'];
const CITATION = /\[\d*\]|\[edit\]|\[citation needed\]/gi;
/** C4's line endings, plus the full stops and question/exclamation marks of CJK and other scripts. */
const END_PUNCTUATION = ['.', '?', '!', '"', "'", '”', '’', '。', '！', '？', '।', '؟', '۔'];
const SENTENCE_END = /[.!?。！？।؟۔]+["'”’)\]]*(?=\s|$)/g;

const Options = z
  .object({
    ...CommonOptions,
    /** Remove lines not ending in terminal punctuation (or ending in an ellipsis). */
    terminalPunctuation: z.boolean().default(true),
    /** Remove lines with fewer words; `null` switches off. */
    minWordsPerLine: threshold(3),
    /** Remove lines with a longer word; `null` switches off. */
    maxWordLength: threshold(1000),
    /** Remove lines mentioning javascript. */
    javascript: z.boolean().default(true),
    /** Remove lines about cookie, privacy or terms-of-use policies. */
    policy: z.boolean().default(true),
    /** Strip citation markers. */
    citations: z.boolean().default(true),
    /** Drop documents containing "lorem ipsum". */
    loremIpsum: z.boolean().default(true),
    /** Drop documents containing `{` (code, templates). */
    curlyBracket: z.boolean().default(true),
    /** Drop documents with fewer sentences after cleaning; `null` switches off. */
    minSentences: threshold(5),
  })
  .strict();

/** Options of `filter.c4`; every rule can be switched off. */
export type C4Options = z.input<typeof Options>;
type C4Config = z.output<typeof Options>;

/** Result of C4 cleaning: the kept text and the scores of the document-level rules. */
export interface C4Result {
  text: string;
  scores: Record<string, number>;
}

/** Applies C4's line rules to `text` and measures its document-level rules. */
export function c4Clean(text: string, c: Omit<C4Config, 'mode' | 'name'>): C4Result {
  const kept: string[] = [];
  let lorem = 0;
  let curly = 0;
  let sentences = 0;
  const removed = { wordLength: 0, punctuation: 0, words: 0, javascript: 0, policy: 0 };
  const all = text.split('\n');
  for (const raw of all) {
    let line = raw.trim();
    if (!line) continue;
    const ws = line.split(/\s+/);
    if (c.maxWordLength !== null && ws.some((w) => w.length > c.maxWordLength!)) {
      removed.wordLength++;
      continue;
    }
    if (c.citations) line = line.replace(CITATION, '');
    if (c.terminalPunctuation && (!END_PUNCTUATION.some((p) => line.endsWith(p)) || line.endsWith('...'))) {
      removed.punctuation++;
      continue;
    }
    if (c.minWordsPerLine !== null && ws.length < c.minWordsPerLine) {
      removed.words++;
      continue;
    }
    const lower = line.toLowerCase();
    if (lower.includes('lorem ipsum')) lorem = 1;
    if (c.javascript && lower.includes('javascript')) {
      removed.javascript++;
      continue;
    }
    if (line.includes('{')) curly = 1;
    if (c.policy && POLICY.some((p) => lower.includes(p))) {
      removed.policy++;
      continue;
    }
    sentences += (line.match(SENTENCE_END) ?? []).length;
    kept.push(line);
  }
  const linesRemoved = removed.wordLength + removed.punctuation + removed.words + removed.javascript + removed.policy;
  return {
    text: kept.join('\n').trim(),
    scores: { sentences, loremIpsum: lorem, curlyBracket: curly, linesKept: kept.length, linesRemoved },
  };
}

/** The document-level threshold rules of a validated c4 config. */
function rulesOf(c: Omit<C4Config, 'mode' | 'name'>): ThresholdRule[] {
  return [toggleRule(c, 'loremIpsum', 'loremIpsum', 'c4.loremIpsum'), toggleRule(c, 'curlyBracket', 'curlyBracket', 'c4.curlyBracket'), rule(c, 'minSentences', 'sentences', 'min', 'c4.minSentences')];
}
/** The document-level threshold rules of a stored c4 config (a `filter.c4` spec's `config`, validated again). */
export function c4Rules(config: Json): ThresholdRule[] {
  return rulesOf(parseConfig('filter.c4', Options, config));
}
registerRules('filter.c4', c4Rules);

/**
 * C4 filter (all rules on by default, each switchable): removes lines without terminal
 * punctuation, with < 3 words, with a word > 1,000 chars, mentioning javascript or
 * cookie/privacy/terms policies; strips citation markers; drops docs with "lorem ipsum"
 * (`c4.loremIpsum`), `{` (`c4.curlyBracket`) or < 5 sentences (`c4.minSentences`). Scores:
 * `sentences`, `loremIpsum`, `curlyBracket`, `linesKept`, `linesRemoved`.
 */
export function c4(options: C4Options = {}): Operator {
  const o = parseConfig('filter.c4', Options, options);
  const { mode, name, ...config } = o;
  const rules = rulesOf(config);
  const cache = new TextCache<string>();
  const filter = defineFilter({
    type: 'filter.c4',
    name: name ?? 'c4',
    version: '1',
    // The mode is part of the config: switching drop ↔ annotate changes the output, hence the fingerprint.
    config: { mode, ...config } as Json,
    mode,
    test: (doc, ctx) => {
      const r = c4Clean(doc.text, config);
      cache.of(ctx).set(doc.text, r.text);
      return verdictFromRules(rules, r.scores);
    },
  });
  if (mode === 'annotate') return filter;
  return withPostMap(filter, cache, (doc, cleaned) => (cleaned === undefined || cleaned === doc.text ? doc : { ...doc, text: cleaned }));
}

registerOperator('filter.c4', 'C4 line and document rules (punctuation, javascript, policies, lorem ipsum, braces, sentences)', (c) => c4((c ?? {}) as C4Options));
