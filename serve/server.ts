/**
 * `sluice serve`: an OpenAI-compatible HTTP server over a Sluice checkpoint. Routes:
 * `GET /v1/models`, `GET /v1/models/{id}`, `POST /v1/completions`, `POST /v1/chat/completions`
 * (JSON, or server-sent events with `stream: true`), `GET /health`. Errors are OpenAI error
 * objects. It binds to 127.0.0.1 by default.
 *
 * node:http, not a framework: the server has five routes and one JSON body each, a streamed
 * response writes server-sent events to the raw socket (which fastify or hono would hand over
 * anyway: `reply.hijack()`, hono's Node adapter), every error path must answer OpenAI's error
 * object rather than the framework's, and zod (already a dependency) validates the bodies.
 * Measured (import, CPU s): node:http 0.05, hono + @hono/node-server 0.07 (2 packages), fastify
 * 0.15 (50 packages); hono would replace only the routing and body reading here.
 *
 * One model decodes one sequence at a time (tfjs runs on this thread; the torch subprocess
 * answers in order), so requests queue and run one after another; a client that disconnects
 * stops its generation.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChatMessage } from '../formats/chat.ts';
import type { GenerateOptions, Generation } from '../trainer/generate/generate.ts';
import type { TextGenerator } from '../trainer/generate/open.ts';
import {
  ApiError,
  chatLogprobs,
  chatMessages,
  chatOptions,
  chatRequest,
  completionLogprobs,
  completionOptions,
  completionPrompts,
  completionRequest,
  echoedLogprobs,
  echoPrompt,
  finishReason,
  type EchoedPrompt,
  parseBody,
  usage,
} from './openai.ts';

/** Renders a conversation into the prompt text (a chat template); `stop` ends an assistant turn. */
export interface ChatFormat {
  render(messages: ChatMessage[]): string;
  /** Strings that end the assistant's turn (e.g. the template's end-of-turn token). */
  stop?: string[];
}

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** The loaded model (see `openGenerator`); the server does not close it. */
  generator: TextGenerator;
  /** The model id served (what `/v1/models` lists and requests must name). */
  name: string;
  /** Interface to bind (default `127.0.0.1`: loopback only). */
  host?: string;
  /** Port (default 0: a free port). */
  port?: number;
  /** How chat messages become a prompt; without it `/v1/chat/completions` answers 400. */
  chat?: ChatFormat;
  /** Largest request body in bytes (default 16 MiB). */
  maxBodyBytes?: number;
  /**
   * A prompt longer than the context: `error` (default, 400 `context_length_exceeded`, as OpenAI)
   * or `left` (keep its last `contextLength` tokens, for tiny models behind long prompts). A
   * request's own `truncate_prompt_tokens` (vLLM's) keeps its last k tokens either way.
   */
  truncate?: 'error' | 'left';
}

/** A running server. */
export interface RunningServer {
  /** `http://HOST:PORT` (the bound port, also when `port` was 0). */
  url: string;
  host: string;
  port: number;
  /** OpenAI clients' `baseURL`: `url + '/v1'`. */
  baseURL: string;
  server: Server;
  /** Stops accepting connections, ends open ones and resolves when closed. */
  close(): Promise<void>;
}

