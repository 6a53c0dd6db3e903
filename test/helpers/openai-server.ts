/**
 * A small real HTTP server speaking OpenAI's chat-completions shape, for the model-client, judge
 * and `classify.annotate` tests: each request is answered by a handler the test writes (a status,
 * headers and a JSON or raw body), so 429s, 5xx, garbage bodies and logprob answers come over a
 * real socket to the real client. It counts requests and the most that were in flight at once.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a handler answers. `body` as an object is sent as JSON; `delayMs` holds the answer. */
export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  raw?: string;
  delayMs?: number;
  /** Never answer (for timeout tests); the socket is destroyed when the server closes. */
  hang?: boolean;
}

export interface SeenRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
}

export interface ScriptedServer {
  baseUrl: string;
  seen: SeenRequest[];
  maxInFlight: number;
  close(): Promise<void>;
}

/** Starts the server on a free loopback port; `handler` gets each parsed request and its index. */
export async function startScriptedServer(handler: (req: SeenRequest, n: number) => Reply | Promise<Reply>): Promise<ScriptedServer> {
  const seen: SeenRequest[] = [];
  let inFlight = 0;
  const state = { maxInFlight: 0 };
  const server = createServer(async (req, res) => {
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    try {
      let data = '';
      for await (const c of req) data += c;
      let body: unknown = null;
      try {
        body = data ? JSON.parse(data) : null;
      } catch {
        body = data;
      }
      const r: SeenRequest = { path: req.url ?? '', headers: req.headers, body };
      const n = seen.push(r) - 1;
      const reply = await handler(r, n);
      if (reply.hang) return;
      if (reply.delayMs) await new Promise((ok) => setTimeout(ok, reply.delayMs));
      const text = reply.raw ?? JSON.stringify(reply.body ?? {});
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      res.end(text);
    } finally {
      inFlight--;
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    seen,
    get maxInFlight() {
      return state.maxInFlight;
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** A chat completion whose one choice says `content`, with `top` as the first token's alternatives. */
export function chatCompletion(content: string, top?: Array<[string, number]>): unknown {
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    model: 'test-model',
    choices: [
      {
        index: 0,
        finish_reason: 'length',
        message: { role: 'assistant', content },
        logprobs: top ? { content: [{ token: top[0]![0], logprob: top[0]![1], top_logprobs: top.map(([token, logprob]) => ({ token, logprob })) }] } : null,
      },
    ],
  };
}
