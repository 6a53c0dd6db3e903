/**
 * Chat tokenisation with a loss mask: `tokenizeChat` (a function `train.dpo` and `serve` import)
 * and the `chat.tokenize` operator (sets `doc.tokens` and `doc.lossMask` of chat docs).
 *
 * The conversation is rendered once with its template and the whole text encoded once: encoding
 * the turns one by one does not give the same tokens (GPT-2's BPE encodes `"Assistant: "` +
 * `"Hello"` as `… ":" " " "Hello"` but the whole as `… ":" " Hello"`). The mask comes from
 * character offsets instead: turn `i` of the rendering starts where the rendering of turns
 * `0..i-1` with the generation prompt ends, and ends where the rendering of turns `0..i` ends
 * (each must be a prefix of the whole; a template for which they are not is an error). The
 * offsets map to tokens through each token's byte span; a token is trained when any of its bytes
 * lies in a trained span, so a token BPE merged across a turn's start (`" Hello"` above) is trained.
 */
import { z } from 'zod';
import { parseConfig, registerOperator } from '../../engine/operator.ts';
import type { Doc, Json, Operator, StageRef } from '../../engine/types.ts';
import { chatOf, type ChatMessage } from '../../formats/chat.ts';
import type { BpeTokenizer } from '../tokenize/bpe/tokenizer.ts';
import { loadTokenizer } from '../tokenize/load.ts';
import { ChatTemplateError, renderChat, resolveTemplate, templateDigest, templateForTokenizer, type ChatTemplate, type RenderOptions } from './template.ts';

/** What is trained: every assistant turn, only the last, everything after the prompt (by default the messages up to the last user turn), or nothing. */
export type MaskMode = 'assistant' | 'last' | 'completion' | 'none';
/** What `maxTokens` does to a longer conversation: keep its start, keep its end, or drop it (audited). */
export type Truncation = 'right' | 'left' | 'drop';

/** Options of {@link tokenizeChat}. */
export interface TokenizeChatOptions {
  tokenizer: BpeTokenizer;
  template: ChatTemplate;
  /** Default `'assistant'`. */
  mask?: MaskMode;
  /** `bos_token` / `eos_token` for the template (default: the template's own, else '' and the tokenizer's end-of-text special). */
  bosToken?: string;
  eosToken?: string;
  /**
   * For `mask: 'completion'`: how many leading messages are the prompt (a preference pair's
   * `prompt.length`). Default: the messages up to and including the last user turn.
   */
  promptMessages?: number;
}

/** A tokenised conversation: ids, a parallel mask (1 = trained) and the rendered text they encode. */
export interface TokenizedChat {
  tokens: Uint32Array;
  lossMask: Uint8Array;
  text: string;
}

function eotName(tok: BpeTokenizer): string {
  for (const [name, id] of tok.specials) if (id === tok.eotId) return name;
  return '';
}

/** Index of the last user turn, -1 without one. */
function findLastUser(messages: readonly ChatMessage[]): number {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.role === 'user') return i;
  return -1;
}

/** The character spans `[start, end)` of the rendering that are trained under `mode`. */
function trainedSpans(template: ChatTemplate, messages: readonly ChatMessage[], full: string, mode: MaskMode, ro: RenderOptions, promptMessages: number | undefined): [number, number][] {
  if (mode === 'none') return [];
  const prefixLen = (upTo: number, gen: boolean): number => {
    const text = renderChat(template, messages.slice(0, upTo), { ...ro, addGenerationPrompt: gen });
    if (!full.startsWith(text)) throw new ChatTemplateError(`chat template '${template.name}': rendering the first ${upTo} turn(s)${gen ? ' with the generation prompt' : ''} is not a prefix of rendering them all, so turn offsets (and the loss mask) cannot be found`, false);
    return text.length;
  };
  /** Where turn `i` starts: after turns 0..i-1 and, before an assistant turn, the generation prompt (when the template has one that fits). */
  const turnStart = (i: number): number => {
    if (i === 0) return 0;
    if (messages[i]?.role !== 'assistant') return prefixLen(i, false);
    try {
      return prefixLen(i, true);
    } catch (e) {
      // A template without a generation prompt (Llama 2's) or whose prompt differs: the turn starts after the previous ones.
      if (!(e instanceof ChatTemplateError)) throw e;
      return prefixLen(i, false);
    }
  };
  const span = (i: number): [number, number] => [turnStart(i), prefixLen(i + 1, false)];
  switch (mode) {
    case 'assistant': return messages.flatMap((m, i) => (m.role === 'assistant' ? [span(i)] : []));
    case 'last': {
      let i = messages.length - 1;
      while (i >= 0 && messages[i]!.role !== 'assistant') i--;
      return i >= 0 ? [span(i)] : [];
    }
    case 'completion': {
      const p = promptMessages ?? findLastUser(messages) + 1;
      if (!Number.isInteger(p) || p < 0 || p > messages.length) throw new Error(`tokenizeChat: promptMessages ${p} is not between 0 and the ${messages.length} messages`);
      return p < messages.length ? [[turnStart(p), full.length]] : [];
    }
    default: {
      const never: never = mode;
      throw new Error(`unknown mask mode ${String(never)}`);
    }
  }
}

