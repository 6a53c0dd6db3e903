/**
 * When to retry an HTTP call to a model endpoint and how long to wait. Retried: 429 (rate limit),
 * 408, every 5xx, timeouts and dropped connections. Not retried: other 4xx (a bad request stays
 * bad). The wait honours `Retry-After` (seconds or an HTTP date) and OpenAI's `retry-after-ms`;
 * without them it is exponential with full jitter (AWS's recommendation: waits spread out so
 * concurrent clients do not retry in lock-step), capped.
 */

/** Backoff settings. */
export interface RetryOptions {
  /** Attempts after the first (default 6). */
  retries?: number;
  /** First backoff ceiling in ms (default 500); doubles each attempt. */
  baseMs?: number;
  /** Largest wait in ms, Retry-After included (default 60,000). */
  maxMs?: number;
}

/** Whether an HTTP status is worth retrying. */
export function retryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/**
 * The server's requested wait in ms from `retry-after-ms` or `Retry-After` (delta-seconds or an
 * HTTP date, RFC 9110 §10.2.3), or null when absent or unreadable.
 */
export function retryAfterMs(headers: Record<string, string | string[] | undefined>, now = Date.now()): number | null {
  const one = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const ms = one('retry-after-ms');
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Number(ms);
  const ra = one('retry-after');
  if (ra === undefined) return null;
  const t = ra.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const date = Date.parse(t);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** The wait before retry number `attempt` (0-based): the server's ask if any, else jittered exponential; both capped. */
export function backoffMs(attempt: number, serverAskMs: number | null, opts: RetryOptions = {}, random: () => number = Math.random): number {
  const base = opts.baseMs ?? 500;
  const max = opts.maxMs ?? 60_000;
  if (serverAskMs !== null) return Math.min(max, serverAskMs);
  return Math.min(max, base * 2 ** attempt) * random();
}
