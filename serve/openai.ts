/**
 * The OpenAI API surface `sluice serve` implements: request schemas (zod) for `/v1/completions`
 * and `/v1/chat/completions`, their translation into {@link GenerateOptions}, the response and
 * stream-chunk shapes (completions and chat logprobs differ), and the OpenAI error object.
 * Parameters Sluice cannot honour (penalties, logit bias, tools, `suffix`, `best_of` > n)
 * are rejected with a 400 naming them, never silently ignored; unknown fields are ignored, as
 * OpenAI clients send extras. `top_k` (0 or -1: off) and `truncate_prompt_tokens` are vLLM's
 * extensions.
 */
import { z } from 'zod';
import type { GenerateOptions, Generation, GeneratedToken, FinishReason } from '../trainer/generate/generate.ts';
import type { ChatMessage } from '../formats/chat.ts';
import type { PromptTokenScore } from '../trainer/generate/lm.ts';

/** An error answered as OpenAI does: `{"error": {"message", "type", "param", "code"}}` with an HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The response body. */
  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

const stop = z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullish();
const common = {
  model: z.string().min(1),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(-1).nullish(),
  n: z.number().int().min(1).max(16).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  stop,
  seed: z.number().int().nullish(),
  presence_penalty: z.number().nullish(),
  frequency_penalty: z.number().nullish(),
  logit_bias: z.record(z.string(), z.number()).nullish(),
  user: z.string().nullish(),
  /** vLLM's extension: keep only the prompt's last k tokens. */
  truncate_prompt_tokens: z.number().int().min(1).nullish(),
};

/** `POST /v1/completions` body. */
export const completionRequest = z.object({
  ...common,
  prompt: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number().int().min(0)).min(1), z.array(z.array(z.number().int().min(0)).min(1)).min(1)]),
  max_tokens: z.number().int().min(0).nullish(),
  logprobs: z.number().int().min(0).max(20).nullish(),
  echo: z.boolean().nullish(),
  suffix: z.string().nullish(),
  best_of: z.number().int().min(1).nullish(),
});
export type CompletionRequest = z.infer<typeof completionRequest>;

const content = z.union([z.string(), z.array(z.object({ type: z.literal('text'), text: z.string() }))]);

