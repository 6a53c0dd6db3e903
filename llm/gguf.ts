/**
 * A local GGUF model as a chat-completions backend, run by llama.cpp through `node-llama-cpp`
 * (3.21.1, its prebuilt binary: `getLlama({ build: 'never' })`, never a source build). It answers
 * the same `ChatRequest` with the same `ChatResponse` shape as an OpenAI-compatible endpoint
 * (llm/client.ts), so the judge (evals/judge/run.ts) uses either without knowing which, with the
 * same response cache and cache keys.
 *
 * - **Chat template**: the GGUF's own `tokenizer.chat_template` (or one given), rendered by
 *   Sluice's Jinja renderer exactly as `sluice serve` renders it (serve/chat-format.ts: the
 *   generation prompt, the model's end-of-text text as `eos_token` when the template names none),
 *   then tokenized by llama.cpp with special tokens parsed and no BOS added (the template writes
 *   `bos_token` where the model wants one).
 * - **Decoding**: greedy, whatever the request's temperature: each answer token is the most
 *   likely one, so a judge answer is reproducible. `logprob`/`top_logprobs` are log-probabilities
 *   of the model's own distribution (softmax of the logits: temperature 1, no top-k/top-p/min-p
 *   cut), which is what OpenAI reports and what the judge reads. They come from llama.cpp's
 *   sampler with `probabilities: true` (`controlledEvaluate`), i.e. float32 probabilities.
 * - **Stops**: an end-of-generation token (not part of the answer), a request's `stop` strings,
 *   the template's end-of-turn markers, or `max_tokens` (default: what is left of the context).
 * - **One request at a time** on one context sequence. The KV cache keeps the previous prompt, and
 *   a request evaluates only the tokens after the prefix it shares with it (the judge prompt's long
 *   system message is evaluated once).
 * - A prompt that does not fit the context is refused the way an endpoint refuses it: an
 *   `EndpointError` with status 400 and code `context_length_exceeded`, which the judge records
 *   for that instruction and goes on.
 */
import { toJson } from '../engine/json.ts';
import { basename } from 'node:path';
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from 'node-llama-cpp';
import { resolveTemplate, type ChatTemplate } from '../operators/chat/template.ts';
import { compileJinja } from '../operators/chat/jinja.ts';
import { byteToUnicode } from '../operators/tokenize/bpe/bytes.ts';
import { chatFormat } from '../serve/chat-format.ts';
import type { ChatMessage } from '../formats/chat.ts';
import type { ResponseCache } from './cache.ts';
import { EndpointError, cachedAnswer, type CallResult, type ChatBackend, type ClientStats } from './client.ts';
import { Semaphore } from './limit.ts';
import type { ChatRequest, ChatResponse, TokenLogprob, TopLogprob } from './types.ts';

/** How to open a GGUF judge; every field but `path` has a default. */
export interface GgufOptions {
  /** The `.gguf` file. */
  path: string;
  /** Context size in tokens (default: the model's training context, at most 8,192). */
  contextSize?: number;
  /** Chat template: a built-in name, a Jinja file or `tokenizer_config.json`, or a template (default: the GGUF's `tokenizer.chat_template`). */
  chatTemplate?: string | ChatTemplate;
  /** `false`: CPU only; `'auto'` (default, or NODE_LLAMA_CPP_GPU): llama.cpp's GPU backend when its prebuilt binary loads here, else the CPU. */
  gpu?: 'auto' | false;
  /** CPU threads (default: node-llama-cpp's, the cores available). */
  threads?: number;
}

/** {@link GgufClient.open}'s options: the model, and the client settings shared with the HTTP client. */
export interface GgufClientOptions extends GgufOptions {
  /** Answers by request key, as with the HTTP client; without it every call runs the model. */
  cache?: ResponseCache;
  /** Aborts a call between tokens. */
  signal?: AbortSignal;
}

/** The name a GGUF judge goes by (`judge` in the cache key, `annotator`): the file name without `.gguf`. */
export function ggufModelName(path: string): string {
  return basename(path).replace(/\.gguf$/i, '') || 'gguf';
}

