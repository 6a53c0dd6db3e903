/**
 * The one HTTP client Sluice uses to talk to OpenAI-compatible model endpoints (the LLM judge,
 * `classify.annotate`): undici with keep-alive, at most `concurrency` requests in flight, a
 * deadline per attempt, retry with backoff on 429/408/5xx/timeouts/dropped connections
 * (honouring `Retry-After`), and an optional persistent response cache (`ResponseCache`) so a
 * re-run is free and a killed run resumes.
 *
 * A 2xx response whose body is not a chat completion is not an exception: it comes back as
 * `{ ok: false, reason }` so the caller records it as unparseable (and it is not cached, so a
 * re-run asks again). Errors that end a call — a 4xx other than 408/429, retries exhausted —
 * throw `EndpointError`, whose message names the URL path and status and never the API key.
 */
import type { Agent } from 'undici';
import { lazyPackage } from '../engine/modules/lazy.ts';
import type { Json } from '../engine/types.ts';
import { redact, type Endpoint } from './endpoint.ts';
import { Semaphore } from './limit.ts';
import { backoffMs, retryableStatus, retryAfterMs, type RetryOptions } from './retry.ts';
import type { ResponseCache } from './cache.ts';
import type { ChatRequest, ChatResponse } from './types.ts';

/** Client settings; every field has a default. */
export interface ClientOptions extends RetryOptions {
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Deadline of one attempt in ms, connect to last body byte (default 120,000). */
  timeoutMs?: number;
  /** Answers by request key; without it every call goes to the endpoint. */
  cache?: ResponseCache;
  /** Aborts waits and requests in flight. */
  signal?: AbortSignal;
  /** Called before each retry with the attempt number, the reason and the wait (for logs). */
  onRetry?: (attempt: number, reason: string, waitMs: number) => void;
}

/** What a call returns: the parsed response, or why the body could not be read as one. */
export type CallResult<T> = { ok: true; value: T; cached: boolean } | { ok: false; reason: string; body: string };

/** A call that failed for good: a non-retryable status, or retries exhausted. */
export class EndpointError extends Error {
  constructor(
    message: string,
    /** HTTP status of the last attempt, or null for a network error or timeout. */
    readonly status: number | null,
    /** The OpenAI error object's `code` (e.g. `context_length_exceeded`), when the body had one. */
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'EndpointError';
  }

  /**
   * True when the endpoint refused this request for what it contains (400, 413, 422: a prompt
   * over the context length, a body too large), so other requests may still succeed; false for
   * errors that concern every request (authentication, unknown model, rate limits, outages).
   */
  get requestRejected(): boolean {
    return this.status === 400 || this.status === 413 || this.status === 422;
  }
}

/** Counters of a client's traffic. */
export interface ClientStats {
  requests: number;
  cacheHits: number;
  retries: number;
}

// Loaded on first use: importing Sluice's API must not load the HTTP client (engine/modules/lazy.ts).
const undici = lazyPackage<typeof import('undici')>('undici');

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** A network-level failure worth retrying (timeouts, resets, refused or dropped connections). */
function retryableError(e: unknown): string | null {
  const undiciErrors = undici().errors;
  if (e instanceof undiciErrors.HeadersTimeoutError || e instanceof undiciErrors.BodyTimeoutError || e instanceof undiciErrors.ConnectTimeoutError) return 'timeout';
  if (e instanceof undiciErrors.SocketError) return 'connection dropped';
  if (e instanceof DOMException && e.name === 'TimeoutError') return 'timeout';
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code && ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'].includes(code)) return code;
  return null;
}

/** The `code` of an OpenAI-style error body, or null. */
function errorCode(body: string): string | null {
  try {
    const j = JSON.parse(body) as { error?: { code?: unknown } };
    return typeof j.error?.code === 'string' ? j.error.code : null;
  } catch {
    return null;
  }
}

/** The error message an OpenAI-style error body carries, else a short snippet of the body. */
function errorMessage(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: { message?: unknown } | string };
    if (typeof j.error === 'string') return j.error;
    if (j.error && typeof j.error.message === 'string') return j.error.message;
  } catch {
    /* not JSON: fall through to the snippet */
  }
  return body.length > 200 ? `${body.slice(0, 200)}…` : body;
}

/** Why `v` is not a chat completion, or null when it is one. */
function notChatCompletion(v: unknown): string | null {
  if (v === null || typeof v !== 'object') return 'response is not a JSON object';
  const choices = (v as ChatResponse).choices;
  if (!Array.isArray(choices) || choices.length === 0) return "response has no 'choices'";
  const m = choices[0]?.message;
  if (!m || typeof m !== 'object') return "first choice has no 'message'";
  return null;
}

