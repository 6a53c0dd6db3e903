/**
 * The crawl frontier: per-host FIFO queues (breadth-first within a host, round-robin across
 * hosts), the set of every URL ever enqueued (the de-duplication set, by normalised URL), and
 * its persistent form. The crawl writes the state atomically right after each WARC segment is
 * committed, so a resumed crawl neither loses a URL nor refetches one that is archived.
 */
import type { Json, StorageLike } from '../../engine/types.ts';

/** A URL waiting to be fetched. */
export interface Entry {
  url: string;
  depth: number;
  /** Fetch attempts made so far (retries). */
  attempts: number;
  /** Not before this time (ms since epoch): retry backoff. */
  notBefore: number;
  /** Redirect hops that led here, oldest first (empty for a link or a seed). */
  chain: string[];
}

/** One committed WARC segment and the frontier entries whose final records it holds. */
export interface SegmentState {
  uri: string;
  entries: Array<{ url: string; depth: number }>;
}

/** What persists between attempts of a crawl task. */
export interface CrawlState {
  format: 'sluice.crawl/1';
  configHash: string;
  queue: Entry[];
  seen: string[];
  /** URLs fetched so far (the maxPages budget). */
  pages: number;
  segments: SegmentState[];
  nextSegment: number;
  skips: Array<{ input: string; reason: string; details: Record<string, Json> }>;
}

/** Host of a URL (the politeness and queueing unit). */
export function hostOf(url: string): string {
  return new URL(url).host;
}

export class Frontier {
  readonly seen = new Set<string>();
  private readonly queues = new Map<string, Entry[]>();
  private order: string[] = [];
  private rr = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Enqueues a URL not seen before; false when it was already seen. */
  add(e: Entry): boolean {
    if (this.seen.has(e.url)) return false;
    this.seen.add(e.url);
    this.push(e);
    return true;
  }

  /** Enqueues an entry again (a retry, or a restored one), regardless of the seen set. */
  push(e: Entry): void {
    const h = hostOf(e.url);
    let q = this.queues.get(h);
    if (!q) {
      q = [];
      this.queues.set(h, q);
      this.order.push(h);
    }
    q.push(e);
    this.count++;
  }

  /**
   * Takes the first entry that may start now: its host passes `hostReady`, the entry's backoff
   * has passed and `accept` (if given) takes it. Hosts are visited round-robin.
   */
  take(now: number, hostReady: (host: string) => boolean, accept?: (e: Entry) => boolean): Entry | undefined {
    const n = this.order.length;
    for (let k = 0; k < n; k++) {
      const i = (this.rr + k) % n;
      const h = this.order[i]!;
      const q = this.queues.get(h)!;
      if (!q.length || !hostReady(h)) continue;
      const j = q.findIndex((e) => e.notBefore <= now && (!accept || accept(e)));
      if (j < 0) continue;
      const [e] = q.splice(j, 1);
      this.count--;
      this.rr = (i + 1) % n;
      if (!q.length) this.drop(h);
      return e;
    }
    return undefined;
  }

  private drop(h: string): void {
    this.queues.delete(h);
    const i = this.order.indexOf(h);
    this.order.splice(i, 1);
    if (this.rr > i) this.rr--;
    if (this.rr >= this.order.length) this.rr = 0;
  }

  /** Earliest time a queued entry becomes due, or undefined when the queue is empty. */
  earliest(): number | undefined {
    let t: number | undefined;
    for (const q of this.queues.values()) for (const e of q) if (t === undefined || e.notBefore < t) t = e.notBefore;
    return t;
  }

  /** Hosts with queued entries. */
  hosts(): string[] {
    return [...this.order];
  }

  /** The queued entries (for persistence). */
  entries(): Entry[] {
    const out: Entry[] = [];
    for (const q of this.queues.values()) out.push(...q);
    return out;
  }
}

/** Reads the crawl state, or undefined when none was written yet. */
export async function loadState(storage: StorageLike, uri: string): Promise<CrawlState | undefined> {
  if (!(await storage.exists(uri))) return undefined;
  const text = await storage.readText(uri);
  let s: CrawlState;
  try {
    s = JSON.parse(text) as CrawlState;
  } catch (e) {
    throw new Error(`crawl: state file ${uri} is not valid JSON (${(e as Error).message}); remove it to start the crawl over`);
  }
  if (s.format !== 'sluice.crawl/1') throw new Error(`crawl: state file ${uri} has unknown format ${JSON.stringify(s.format)}`);
  return s;
}

/** Writes the crawl state atomically. */
export async function saveState(storage: StorageLike, uri: string, s: CrawlState): Promise<void> {
  await storage.write(uri, JSON.stringify(s));
}