/** `POST /v1/chat/completions` body. */
export const chatRequest = z.object({
  ...common,
  messages: z.array(z.object({ role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']), content: content.nullish(), name: z.string().nullish() })).min(1),
  max_tokens: z.number().int().min(0).nullish(),
  max_completion_tokens: z.number().int().min(0).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  tools: z.array(z.unknown()).nullish(),
  response_format: z.object({ type: z.string() }).nullish(),
});
export type ChatRequest = z.infer<typeof chatRequest>;

/** Parses a body against a schema; a failure is a 400 naming the first bad parameter. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const param = issue.path.join('.') || null;
  throw new ApiError(400, `Invalid value for '${param ?? 'body'}': ${issue.message}`, 'invalid_request_error', param, 'invalid_value');
}

function unsupported(param: string, why: string): never {
  throw new ApiError(400, `'${param}' ${why} is not supported by sluice serve`, 'invalid_request_error', param, 'unsupported_parameter');
}

/** The generation options of the parameters shared by both endpoints; rejects what Sluice cannot honour. */
function commonOptions(r: CompletionRequest | ChatRequest): GenerateOptions {
  if (r.presence_penalty) unsupported('presence_penalty', '≠ 0');
  if (r.frequency_penalty) unsupported('frequency_penalty', '≠ 0');
  if (r.logit_bias && Object.keys(r.logit_bias).length) unsupported('logit_bias', '(non-empty)');
  return {
    temperature: r.temperature ?? 1,
    topP: r.top_p ?? 1,
    topK: r.top_k && r.top_k > 0 ? r.top_k : 0,
    stop: r.stop === null || r.stop === undefined ? [] : typeof r.stop === 'string' ? [r.stop] : r.stop,
    ...(r.seed !== null && r.seed !== undefined ? { seed: r.seed } : {}),
  };
}

/** Generation options of a completions request (max_tokens default 16, as OpenAI's). */
export function completionOptions(r: CompletionRequest): GenerateOptions {
  if (r.suffix) unsupported('suffix', '');
  if (r.best_of && r.best_of !== (r.n ?? 1)) unsupported('best_of', '≠ n');
  return { ...commonOptions(r), maxTokens: r.max_tokens ?? 16, topLogprobs: r.logprobs ?? 0 };
}

/** Generation options of a chat request (no max_tokens: up to the context length). */
export function chatOptions(r: ChatRequest, contextLength: number): GenerateOptions {
  if (r.tools && r.tools.length) unsupported('tools', '');
  if (r.response_format && r.response_format.type !== 'text') unsupported('response_format', `of type '${r.response_format.type}'`);
  if (r.top_logprobs && !r.logprobs) throw new ApiError(400, "'top_logprobs' needs 'logprobs': true", 'invalid_request_error', 'top_logprobs', 'invalid_value');
  return { ...commonOptions(r), maxTokens: r.max_completion_tokens ?? r.max_tokens ?? contextLength, topLogprobs: r.logprobs ? (r.top_logprobs ?? 0) : 0 };
}

/** The request's messages as chat messages (`developer` is OpenAI's new name for `system`; text parts joined). */
export function chatMessages(r: ChatRequest): ChatMessage[] {
  return r.messages.map((m) => ({
    role: m.role === 'developer' ? 'system' : m.role,
    content: m.content === null || m.content === undefined ? '' : typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''),
  }));
}

/** The prompts of a completions request: strings or token-id lists. */
export function completionPrompts(r: CompletionRequest): Array<string | number[]> {
  const p = r.prompt;
  if (typeof p === 'string') return [p];
  if (p.every((x) => typeof x === 'string')) return p as string[];
  if (p.every((x) => typeof x === 'number')) return [p as number[]];
  return p as number[][];
}

/** OpenAI's finish reasons (an aborted generation only happens when the client has gone). */
export function finishReason(f: FinishReason): 'stop' | 'length' {
  switch (f) {
    case 'stop':
    case 'abort':
      return 'stop';
    case 'length':
      return 'length';
    default: {
      const never: never = f;
      throw new Error(`unknown finish reason ${String(never)}`);
    }
  }
}

/** Completions-shaped logprobs of tokens (`text_offset` relative to `base`). */
export function completionLogprobs(tokens: GeneratedToken[], base = 0) {
  return {
    tokens: tokens.map((t) => t.text),
    token_logprobs: tokens.map((t) => t.logprob),
    top_logprobs: tokens.map((t) => Object.fromEntries(t.top.map((x) => [x.text, x.logprob]))),
    text_offset: tokens.map((t) => base + t.offset),
  };
}

/** The echoed prompt of a completions request: its text and its tokens' logprobs (the first has none, as OpenAI's). */
export interface EchoedPrompt {
  text: string;
  tokens: string[];
  logprobs: Array<number | null>;
  top: Array<Record<string, number> | null>;
  offsets: number[];
}

/**
 * The echo of a prompt: `ids` with their scores (`scores[j]` for `ids[j + 1]`); token texts from
 * `tokenBytes`, offsets by incremental UTF-8 decoding; `text` is the prompt as sent when it was
 * text, else its decoding.
 */
export function echoPrompt(ids: number[], scores: PromptTokenScore[], tokenBytes: (id: number) => Uint8Array, sent?: string): EchoedPrompt {
  const bytes = (id: number) => {
    try {
      return tokenBytes(id);
    } catch {
      return new Uint8Array(0);
    }
  };
  const dec = new TextDecoder('utf-8');
  let text = '';
  const offsets: number[] = [];
  const str = (id: number) => Buffer.from(bytes(id)).toString('utf8');
  for (const id of ids) {
    offsets.push(text.length);
    text += dec.decode(bytes(id), { stream: true });
  }
  text += dec.decode();
  return {
    text: sent ?? text,
    tokens: ids.map(str),
    logprobs: [null, ...scores.map((s) => s.logprob)],
    top: [null, ...scores.map((s) => Object.fromEntries(s.top.map((t) => [str(t.token), t.logprob])))],
    offsets,
  };
}

/** Completions logprobs of an echoed prompt followed by generated tokens. */
export function echoedLogprobs(e: EchoedPrompt, tokens: GeneratedToken[]) {
  const gen = completionLogprobs(tokens, e.text.length);
  return {
    tokens: [...e.tokens, ...gen.tokens],
    token_logprobs: [...e.logprobs, ...gen.token_logprobs],
    top_logprobs: [...e.top, ...gen.top_logprobs],
    text_offset: [...e.offsets, ...gen.text_offset],
  };
}

/** Chat-shaped logprobs of tokens. */
export function chatLogprobs(tokens: GeneratedToken[]) {
  return {
    content: tokens.map((t) => ({ token: t.text, logprob: t.logprob, bytes: t.bytes, top_logprobs: t.top.map((x) => ({ token: x.text, logprob: x.logprob, bytes: x.bytes })) })),
    refusal: null,
  };
}

/** Usage of a set of generations. */
export function usage(gens: Generation[]) {
  const prompt = gens.length ? gens[0]!.promptTokens : 0;
  const completion = gens.reduce((a, g) => a + g.completionTokens, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
