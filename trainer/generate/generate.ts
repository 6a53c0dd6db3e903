/**
 * Text generation over a {@link DecodeModel}: the decoding loop (sampling, seed, KV cache, max
 * tokens, end-of-text) and the text side (incremental UTF-8 decoding, stop strings, per-token
 * log-probabilities with their text offsets). Streaming yields text as soon as it cannot be the
 * start of a stop string; the final {@link Generation} is the generator's return value.
 */
import { mulberry32 } from '../../engine/random.ts';
import { DecodeSession, type DecodeModel } from './lm.ts';
import { checkSampling, logSumExp, sampleToken, topLogprobs, type SamplingOptions } from './sampling.ts';

/** What generation needs of a tokenizer (a `BpeTokenizer` fits). */
export interface GenTokenizer {
  /** Token ids of `text`; `allowedSpecial: 'all'` reads special-token strings as the specials (chat prompts). */
  encode(text: string, opts?: { allowedSpecial?: 'all' }): ArrayLike<number>;
  /** The bytes of one token (throws or returns nothing for an id with no bytes). */
  tokenBytes(id: number): Uint8Array;
  eotId?: number;
}

/** Options of one generation. Defaults follow the OpenAI API except where noted. */
export interface GenerateOptions extends SamplingOptions {
  /** Most new tokens (default 16, OpenAI's completions default). */
  maxTokens?: number;
  /** Stop strings: the output ends before the first occurrence of any (default none). */
  stop?: string[];
  /** PRNG seed (default: a random one). The same seed, prompt and options give the same tokens. */
  seed?: number;
  /** Top log-probabilities to report per token (default 0; per-token log-probabilities are always kept). */
  topLogprobs?: number;
  /** Reuse keys and values across steps (default true); false recomputes the window every step. */
  cache?: boolean;
  /** Keep generating past the end-of-text token (default false). */
  ignoreEos?: boolean;
  /** A prompt longer than the context: `error` (default) or `left` (keep its last tokens). */
  truncate?: 'error' | 'left';
  /** Stops the generation (finish reason `abort`). */
  signal?: AbortSignal;
}

/** One generated token with its log-probability and the alternatives asked for. */
export interface GeneratedToken {
  token: number;
  /** The token's text (U+FFFD where it holds part of a UTF-8 character). */
  text: string;
  bytes: number[];
  /** Natural log-probability under the model (raw, before temperature and filtering). */
  logprob: number;
  /** Offset (UTF-16 units) of the token's text in the generated text. */
  offset: number;
  top: Array<{ token: number; text: string; bytes: number[]; logprob: number }>;
}

/** Why generation ended: a stop string or end-of-text (`stop`), `maxTokens` (`length`), the signal (`abort`). */
export type FinishReason = 'stop' | 'length' | 'abort';

/** A finished generation. */
export interface Generation {
  text: string;
  /** Tokens whose text is in `text` (not the end-of-text token, not those past a stop string). */
  tokens: GeneratedToken[];
  finishReason: FinishReason;
  /** The stop string that ended it, if one did. */
  stopSequence?: string;
  promptTokens: number;
  /** Tokens generated, end-of-text and any past a stop string included. */
  completionTokens: number;
  seed: number;
}

/** A streamed piece: new text and the tokens that begin in it. */
export interface GenerationChunk {
  text: string;
  tokens: GeneratedToken[];
}

const EMPTY = new Uint8Array(0);

/** Validates options; throws naming the bad one. */
export function checkGenerateOptions(o: GenerateOptions): void {
  checkSampling(o);
  if (o.maxTokens !== undefined && (!Number.isInteger(o.maxTokens) || o.maxTokens < 0)) throw new Error(`generate: maxTokens must be an integer ≥ 0 (got ${o.maxTokens})`);
  if (o.topLogprobs !== undefined && (!Number.isInteger(o.topLogprobs) || o.topLogprobs < 0)) throw new Error(`generate: topLogprobs must be an integer ≥ 0 (got ${o.topLogprobs})`);
  if (o.seed !== undefined && !Number.isInteger(o.seed)) throw new Error(`generate: seed must be an integer (got ${o.seed})`);
  for (const s of o.stop ?? []) if (typeof s !== 'string' || s.length === 0) throw new Error(`generate: stop strings must be non-empty strings (got ${JSON.stringify(s)})`);
}