/** Starts the server; resolves once it listens. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? '127.0.0.1';
  const created = Math.floor(Date.now() / 1000);
  const maxBody = opts.maxBodyBytes ?? 16 << 20;
  const g = opts.generator;
  let queue: Promise<unknown> = Promise.resolve();
  /** Runs `f` after every earlier request's generation. */
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const p = queue.then(f);
    queue = p.catch(() => undefined);
    return p;
  };
  const modelObject = { id: opts.name, object: 'model', created, owned_by: 'sluice' };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const err = e instanceof ApiError ? e : new ApiError(500, (e as Error).message ?? String(e), 'server_error');
      if (!res.headersSent) send(res, err.status, err.body());
      else if (!res.writableEnded) {
        // Mid-stream: an error event, as OpenAI's stream carries one.
        res.write(`data: ${JSON.stringify(err.body())}\n\n`);
        res.end();
      }
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const route = (method: string) => {
      if (req.method !== method) throw new ApiError(405, `Method ${req.method} is not allowed on ${path}; use ${method}`, 'invalid_request_error', null, 'method_not_allowed');
    };
    if (path === '/health') {
      route('GET');
      return send(res, 200, { status: 'ok' });
    }
    if (path === '/v1/models') {
      route('GET');
      return send(res, 200, { object: 'list', data: [modelObject] });
    }
    if (path.startsWith('/v1/models/')) {
      route('GET');
      checkModel(decodeURIComponent(path.slice('/v1/models/'.length)));
      return send(res, 200, modelObject);
    }
    if (path === '/v1/completions') {
      route('POST');
      return completions(parseBody(completionRequest, await readJson(req)), res);
    }
    if (path === '/v1/chat/completions') {
      route('POST');
      return chatCompletions(parseBody(chatRequest, await readJson(req)), res);
    }
    throw new ApiError(404, `Unknown route ${req.method} ${path}`, 'invalid_request_error', null, 'unknown_url');
  }

  function checkModel(model: string): void {
    if (model !== opts.name) throw new ApiError(404, `The model '${model}' does not exist; this server serves '${opts.name}'`, 'invalid_request_error', 'model', 'model_not_found');
  }

  async function readJson(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of req) {
      n += (c as Buffer).length;
      if (n > maxBody) throw new ApiError(413, `Request body over ${maxBody} bytes`, 'invalid_request_error', null, 'request_too_large');
      chunks.push(c as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      throw new ApiError(400, `The body is not valid JSON: ${(e as Error).message}`, 'invalid_request_error', null, 'invalid_json');
    }
  }

  /** Token ids of a prompt, cut to its last `keep` tokens when given; a prompt longer than the context is a 400 unless `truncate: 'left'`. */
  function promptIds(p: string | number[], specials: boolean, keep?: number | null): number[] {
    let ids = typeof p === 'string' ? (specials ? g.encodeChat(p) : g.encode(p)) : p;
    // An empty prompt starts from end-of-text, as OpenAI's default prompt '<|endoftext|>' does.
    if (ids.length === 0 && g.eotToken !== undefined) ids = [g.eotToken];
    if (ids.length === 0) throw new ApiError(400, 'The prompt is empty and the model names no end-of-text token to start from', 'invalid_request_error', 'prompt', 'invalid_value');
    if (keep) ids = ids.slice(-keep);
    if (ids.length > g.contextLength && opts.truncate === 'left') ids = ids.slice(-g.contextLength);
    if (ids.length > g.contextLength) throw new ApiError(400, `This model's maximum context length is ${g.contextLength} tokens; the prompt has ${ids.length}`, 'invalid_request_error', 'prompt', 'context_length_exceeded');
    for (const t of ids) if (t >= g.vocabSize) throw new ApiError(400, `Token id ${t} is outside the vocabulary (${g.vocabSize})`, 'invalid_request_error', 'prompt', 'invalid_value');
    return ids;
  }

  /** Abort signal that fires when the client goes away before the response ends. */
  function clientGone(res: ServerResponse): AbortSignal {
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    return ac.signal;
  }

  const choiceSeed = (o: GenerateOptions, i: number) => (o.seed !== undefined ? { seed: o.seed + i } : {});

  async function completions(r: ReturnType<typeof completionRequest.parse>, res: ServerResponse): Promise<void> {
    checkModel(r.model);
    const o = completionOptions(r);
    const sent = completionPrompts(r);
    const prompts = sent.map((p) => promptIds(p, false, r.truncate_prompt_tokens));
    const n = r.n ?? 1;
    const id = `cmpl-${randomBytes(12).toString('hex')}`;
    const signal = clientGone(res);
    const base = { id, object: 'text_completion', created: Math.floor(Date.now() / 1000), model: opts.name };
    const withLogprobs = r.logprobs !== null && r.logprobs !== undefined;
    /** The echoed prompt (`echo: true`): its text, and its tokens' logprobs from one forward. */
    const echoOf = async (pi: number): Promise<EchoedPrompt | null> => {
      if (!r.echo) return null;
      const ids = prompts[pi]!;
      const text = sent[pi];
      return echoPrompt(ids, withLogprobs ? await g.model.scorePrompt(ids, o.topLogprobs ?? 0) : [], (t) => g.tokenizer.tokenBytes(t), typeof text === 'string' ? text : undefined);
    };
    const logprobsOf = (e: EchoedPrompt | null, tokens: Generation['tokens']) => (!withLogprobs ? null : e ? echoedLogprobs(e, tokens) : completionLogprobs(tokens));
    if (r.stream) {
      startSse(res);
      const gens: Generation[] = [];
      await serial(async () => {
        for (const [pi, ids] of prompts.entries()) {
          const e = await echoOf(pi);
          for (let i = 0; i < n; i++) {
            const index = pi * n + i;
            if (e) sse(res, { ...base, choices: [{ index, text: e.text, logprobs: withLogprobs ? echoedLogprobs(e, []) : null, finish_reason: null }] });
            const it = g.stream(ids, { ...o, ...choiceSeed(o, i), signal });
            for (let c = await it.next(); ; c = await it.next()) {
              if (c.done) {
                gens.push(c.value);
                sse(res, { ...base, choices: [{ index, text: '', logprobs: null, finish_reason: finishReason(c.value.finishReason) }] });
                break;
              }
              const lp = withLogprobs ? completionLogprobs(c.value.tokens, e ? e.text.length : 0) : null;
              sse(res, { ...base, choices: [{ index, text: c.value.text, logprobs: lp, finish_reason: null }] });
            }
            if (signal.aborted) return;
          }
        }
      });
      if (r.stream_options?.include_usage) sse(res, { ...base, choices: [], usage: totalUsage(gens, n) });
      return endSse(res);
    }
    const { gens, echoes } = await serial(async () => {
      const out: Generation[] = [];
      const ech: Array<EchoedPrompt | null> = [];
      for (const [pi, ids] of prompts.entries()) {
        const e = await echoOf(pi);
        for (let i = 0; i < n; i++) {
          out.push(await g.generate(ids, { ...o, ...choiceSeed(o, i), signal }));
          ech.push(e);
        }
      }
      return { gens: out, echoes: ech };
    });
    send(res, 200, {
      ...base,
      choices: gens.map((x, index) => ({ index, text: (echoes[index]?.text ?? '') + x.text, logprobs: logprobsOf(echoes[index] ?? null, x.tokens), finish_reason: finishReason(x.finishReason) })),
      usage: totalUsage(gens, n),
    });
  }

  async function chatCompletions(r: ReturnType<typeof chatRequest.parse>, res: ServerResponse): Promise<void> {
    checkModel(r.model);
    if (!opts.chat) throw new ApiError(400, `The model '${opts.name}' has no chat template; start sluice serve with --template, or use /v1/completions`, 'invalid_request_error', 'messages', 'no_chat_template');
    const o = chatOptions(r, g.contextLength);
    const stop = [...(o.stop ?? []), ...(opts.chat.stop ?? [])];
    let rendered: string;
    try {
      rendered = opts.chat.render(chatMessages(r));
    } catch (e) {
      // A template that raises (e.g. roles out of the order it accepts) is the request's fault.
      throw new ApiError(400, `The chat template cannot render these messages: ${(e as Error).message}`, 'invalid_request_error', 'messages', 'invalid_value');
    }
    const ids = promptIds(rendered, true, r.truncate_prompt_tokens);
    const n = r.n ?? 1;
    const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
    const signal = clientGone(res);
    const base = { id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: opts.name };
    if (r.stream) {
      startSse(res);
      const gens: Generation[] = [];
      await serial(async () => {
        for (let index = 0; index < n; index++) {
          sse(res, { ...base, choices: [{ index, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
          const it = g.stream(ids, { ...o, stop, ...choiceSeed(o, index), signal });
          for (let c = await it.next(); ; c = await it.next()) {
            if (c.done) {
              gens.push(c.value);
              sse(res, { ...base, choices: [{ index, delta: {}, logprobs: null, finish_reason: finishReason(c.value.finishReason) }] });
              break;
            }
            sse(res, { ...base, choices: [{ index, delta: { content: c.value.text }, logprobs: r.logprobs ? chatLogprobs(c.value.tokens) : null, finish_reason: null }] });
          }
          if (signal.aborted) return;
        }
      });
      if (r.stream_options?.include_usage) sse(res, { ...base, choices: [], usage: usage(gens) });
      return endSse(res);
    }
    const gens = await serial(async () => {
      const out: Generation[] = [];
      for (let i = 0; i < n; i++) out.push(await g.generate(ids, { ...o, stop, ...choiceSeed(o, i), signal }));
      return out;
    });
    send(res, 200, {
      ...base,
      object: 'chat.completion',
      choices: gens.map((x, index) => ({ index, message: { role: 'assistant', content: x.text, refusal: null }, logprobs: r.logprobs ? chatLogprobs(x.tokens) : null, finish_reason: finishReason(x.finishReason) })),
      usage: usage(gens),
    });
  }

  /** Usage over prompts × n choices: each prompt counted once. */
  function totalUsage(gens: Generation[], n: number) {
    let prompt = 0;
    for (let i = 0; i < gens.length; i += n) prompt += gens[i]!.promptTokens;
    const completion = gens.reduce((a, x) => a + x.completionTokens, 0);
    return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${shown}:${addr.port}`;
  return {
    url,
    host: addr.address,
    port: addr.port,
    baseURL: `${url}/v1`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

function startSse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
}

function sse(res: ServerResponse, data: unknown): void {
  if (!res.writableEnded) res.write(`data: ${JSON.stringify(data)}\n\n`);
}

function endSse(res: ServerResponse): void {
  if (!res.writableEnded) res.end('data: [DONE]\n\n');
}