/** node-llama-cpp, imported on first use (a dev dependency: a clear error when it is not installed). */
async function nodeLlamaCpp(): Promise<typeof import('node-llama-cpp')> {
  try {
    return await import('node-llama-cpp');
  } catch (e) {
    throw new Error(`a GGUF judge needs the node-llama-cpp package (npm install -E node-llama-cpp@3.21.1): ${(e as Error).message}`);
  }
}

/** The loaded model: llama.cpp, the model, its context and sequence, and the chat format. */
interface Loaded {
  llama: Llama;
  llm: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  template: ChatTemplate;
  render: (messages: ChatMessage[]) => string;
  stops: string[];
  bytes: (token: Token) => number[] | null;
}

/**
 * A chat-completions backend over one GGUF file (see the module comment). The model is loaded on
 * the first request the cache cannot answer (a re-run answered from the cache never loads it), or
 * at once by {@link GgufClient.open}. Call `close()` when done.
 */
export class GgufClient implements ChatBackend {
  readonly stats: ClientStats = { requests: 0, cacheHits: 0, retries: 0 };
  /** The model's name in responses: the file name without `.gguf`. */
  readonly model: string;
  private readonly slot = new Semaphore(1);
  private loading: Promise<Loaded> | undefined;

  constructor(private readonly opts: GgufClientOptions) {
    this.model = ggufModelName(opts.path);
  }

  /** A client with its model loaded: throws naming the file when it cannot be loaded or has no chat template. */
  static async open(opts: GgufClientOptions): Promise<GgufClient> {
    const c = new GgufClient(opts);
    await c.load();
    return c;
  }

  /** The context size in tokens (loads the model). */
  async contextSize(): Promise<number> {
    return (await this.load()).context.contextSize;
  }

  /** The chat template in use (loads the model). */
  async template(): Promise<ChatTemplate> {
    return (await this.load()).template;
  }

  /** Loads the model once; a failed load is retried by the next call. */
  private load(): Promise<Loaded> {
    this.loading ??= loadGguf(this.opts).catch((e: unknown) => {
      this.loading = undefined;
      throw e;
    });
    return this.loading;
  }

  /** The token ids llama.cpp is given for `messages`: the rendered chat template with the generation prompt (loads the model). */
  async promptTokens(messages: ChatMessage[]): Promise<number[]> {
    const m = await this.load();
    return [...m.llm.tokenize(m.render(messages), true)];
  }

  /**
   * A chat completion of `body` (see the module comment for decoding). With `key` and a cache, a
   * stored answer is returned without running the model (`cached: true`), and a new one is stored.
   * Throws `EndpointError` (400, `context_length_exceeded`) when the prompt leaves no room to answer.
   */
  async chat(body: ChatRequest, key?: string): Promise<CallResult<ChatResponse>> {
    const cache = this.opts.cache;
    const hit = cachedAnswer(cache, key, this.stats);
    if (hit) return hit;
    return this.slot.run(async () => {
      this.opts.signal?.throwIfAborted();
      this.stats.requests++;
      const value = await this.complete(await this.load(), body);
      if (key !== undefined && cache) await cache.put(key, toJson(value));
      return { ok: true, value, cached: false };
    });
  }

