/**
 * Preference docs (`meta.preference`, from `read.preferences`) to tokenized pairs: each of
 * prompt + chosen and prompt + rejected is rendered with the chat template and encoded whole
 * (`tokenizeChat`); the response tokens (mask 1) are everything after the prompt (its `completion`
 * mask: from where the prompt's rendering with the generation prompt ends; a token that straddles
 * it counts as response). Sequences longer than the model's context + 1 are truncated (`left`,
 * the default, keeps the end: the response) or the pair is dropped.
 */
import type { ChatMessage } from '../../formats/chat.ts';
import { ChatTemplateError, type ChatTemplate } from '../../operators/chat/template.ts';
import { tokenizeChat } from '../../operators/chat/tokenize.ts';
import type { BpeTokenizer } from '../../operators/tokenize/bpe/tokenizer.ts';
import { responseTokens, type PairSequence } from './data.ts';

/** What to do with a sequence over the limit: keep its end, keep its start, or drop the pair. */
export type PairTruncation = 'left' | 'right' | 'drop';

/** How pairs are tokenized. */
export interface PairTokenizer {
  tokenizer: BpeTokenizer;
  template: ChatTemplate;
  /** Longest sequence (the model's context length + 1). */
  maxTokens: number;
  truncation: PairTruncation;
}

/** A pair's outcome: its two sequences, or why it is dropped (an audit reason) with details. */
export type PairOutcome = { chosen: PairSequence; rejected: PairSequence } | { drop: 'dpo.tooLong' | 'dpo.noResponseTokens' | 'dpo.templateRaised' | 'dpo.sameTokens'; details: Record<string, string | number> };

/**
 * One sequence: prompt + response rendered and encoded whole, mask 1 on everything after the
 * prompt (`tokenizeChat`'s `completion` mask with the prompt's message count).
 */
export function tokenizeSequence(prompt: readonly ChatMessage[], response: readonly ChatMessage[], t: PairTokenizer): PairSequence {
  const r = tokenizeChat([...prompt, ...response], { tokenizer: t.tokenizer, template: t.template, mask: 'completion', promptMessages: prompt.length });
  return { tokens: r.tokens, mask: r.lossMask };
}

function truncate(s: PairSequence, max: number, how: 'left' | 'right'): PairSequence {
  if (s.tokens.length <= max) return s;
  const from = how === 'left' ? s.tokens.length - max : 0;
  return { tokens: Array.prototype.slice.call(s.tokens, from, from + max) as number[], mask: Array.prototype.slice.call(s.mask, from, from + max) as number[] };
}

/** Tokenizes a preference pair (see the module comment). */
export function tokenizePair(p: { prompt: ChatMessage[]; chosen: ChatMessage[]; rejected: ChatMessage[] }, t: PairTokenizer): PairOutcome {
  let chosen: PairSequence;
  let rejected: PairSequence;
  try {
    chosen = tokenizeSequence(p.prompt, p.chosen, t);
    rejected = tokenizeSequence(p.prompt, p.rejected, t);
  } catch (e) {
    if (e instanceof ChatTemplateError) return { drop: 'dpo.templateRaised', details: { error: e.message } };
    throw e;
  }
  const longest = Math.max(chosen.tokens.length, rejected.tokens.length);
  if (longest > t.maxTokens) {
    switch (t.truncation) {
      case 'drop':
        return { drop: 'dpo.tooLong', details: { tokens: longest, maxTokens: t.maxTokens } };
      case 'left':
      case 'right':
        chosen = truncate(chosen, t.maxTokens, t.truncation);
        rejected = truncate(rejected, t.maxTokens, t.truncation);
        break;
      default: {
        const never: never = t.truncation;
        throw new Error(`train.dpo: unknown truncation ${String(never)}`);
      }
    }
  }
  if (responseTokens(chosen) < 1 || responseTokens(rejected) < 1) return { drop: 'dpo.noResponseTokens', details: { chosen: responseTokens(chosen), rejected: responseTokens(rejected), maxTokens: t.maxTokens, truncation: t.truncation } };
  if (chosen.tokens.length === rejected.tokens.length && Array.prototype.every.call(chosen.tokens, (v: number, i: number) => v === rejected.tokens[i])) {
    return { drop: 'dpo.sameTokens', details: { tokens: chosen.tokens.length } };
  }
  return { chosen, rejected };
}