/**
 * Renders `messages` with the template and encodes the whole text (specials written by the
 * template, such as `<|im_end|>`, are recognised, as `apply_chat_template(tokenize=True)` does);
 * the loss mask marks the tokens of the trained turns (`mask`, default `'assistant'`: every
 * assistant turn, its end-of-turn text included). Throws {@link ChatTemplateError} when the
 * template raises.
 */
export function tokenizeChat(messages: readonly ChatMessage[], opts: TokenizeChatOptions): TokenizedChat {
  const { tokenizer: tok, template } = opts;
  const ro: RenderOptions = { bosToken: opts.bosToken ?? template.bosToken ?? '', eosToken: opts.eosToken ?? template.eosToken ?? eotName(tok) };
  const text = renderChat(template, messages, ro);
  const spans = trainedSpans(template, messages, text, opts.mask ?? 'assistant', ro, opts.promptMessages);
  const tokens = tok.encode(text, { allowedSpecial: 'all' });
  const lossMask = new Uint8Array(tokens.length);
  if (spans.length) {
    // Char offsets → UTF-8 byte offsets (token spans are in bytes).
    const byteSpans = spans.map(([s, e]) => [Buffer.byteLength(text.slice(0, s)), Buffer.byteLength(text.slice(0, e))] as const);
    let b0 = 0;
    for (let t = 0; t < tokens.length; t++) {
      const b1 = b0 + tok.tokenBytes(tokens[t]!).length;
      for (const [s, e] of byteSpans) if (b0 < e && b1 > s) { lossMask[t] = 1; break; }
      b0 = b1;
    }
  }
  return { tokens, lossMask, text };
}

/** Options of the {@link chatTokenize} operator. */
export interface ChatTokenizeConfig {
  /** A trained-tokenizer stage, an encoding name (`cl100k_base`, `gpt2`, …) or a path of tokenizer files. */
  tokenizer: StageRef | string;
  /**
   * A built-in template (`chatml`, `llama-3`, `zephyr`) or a `.jinja` / `tokenizer_config.json`
   * file. The tokenizer's own template (its directory's `chat_template.jinja` or
   * `tokenizer_config.json`) wins when it has one; without either the task fails.
   */
  template?: string;
  /** Default `'assistant'`. */
  mask?: MaskMode;
  /** Longest tokenised conversation kept whole (default: no limit). */
  maxTokens?: number;
  /** Default `'right'` (keep the start); `'left'` keeps the end; `'drop'` drops it as `chat.tooLong`. */
  truncation?: Truncation;
  bosToken?: string;
  eosToken?: string;
  /** Operator instance name (default `chat.tokenize`). */
  name?: string;
}

const refSchema = z.object({ kind: z.literal('stage'), name: z.string(), pipeline: z.string() });
const schema = z.strictObject({
  tokenizer: z.union([z.string().min(1), refSchema]),
  template: z.string().min(1).optional(),
  mask: z.enum(['assistant', 'last', 'completion', 'none']).default('assistant'),
  maxTokens: z.number().int().positive().optional(),
  truncation: z.enum(['right', 'left', 'drop']).default('right'),
  bosToken: z.string().optional(),
  eosToken: z.string().optional(),
  name: z.string().optional(),
});

/**
 * `chat.tokenize({ tokenizer, template, mask, maxTokens, truncation })`: sets `doc.tokens` and
 * `doc.lossMask` of each chat doc (`meta.chat`, from `read.chat`) with {@link tokenizeChat}.
 * Drops, audited: `chat.templateRaised` (the template's `raise_exception`; details name the
 * source line and the message), `chat.tooLong` (over `maxTokens` with `truncation: 'drop'`),
 * `chat.noTrainedTokens` (truncation left no trained token, mask not `'none'`). A doc that is
 * not a chat doc fails the task. Token-count filters then need nothing more:
 * `filter.where('short', (d) => d.tokens!.length >= 16)`.
 */