  /** Runs the model on one request (the caller holds the slot). */
  private async complete(m: Loaded, body: ChatRequest): Promise<ChatResponse> {
    const prompt = m.llm.tokenize(m.render(body.messages), true);
    const contextSize = m.context.contextSize;
    const room = contextSize - prompt.length;
    if (prompt.length === 0) throw new EndpointError(`gguf ${this.model}: the chat template rendered an empty prompt`, 400, 'invalid_request_error');
    if (room < 1) throw new EndpointError(`This model's maximum context length is ${contextSize} tokens; the prompt has ${prompt.length} (gguf ${this.model})`, 400, 'context_length_exceeded');
    const maxTokens = Math.min(body.max_tokens ?? room, room);
    const nTop = body.logprobs ? Math.min(Math.max(body.top_logprobs ?? 0, 0), 20) : 0;
    const stops = [...new Set([...(body.stop ?? []), ...m.stops])].filter((s) => s.length > 0);
    // Keep the KV cache of the prefix shared with the previous prompt; the last prompt token is
    // always evaluated again, since its logits are the first answer's distribution.
    await m.sequence.adaptStateToTokens(prompt.slice(0, -1), false);
    let feed: Token[] = prompt.slice(m.sequence.nextTokenIndex);
    const answer: Token[] = [];
    const content: TokenLogprob[] = [];
    let text = '';
    let finish: 'stop' | 'length' = 'length';
    while (answer.length < maxTokens) {
      this.opts.signal?.throwIfAborted();
      const items = feed.map((t, i) => (i === feed.length - 1 ? ([t, { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } }] as const) : t));
      const out = await m.sequence.controlledEvaluate(items as Parameters<LlamaContextSequence['controlledEvaluate']>[0]);
      const probs = out[feed.length - 1]?.next.probabilities;
      if (!probs || probs.size === 0) throw new Error(`gguf ${this.model}: llama.cpp returned no next-token probabilities`);
      // The map is sorted by probability, highest first (node-llama-cpp's contract).
      const ranked = probs.entries();
      const [token, p] = ranked.next().value as [Token, number];
      if (m.llm.isEogToken(token)) {
        finish = 'stop';
        break;
      }
      answer.push(token);
      if (nTop > 0 || body.logprobs) {
        const top: TopLogprob[] = [entry(m, token, p)];
        for (let k = 1; k < nTop; k++) {
          const nx = ranked.next();
          if (nx.done) break;
          top.push(entry(m, nx.value[0], nx.value[1]));
        }
        content.push({ ...entry(m, token, p), top_logprobs: top.slice(0, nTop) });
      }
      text = m.llm.detokenize(answer, true);
      const at = firstStop(text, stops);
      if (at >= 0) {
        text = text.slice(0, at);
        finish = 'stop';
        break;
      }
      feed = [token];
    }
    return {
      id: `chatcmpl-gguf-${Date.now().toString(36)}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model || this.model,
      choices: [{ index: 0, message: { role: 'assistant', content: text }, logprobs: body.logprobs ? { content } : null, finish_reason: finish }],
      usage: { prompt_tokens: prompt.length, completion_tokens: answer.length, total_tokens: prompt.length + answer.length },
    };
  }

  /** Frees the context, the model and llama.cpp (when loaded). */
  async close(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    const m = await loading?.catch(() => undefined);
    if (!m) return;
    await m.context.dispose();
    await m.llm.dispose();
    await m.llama.dispose();
  }
}

/** One token with its log-probability: its text (llama.cpp's detokenization) and its bytes (see {@link tokenBytes}). */
function entry(m: Loaded, token: Token, p: number): TopLogprob {
  return { token: m.llm.detokenize([token], true), logprob: Math.log(p), bytes: m.bytes(token) };
}

/**
 * A token's bytes, as OpenAI's `bytes` field gives them (a token may hold part of a UTF-8
 * character, which its text shows as U+FFFD): read from the GGUF's vocabulary, which spells
 * byte-level BPE tokens (`tokenizer.ggml.model` gpt2) in GPT-2's byte-to-character map and
 * SentencePiece ones (llama) with `▁` for a space and `<0xNN>` for a byte; control tokens are
 * their text. Other vocabularies: the UTF-8 of the token's text when it is whole, else null.
 */
function tokenBytes(llm: LlamaModel): (token: Token) => number[] | null {
  const tk = llm.fileInfo.metadata.tokenizer?.ggml;
  const tokens = tk?.tokens;
  const types = tk?.token_type as readonly number[] | undefined;
  const fromText = (token: Token) => {
    const text = llm.detokenize([token], true);
    return text.includes('\uFFFD') ? null : Array.from(Buffer.from(text, 'utf8'));
  };
  if (!tokens || (tk.model !== 'gpt2' && tk.model !== 'llama')) return fromText;
  const u2b = new Map(byteToUnicode().map((ch, b) => [ch, b]));
  return (token) => {
    const t = tokens[token];
    // 3 = control, 4 = user-defined: written as they are.
    if (t === undefined || types?.[token] === 3 || types?.[token] === 4) return fromText(token);
    if (tk.model === 'llama') {
      const byte = /^<0x([0-9A-Fa-f]{2})>$/.exec(t);
      return byte ? [parseInt(byte[1]!, 16)] : Array.from(Buffer.from(t.replaceAll('\u2581', ' '), 'utf8'));
    }
    const out: number[] = [];
    for (const ch of t) {
      const b = u2b.get(ch);
      if (b === undefined) return fromText(token);
      out.push(b);
    }
    return out;
  };
}

/** Loads the GGUF with llama.cpp, creates its context, and resolves its chat template; see {@link GgufClient.open}. */
async function loadGguf(opts: GgufOptions): Promise<Loaded> {
  if (opts.contextSize !== undefined && (!Number.isInteger(opts.contextSize) || opts.contextSize < 2)) throw new Error(`gguf ${opts.path}: contextSize must be an integer ≥ 2, got ${opts.contextSize}`);
  const { getLlama, LlamaLogLevel, readGgufFileInfo } = await nodeLlamaCpp();
  // The header first (no llama.cpp binary, no weights): a file that is no GGUF or has no chat
  // template fails before a model of gigabytes is loaded.
  const info = await readGgufFileInfo(opts.path, { readTensorInfo: false, sourceType: 'filesystem', logWarnings: false }).catch((e: Error) => {
    throw new Error(`gguf ${opts.path}: cannot read it as a GGUF file: ${e.message}`);
  });
  let template: ChatTemplate;
  if (opts.chatTemplate !== undefined) template = typeof opts.chatTemplate === 'string' ? resolveTemplate(opts.chatTemplate) : opts.chatTemplate;
  else {
    const source = info.metadata.tokenizer?.chat_template;
    if (typeof source !== 'string' || !source) throw new Error(`gguf ${opts.path}: has no tokenizer.chat_template; give a chat template (chatml, llama-3, zephyr or a file)`);
    // Parsed now, so a template Sluice's renderer cannot read fails before any request.
    try {
      compileJinja(source);
    } catch (e) {
      throw new Error(`gguf ${opts.path}: its tokenizer.chat_template does not parse: ${(e as Error).message}`);
    }
    template = { name: `${opts.path} (tokenizer.chat_template)`, source };
  }
  // Never a source build: the prebuilt binary the package ships. 'auto' (node-llama-cpp's default,
  // or NODE_LLAMA_CPP_GPU) itself falls back to the CPU binary when no GPU binary loads.
  const llama = await getLlama({ build: 'never', logLevel: LlamaLogLevel.error, ...(opts.gpu !== undefined ? { gpu: opts.gpu } : {}) });
  let llm: LlamaModel | undefined;
  try {
    llm = await llama.loadModel({ modelPath: opts.path }).catch((e: Error) => {
      throw new Error(`gguf ${opts.path}: cannot load it as a model: ${e.message}`);
    });
    const contextSize = opts.contextSize ?? Math.min(llm.trainContextSize, 8192);
    const context = await llm.createContext({ contextSize, sequences: 1, ...(opts.threads ? { threads: opts.threads } : {}) });
    // bos_token and eos_token in the template are the GGUF's own, as llama.cpp's server passes them.
    const model = llm;
    const text = (t: Token | null) => (t !== null ? model.detokenize([t], true) : undefined);
    const bos = template.bosToken ?? text(llm.tokens.bos);
    const format = chatFormat(bos !== undefined ? { ...template, bosToken: bos } : template, text(llm.tokens.eos));
    return { llama, llm, context, sequence: context.getSequence(), template, render: format.render, stops: format.stop ?? [], bytes: tokenBytes(llm) };
  } catch (e) {
    await llm?.dispose();
    await llama.dispose();
    throw e;
  }
}

/** Index of the earliest stop string in `text`, or -1. */
function firstStop(text: string, stops: string[]): number {
  let at = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  return at;
}