/**
 * Generates from `prompt` (token ids), streaming. See {@link GenerateOptions} for the defaults.
 */
export async function* generateStream(model: DecodeModel, tok: GenTokenizer, prompt: ArrayLike<number>, opts: GenerateOptions = {}): AsyncGenerator<GenerationChunk, Generation> {
  checkGenerateOptions(opts);
  const sampling = checkSampling(opts);
  const maxTokens = opts.maxTokens ?? 16;
  const stops = opts.stop ?? [];
  const nTop = opts.topLogprobs ?? 0;
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rand = mulberry32(seed);
  let ids = Array.from(prompt);
  if (ids.length > model.contextLength) {
    if (opts.truncate !== 'left') throw new Error(`generate: the prompt has ${ids.length} tokens; the model's context is ${model.contextLength}`);
    ids = ids.slice(-model.contextLength);
  }
  const eot = opts.ignoreEos ? undefined : tok.eotId;
  const bytesOf = (id: number): Uint8Array => {
    try {
      return tok.tokenBytes(id) ?? EMPTY;
    } catch {
      return EMPTY;
    }
  };
  const textOf = (b: Uint8Array) => Buffer.from(b).toString('utf8');
  const decoder = new TextDecoder('utf-8');
  let text = '';
  let emitted = 0;
  const tokens: GeneratedToken[] = [];
  let released = 0;
  let finishReason: FinishReason = 'length';
  let stopSequence: string | undefined;
  let generated = 0;
  // Text that could still become a stop string is held back.
  const holdBack = (): number => {
    let hold = 0;
    for (const s of stops) for (let k = Math.min(s.length - 1, text.length - emitted); k > hold; k--) if (text.endsWith(s.slice(0, k))) hold = k;
    return hold;
  };
  const chunk = (upTo: number): GenerationChunk | null => {
    if (upTo <= emitted && released === tokens.length) return null;
    const piece = text.slice(emitted, upTo);
    emitted = Math.max(emitted, upTo);
    let n = released;
    while (n < tokens.length && tokens[n]!.offset < emitted) n++;
    const out = { text: piece, tokens: tokens.slice(released, n) };
    released = n;
    return out.text || out.tokens.length ? out : null;
  };

  const session = new DecodeSession(model.session(), opts.cache ?? true);
  try {
    if (maxTokens > 0) {
      let logits = await session.feed(ids);
      for (;;) {
        if (opts.signal?.aborted) {
          finishReason = 'abort';
          break;
        }
        const token = sampleToken(logits, sampling, rand);
        generated++;
        if (token === eot) {
          finishReason = 'stop';
          break;
        }
        const lse = logSumExp(logits);
        const b = bytesOf(token);
        tokens.push({
          token,
          text: textOf(b),
          bytes: Array.from(b),
          logprob: logits[token]! - lse,
          offset: text.length,
          top: topLogprobs(logits, nTop, lse).map((t) => {
            const tb = bytesOf(t.token);
            return { token: t.token, text: textOf(tb), bytes: Array.from(tb), logprob: t.logprob };
          }),
        });
        text += decoder.decode(b, { stream: true });
        let at = -1;
        for (const s of stops) {
          const i = text.indexOf(s, Math.max(0, emitted - s.length + 1));
          if (i >= 0 && (at < 0 || i < at)) {
            at = i;
            stopSequence = s;
          }
        }
        if (at >= 0) {
          text = text.slice(0, at);
          const cut = tokens.findIndex((t) => t.offset >= at);
          if (cut >= 0) tokens.length = cut;
          finishReason = 'stop';
          break;
        }
        const c = chunk(text.length - holdBack());
        if (c) yield c;
        if (generated >= maxTokens) break;
        logits = await session.feed([token]);
      }
    }
  } finally {
    await session.close();
  }
  if (finishReason !== 'stop' || !stopSequence) text += decoder.decode();
  const last = chunk(text.length);
  if (last) yield last;
  return { text, tokens, finishReason, ...(stopSequence ? { stopSequence } : {}), promptTokens: ids.length, completionTokens: generated, seed };
}

/** Generates from `prompt` (token ids) and returns the whole {@link Generation}. */
export async function generateTokens(model: DecodeModel, tok: GenTokenizer, prompt: ArrayLike<number>, opts: GenerateOptions = {}): Promise<Generation> {
  const it = generateStream(model, tok, prompt, opts);
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
  }
}