export function chatTokenize(config: ChatTokenizeConfig): Operator {
  const c = parseConfig('chat.tokenize', schema, config);
  const ref = typeof c.tokenizer === 'string' ? undefined : (c.tokenizer as StageRef);
  const fallback = c.template === undefined ? undefined : resolveTemplate(c.template);
  const name = c.name ?? 'chat.tokenize';
  let state: { tok: BpeTokenizer; template: ChatTemplate } | undefined;
  const cfg: Record<string, Json> = { tokenizer: ref ? { stage: ref.name } : (c.tokenizer as string), mask: c.mask, truncation: c.truncation };
  if (c.template !== undefined) cfg.template = c.template;
  if (c.maxTokens !== undefined) cfg.maxTokens = c.maxTokens;
  if (c.bosToken !== undefined) cfg.bosToken = c.bosToken;
  if (c.eosToken !== undefined) cfg.eosToken = c.eosToken;
  return {
    kind: 'operator',
    type: 'chat.tokenize',
    name,
    version: '1',
    config: cfg,
    ...(fallback ? { code: templateDigest(fallback) } : {}),
    ...(ref ? { refs: [ref] } : {}),
    async *process(input, ctx) {
      if (!state) {
        const spec = ref ? (await ctx.dataset(ref)).dir : (c.tokenizer as string);
        const tok = await loadTokenizer(spec, ctx.storage);
        const template = await templateForTokenizer(spec, fallback, ctx.storage);
        ctx.log(`chat.tokenize: tokenizer ${tok.name}, template ${template.name}${fallback && template !== fallback ? ` (the tokenizer's own, not ${fallback.name})` : ''}`);
        state = { tok, template };
      }
      const { tok, template } = state;
      const opts: TokenizeChatOptions = { tokenizer: tok, template, mask: c.mask, ...(c.bosToken !== undefined ? { bosToken: c.bosToken } : {}), ...(c.eosToken !== undefined ? { eosToken: c.eosToken } : {}) };
      for await (const batch of input) {
        const out: Doc[] = [];
        for (const doc of batch) {
          const chat = chatOf(doc);
          if (!chat) throw new Error(`chat.tokenize: doc ${doc.id}${doc.meta.source ? ` (${doc.meta.source})` : ''} has no meta.chat: read it with read.chat`);
          let r: TokenizedChat;
          try {
            r = tokenizeChat(chat.messages, opts);
          } catch (e) {
            if (!(e instanceof ChatTemplateError)) throw e;
            ctx.audit.drop(name, doc, 'chat.templateRaised', undefined, { source: String(doc.meta.source ?? doc.id), error: e.message });
            continue;
          }
          let { tokens, lossMask } = r;
          if (c.maxTokens !== undefined && tokens.length > c.maxTokens) {
            switch (c.truncation) {
              case 'drop':
                ctx.audit.drop(name, doc, 'chat.tooLong', tokens.length, { maxTokens: c.maxTokens });
                continue;
              case 'right':
                tokens = tokens.slice(0, c.maxTokens);
                lossMask = lossMask.slice(0, c.maxTokens);
                break;
              case 'left':
                tokens = tokens.slice(tokens.length - c.maxTokens);
                lossMask = lossMask.slice(lossMask.length - c.maxTokens);
                break;
              default: {
                const never: never = c.truncation;
                throw new Error(`unknown truncation ${String(never)}`);
              }
            }
            if (c.mask !== 'none' && !lossMask.includes(1)) {
              ctx.audit.drop(name, doc, 'chat.noTrainedTokens', r.tokens.length, { maxTokens: c.maxTokens, truncation: c.truncation });
              continue;
            }
          }
          out.push({ ...doc, tokens, lossMask });
        }
        if (out.length) yield out;
      }
    },
  };
}

registerOperator('chat.tokenize', 'render chat docs with a chat template and set doc.tokens and doc.lossMask; config { tokenizer, template?, mask?, maxTokens?, truncation? }', (config: Json) => chatTokenize(parseConfig('chat.tokenize', schema, config) as ChatTokenizeConfig));
