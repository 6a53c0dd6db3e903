/**
 * One HTTP GET with undici, as the crawler needs it: no automatic redirects (each hop is
 * scheduled, scoped, robots-checked and SSRF-checked by the crawler), a total deadline, a body
 * size cap enforced while streaming (a declared Content-Length over the cap aborts before the
 * body), the SSRF guard on every connection, and the exact request/response heads for WARC.
 */
import { STATUS_CODES } from 'node:http';
import type { Agent } from 'undici';
import { lazyPackage } from '../../engine/modules/lazy.ts';
import { BlockedAddressError, addressPolicy, guardedConnector, type PrivatePolicy } from './ssrf.ts';

/** A completed HTTP exchange. */
export interface Exchange {
  url: string;
  status: number;
  /** Response headers as received, names lower-cased, in order. */
  headers: Array<[string, string]>;
  /** The body with transfer coding removed, content coding kept (as the server sent it). */
  body: Buffer;
  /** The HTTP request head as sent (for the WARC request record). */
  requestHead: Buffer;
  /** The HTTP response head, without Transfer-Encoding (the body is stored de-chunked). */
  responseHead: Buffer;
  ip: string | undefined;
  /** When the request started. */
  date: Date;
}

/** Why a fetch produced no exchange. */
export type FetchFailure = 'timeout' | 'too-large' | 'network' | 'blocked-address';

export class FetchError extends Error {
  constructor(
    readonly kind: FetchFailure,
    message: string,
    readonly details: Record<string, string | number> = {},
  ) {
    super(message);
  }
}

export interface FetcherOptions {
  userAgent: string;
  timeoutMs: number;
  maxBodyBytes: number;
  allowPrivateNetworks: PrivatePolicy;
}

const undici = lazyPackage<typeof import('undici')>('undici');

/** Keep-alive HTTP client with the SSRF guard in its connector. */
export class Fetcher {
  private readonly ips = new Map<string, string>();
  private readonly agent: Agent;

  constructor(private readonly opts: FetcherOptions) {
    this.agent = new (undici().Agent)({
      connect: guardedConnector(addressPolicy(opts.allowPrivateNetworks), { timeout: opts.timeoutMs }, (host, ip) => this.ips.set(host, ip)),
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      keepAliveTimeout: 4000,
    });
  }

  /** Fetches `url` (GET); `maxBytes` overrides the body cap (e.g. for robots.txt). */
  async get(url: string, signal?: AbortSignal, maxBytes = this.opts.maxBodyBytes): Promise<Exchange> {
    const u = new URL(url);
    const headers: Array<[string, string]> = [
      ['host', u.host],
      ['user-agent', this.opts.userAgent],
      ['accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
      ['accept-encoding', 'gzip, deflate, br'],
    ];
    const requestHead = Buffer.from(`GET ${u.pathname}${u.search} HTTP/1.1\r\n${headers.map(([k, v]) => `${cap(k)}: ${v}\r\n`).join('')}\r\n`, 'latin1');
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.opts.timeoutMs);
    const onAbort = () => deadline.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const date = new Date();
    try {
      const res = await undici().request(url, {
        method: 'GET',
        headers: Object.fromEntries(headers.filter(([k]) => k !== 'host')),
        dispatcher: this.agent,
        signal: deadline.signal,
      });
      const declared = Number(res.headers['content-length'] ?? NaN);
      if (declared > maxBytes) {
        res.body.destroy();
        throw new FetchError('too-large', `body of ${declared} bytes declared, over the ${maxBytes}-byte limit`, { declared, limit: maxBytes });
      }
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const c of res.body) {
        total += (c as Buffer).length;
        if (total > maxBytes) {
          res.body.destroy();
          throw new FetchError('too-large', `body over the ${maxBytes}-byte limit (stopped reading at ${total} bytes)`, { read: total, limit: maxBytes });
        }
        chunks.push(c as Buffer);
      }
      const list: Array<[string, string]> = [];
      for (const [k, v] of Object.entries(res.headers)) {
        if (v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) list.push([k.toLowerCase(), String(one)]);
      }
      const kept = list.filter(([k]) => k !== 'transfer-encoding');
      const responseHead = Buffer.from(`HTTP/1.1 ${res.statusCode} ${STATUS_CODES[res.statusCode] ?? ''}\r\n${kept.map(([k, v]) => `${cap(k)}: ${v}\r\n`).join('')}\r\n`, 'latin1');
      return { url, status: res.statusCode, headers: list, body: Buffer.concat(chunks, total), requestHead, responseHead, ip: this.ips.get(u.hostname.replace(/^\[|\]$/g, '')), date };
    } catch (e) {
      throw classify(e, deadline.signal.aborted && !signal?.aborted, this.opts.timeoutMs);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** `content-type` → `Content-Type`, for the WARC copy of the heads. */
function cap(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, d: string, c: string) => d + c.toUpperCase());
}

function classify(e: unknown, timedOut: boolean, timeoutMs: number): FetchError {
  if (e instanceof FetchError) return e;
  for (let c: unknown = e; c; c = (c as { cause?: unknown }).cause) {
    if (c instanceof BlockedAddressError) return new FetchError('blocked-address', c.message, { address: c.address, why: c.why });
  }
  const { errors } = undici();
  if (timedOut || e instanceof errors.HeadersTimeoutError || e instanceof errors.BodyTimeoutError || e instanceof errors.ConnectTimeoutError) {
    return new FetchError('timeout', `no complete response within ${timeoutMs} ms`, { timeoutMs });
  }
  const code = (e as NodeJS.ErrnoException).code ?? ((e as { cause?: NodeJS.ErrnoException }).cause?.code as string | undefined);
  return new FetchError('network', `${code ? code + ': ' : ''}${(e as Error).message}`, code ? { code } : {});
}
