/**
 * A counting semaphore: at most `n` holders at once, waiters served first come, first served.
 * The HTTP client holds one slot per request in flight (retries and backoff waits included, so
 * a rate-limited endpoint is not hammered by the other slots while one waits).
 */
export class Semaphore {
  private active = 0;
  private readonly queue: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`concurrency must be an integer >= 1, got ${limit}`);
  }

  /** Runs `fn` once a slot is free; the slot is released when it settles. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.queue.shift();
      // The slot passes straight to the next waiter, so `active` never drops below the queue's need.
      if (next) next();
      else this.active--;
    }
  }
}