/** `v` as a chat completion when it is one (checked by {@link notChatCompletion}), else null: how a cached answer is re-checked. */
export function asChatCompletion(v: unknown): ChatResponse | null {
  return notChatCompletion(v) === null ? (v as ChatResponse) : null;
}

/**
 * What the judge needs of a model: chat completions, optionally cached under a key, with traffic
 * counters. Implemented by {@link ModelClient} (an OpenAI-compatible endpoint) and `GgufClient`
 * (a local GGUF file through node-llama-cpp, llm/gguf.ts).
 */
export interface ChatBackend {
  chat(body: ChatRequest, key?: string): Promise<CallResult<ChatResponse>>;
  readonly stats: ClientStats;
  close(): Promise<void>;
}

/** The answer stored under `key` in `cache`, when there is a valid one (counted as a cache hit in `stats`); else null. */
export function cachedAnswer(cache: ResponseCache | undefined, key: string | undefined, stats: ClientStats): CallResult<ChatResponse> | null {
  const hit = key !== undefined ? asChatCompletion(cache?.get(key)) : null;
  if (!hit) return null;
  stats.cacheHits++;
  return { ok: true, value: hit, cached: true };
}

/** An OpenAI-compatible API client (see the module comment). Call `close()` when done. */
export class ModelClient implements ChatBackend {
  private readonly agent: Agent;
  private readonly slots: Semaphore;
  private readonly timeoutMs: number;
  readonly stats: ClientStats = { requests: 0, cacheHits: 0, retries: 0 };

  constructor(
    readonly endpoint: Endpoint,
    private readonly opts: ClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    this.slots = new Semaphore(opts.concurrency ?? 4);
    this.agent = new (undici().Agent)({ headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs, connectTimeout: Math.min(this.timeoutMs, 30_000), keepAliveTimeout: 10_000 });
  }

  /**
   * `POST /chat/completions`. With `key` and a cache, an answer already stored is returned
   * without a call (`cached: true`), and a new valid answer is stored under `key`.
   */
  async chat(body: ChatRequest, key?: string): Promise<CallResult<ChatResponse>> {
    const cache = this.opts.cache;
    const hit = cachedAnswer(cache, key, this.stats);
    if (hit) return hit;
    // The slot is held until the answer is stored, so with concurrency N at most N answers
    // received are not yet on disk when the process is killed.
    return this.slots.run(async (): Promise<CallResult<ChatResponse>> => {
      const text = await this.post('/chat/completions', body);
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return { ok: false, reason: 'response body is not JSON', body: redact(text.slice(0, 500), this.endpoint) };
      }
      const why = notChatCompletion(parsed);
      if (why) return { ok: false, reason: why, body: redact(text.slice(0, 500), this.endpoint) };
      if (key !== undefined && cache) await cache.put(key, parsed as Json);
      return { ok: true, value: parsed as ChatResponse, cached: false };
    });
  }

  /** One POST with retries; resolves to the 2xx body text. */
  private async post(path: string, body: unknown): Promise<string> {
    const url = this.endpoint.baseUrl + path;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.endpoint.apiKey) headers.authorization = `Bearer ${this.endpoint.apiKey}`;
    const payload = JSON.stringify(body);
    const retries = this.opts.retries ?? 6;
    for (let attempt = 0; ; attempt++) {
      this.opts.signal?.throwIfAborted();
      let reason: string;
      let ask: number | null = null;
      let status: number | null = null;
      try {
        this.stats.requests++;
        const signals = [AbortSignal.timeout(this.timeoutMs), ...(this.opts.signal ? [this.opts.signal] : [])];
        const res = await undici().request(url, { method: 'POST', headers, body: payload, dispatcher: this.agent, signal: AbortSignal.any(signals) });
        const text = await res.body.text();
        if (res.statusCode >= 200 && res.statusCode < 300) return text;
        status = res.statusCode;
        reason = `HTTP ${status}: ${errorMessage(text)}`;
        if (!retryableStatus(status)) throw new EndpointError(redact(`${path} failed: ${reason}`, this.endpoint), status, errorCode(text));
        ask = retryAfterMs(res.headers);
      } catch (e) {
        if (e instanceof EndpointError) throw e;
        if (this.opts.signal?.aborted) throw this.opts.signal.reason;
        const why = retryableError(e);
        if (!why) throw new EndpointError(redact(`${path} failed: ${(e as Error).message}`, this.endpoint), null);
        reason = why;
      }
      if (attempt >= retries) throw new EndpointError(redact(`${path} failed after ${attempt + 1} attempts: ${reason}`, this.endpoint), status);
      const wait = backoffMs(attempt, ask, this.opts);
      this.stats.retries++;
      this.opts.onRetry?.(attempt + 1, redact(reason, this.endpoint), wait);
      await sleep(wait, this.opts.signal);
    }
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.agent.close();
  }
}
