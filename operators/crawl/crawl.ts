/**
 * `crawl(options)`: a source that fetches the web politely with undici and archives every HTTP
 * exchange as WARC 1.1 under `<stageDir>/warc/`; its docs are the fetched HTML pages, built by the
 * same code as `read.warc` docs (text = decoded HTML; meta.url, contentType, httpStatus,
 * warcRecordId, source = `<warc file>#<offset>`).
 *
 * One part, one task: the crawl is a single scheduler (global and per-host concurrency, a
 * minimum delay per host raised by robots.txt Crawl-delay, backoff retries on 429/5xx/network
 * errors honouring Retry-After). Every URL that is not fetched, or fetched but not a doc, is
 * recorded with `ctx.audit.skip(url, reason, details)`. State (frontier, seen set, budget, skips)
 * is saved under `ctx.stateDir` right after each WARC segment commits, so an interrupted crawl
 * resumes without refetching what is archived; on resume the archived pages are read back from
 * their WARC segments and yielded again.
 */
import { createHash } from 'node:crypto';
import { ConfigError, parseConfig } from '../../engine/operator.ts';
import type { Doc, Json, Source, SourcePart, TaskContext } from '../../engine/types.ts';
import { SegmentReader } from '../read/warc/bytes.ts';
import { docFromRecord, type DocOptions } from '../read/warc/doc.ts';
import { segments as gzSegments } from '../read/warc/gzip.ts';
import { openInput } from '../read/warc/input.ts';
import { field, parseWarc, type Fields } from '../read/warc/record.ts';
import { FetchError, Fetcher, type Exchange } from './fetcher.ts';
import { schema, type CrawlOptions, type Options } from './options.ts';
import { Frontier, hostOf, loadState, saveState, type CrawlState, type Entry, type SegmentState } from './frontier.ts';
import { extractLinks } from './links.ts';
import { agentToken, loadRobots, type RobotsRules } from './robots.ts';
import { SSRF_BLOCKED, addressPolicy } from './ssrf.ts';
import { Scope, normalizeUrl } from './url.ts';
import { WarcWriter } from './warc-writer.ts';
import { toJson } from '../../engine/json.ts';

export type { CrawlOptions } from './options.ts';

interface HostState {
  /** Scheme + host of the first URL seen for the host (robots.txt lives there). */
  origin: string;
  active: number;
  nextAt: number;
  delayMs: number;
  robots: RobotsRules | 'loading' | undefined;
}

type Result =
  | { kind: 'page'; entry: Entry; exchange: Exchange }
  | { kind: 'failed'; entry: Entry; error: FetchError }
  | { kind: 'robots'; host: string; rules: RobotsRules }
  | { kind: 'archive'; exchange: Exchange };

/** `Retry-After` (seconds or an HTTP date) in ms, if present and sane. */
function retryAfterMs(x: Exchange): number | undefined {
  const v = x.headers.find(([k]) => k === 'retry-after')?.[1];
  if (!v) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

const isRobotsUrl = (u: string) => new URL(u).pathname === '/robots.txt';

class CrawlRun {
  private readonly frontier = new Frontier();
  private readonly hosts = new Map<string, HostState>();
  private readonly results: Result[] = [];
  private readonly out: Doc[] = [];
  private readonly inflight = new Map<Promise<void>, Entry | undefined>();
  private readonly fetcher: Fetcher;
  private readonly scope: Scope;
  private readonly docOpts: DocOptions;
  private readonly stateUri: string;
  private readonly abort = new AbortController();
  private writer!: WarcWriter;
  private pages = 0;
  private segments: SegmentState[] = [];
  private segEntries: Array<{ url: string; depth: number }> = [];
  private pagesInSegment = 0;
  private skips: CrawlState['skips'] = [];
  private outOfScope = 0;
  /** Docs produced, archived pages read back on resume included. */
  private docs = 0;
  /** An unexpected error inside a fetch task; rethrown by the loop. */
  private fatal: Error | undefined;
  private wake: () => void = () => {};

  constructor(
    private readonly o: Options,
    private readonly seeds: string[],
    private readonly configHash: string,
    private readonly ctx: TaskContext,
  ) {
    this.fetcher = new Fetcher({ userAgent: o.userAgent, timeoutMs: o.timeoutMs, maxBodyBytes: o.maxBodyBytes, allowPrivateNetworks: o.allowPrivateNetworks });
    this.scope = new Scope(seeds, o.scope, o.allow, o.deny);
    this.docOpts = { mimeTypes: o.mimeTypes.map((m) => m.toLowerCase()), maxBytes: Math.max(o.maxBodyBytes * 8, 64 << 20) };
    this.stateUri = ctx.storage.join(ctx.stateDir, 'crawl-state.json');
  }

  private push(doc: Doc): void {
    this.out.push(doc);
    this.docs++;
  }

  /** Records why entry `e` did not become a doc; adds its depth and the redirects that led to it. */
  private skipEntry(e: Entry, reason: string, details: Record<string, Json> = {}): void {
    this.skip(e.url, reason, { ...details, depth: e.depth, ...(e.chain.length ? { chain: e.chain } : {}) });
  }

  private skip(url: string, reason: string, details: Record<string, Json> = {}): void {
    this.skips.push({ input: url, reason, details });
    this.ctx.audit.skip(url, reason, details);
  }

  private host(h: string, url?: string): HostState {
    let s = this.hosts.get(h);
    if (!s) {
      s = { origin: url ? new URL(url).origin : `http://${h}`, active: 0, nextAt: 0, delayMs: this.o.minDelayMs, robots: this.o.respectRobots ? undefined : { kind: 'allow-all', why: 'robots ignored', isAllowed: () => true, crawlDelay: undefined } };
      this.hosts.set(h, s);
    }
    return s;
  }

  async *run(): AsyncGenerator<Doc[]> {
    const warcDir = this.ctx.storage.join(this.ctx.stageDir, 'warc');
    const prefix = `crawl-${String(this.ctx.index).padStart(5, '0')}`;
    const state = await loadState(this.ctx.storage, this.stateUri);
    if (state && state.configHash !== this.configHash) {
      throw new Error(`crawl: state in ${this.stateUri} belongs to a crawl with another configuration; remove ${this.ctx.stateDir} to start over`);
    }
    this.writer = new WarcWriter(this.ctx.storage, {
      dir: warcDir,
      prefix,
      firstSegment: state?.nextSegment ?? 0,
      info: {
        software: 'Sluice crawl (undici)',
        format: 'WARC File Format 1.1',
        conformsTo: 'https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/',
        'http-header-user-agent': this.o.userAgent,
        robots: this.o.respectRobots ? `obey (agent token ${agentToken(this.o.userAgent)})` : 'ignore',
      },
    });
    try {
      if (state) yield* this.resume(state);
      else for (const s of this.seeds) this.enqueue({ url: s, depth: 0, attempts: 0, notBefore: 0, chain: [] });
      yield* this.loop();
      // before the checkpoint: a rerun of a crawl that produced nothing fetches its seeds again
      if (this.docs === 0) throw new Error(this.nothingCrawled());
      await this.checkpoint();
      if (this.out.length) yield this.out.splice(0);
      this.ctx.log(`crawl: ${this.pages} URLs fetched, ${this.segments.length} WARC segments, ${this.skips.length} skipped, ${this.outOfScope} out-of-scope links ignored, ${this.frontier.size} left in the frontier${this.pages >= this.o.maxPages ? ' (maxPages reached)' : ''}`);
    } finally {
      this.abort.abort();
      await Promise.allSettled([...this.inflight.keys()]);
      await this.writer.abort(); // an uncommitted segment is not part of the crawl (its URLs are still queued)
      await this.fetcher.close();
    }
  }

  /** Restores the frontier, re-emits recorded skips and yields the archived pages again. */
  private async *resume(s: CrawlState): AsyncGenerator<Doc[]> {
    for (const u of s.seen) this.frontier.seen.add(u);
    for (const e of s.queue) this.enqueue(e, true);
    this.pages = s.pages;
    for (const k of s.skips) {
      this.skips.push(k);
      this.ctx.audit.skip(k.input, k.reason, k.details);
    }
    for (const seg of s.segments) {
      if (!(await this.ctx.storage.exists(seg.uri))) {
        this.ctx.log(`crawl: WARC segment ${seg.uri} is gone; its ${seg.entries.length} URLs are fetched again`);
        for (const e of seg.entries) this.enqueue({ url: e.url, depth: e.depth, attempts: 0, notBefore: 0, chain: [] }, true);
        continue;
      }
      this.segments.push(seg);
      const reader = new SegmentReader(gzSegments(await openInput(seg.uri, this.ctx.storage, this.ctx.signal))[Symbol.asyncIterator]());
      for await (const ev of parseWarc(reader, { want: (f) => field(f, 'warc-type') === 'response' })) {
        if (ev.kind === 'skip') throw new Error(`crawl: archived segment ${seg.uri} is damaged: ${ev.skip.reason}`);
        if (field(ev.record.fields, 'warc-type') !== 'response' || !ev.record.block) continue;
        const doc = this.pageDoc(ev.record.fields, ev.record.block, seg.uri + ev.record.locator);
        if (doc) this.push(doc);
        if (this.out.length >= this.o.batchSize) yield this.out.splice(0);
      }
    }
    this.ctx.log(`crawl: resumed with ${this.frontier.size} queued, ${this.pages} fetched, ${this.segments.length} segments`);
  }

  /** The doc of an archived 2xx page response, or undefined (with the reason, when `onSkip`). */
  private pageDoc(fields: Fields, block: Buffer, source: string, onSkip?: (reason: string, details: Record<string, Json>) => void): Doc | undefined {
    const url = field(fields, 'warc-target-uri') ?? '';
    if (isRobotsUrl(url)) return undefined;
    const built = docFromRecord(fields, block, source, this.docOpts);
    if (built.kind === 'skip') {
      onSkip?.(built.reason, built.details);
      return undefined;
    }
    const status = built.doc.meta.httpStatus as number | undefined;
    if (status === undefined || status < 200 || status >= 300) return undefined;
    return built.doc;
  }

  /** Adds an entry to the frontier (`force`: even if seen, for retries and restores). */
  private enqueue(e: Entry, force = false): boolean {
    this.host(hostOf(e.url), e.url);
    if (force) {
      this.frontier.push(e);
      return true;
    }
    return this.frontier.add(e);
  }

  private hostReady(h: string, now: number): boolean {
    const s = this.host(h);
    return s.robots !== undefined && s.robots !== 'loading' && s.active < this.o.perHostConcurrency && s.nextAt <= now;
  }

  private start(entry: Entry | undefined, task: () => Promise<Result>): void {
    const p: Promise<void> = task()
      .then((r) => void this.results.push(r))
      .catch((e: unknown) => void (this.fatal ??= e as Error))
      .finally(() => {
        this.inflight.delete(p);
        this.wake();
      });
    this.inflight.set(p, entry);
  }

  private async *loop(): AsyncGenerator<Doc[]> {
    for (;;) {
      if (this.ctx.signal.aborted) throw new Error('crawl: aborted');
      if (this.fatal) throw this.fatal;
      while (this.results.length) await this.handle(this.results.shift()!);
      if (this.pagesInSegment >= this.o.checkpointEvery || this.writer.openBytes >= this.o.maxSegmentBytes) await this.checkpoint();
      if (this.out.length >= this.o.batchSize) {
        yield this.out.splice(0, this.o.batchSize);
        continue;
      }
      const now = Date.now();
      let started = false;
      // robots.txt first, one per host, counted against the host's politeness
      if (this.o.respectRobots) {
        for (const h of this.frontier.hosts()) {
          const s = this.host(h);
          if (s.robots !== undefined || s.active > 0 || s.nextAt > now || this.inflight.size >= this.o.concurrency) continue;
          s.robots = 'loading';
          s.active++;
          s.nextAt = now + this.o.minDelayMs;
          const origin = s.origin;
          started = true;
          this.start(undefined, async () => {
            const rules = await loadRobots(origin, this.fetcher, this.o.userAgent, async (x) => void this.results.push({ kind: 'archive', exchange: x }), this.abort.signal);
            return { kind: 'robots', host: h, rules };
          });
        }
      }
      while (this.inflight.size < this.o.concurrency) {
        // past the page budget only retries of URLs already started may go
        const budget = this.pages < this.o.maxPages;
        const e = this.frontier.take(Date.now(), (h) => this.hostReady(h, Date.now()), budget ? undefined : (x) => x.attempts > 0);
        if (!e) break;
        const s = this.host(hostOf(e.url));
        const robots = s.robots as RobotsRules;
        if (!robots.isAllowed(e.url)) {
          this.robotsSkip(e, robots);
          continue;
        }
        if (e.attempts === 0) this.pages++;
        s.active++;
        s.nextAt = Date.now() + s.delayMs;
        started = true;
        this.start(e, async () => {
          try {
            return { kind: 'page', entry: e, exchange: await this.fetcher.get(e.url, this.abort.signal) };
          } catch (err) {
            if (err instanceof FetchError) return { kind: 'failed', entry: e, error: err };
            throw err;
          } finally {
            // the delay also runs from the end of the request, so a slow server is not hurried
            s.nextAt = Math.max(s.nextAt, Date.now() + s.delayMs);
          }
        });
      }
      if (started || this.results.length) continue;
      if (this.inflight.size === 0) {
        const waiting = this.pages < this.o.maxPages ? this.frontier.size > 0 : this.frontier.entries().some((x) => x.attempts > 0);
        if (!waiting) return;
      }
      await this.sleep();
    }
  }

  /** Waits for a fetch to finish or the next host/entry to become due (at most 1 s). */
  private async sleep(): Promise<void> {
    const now = Date.now();
    const due = this.frontier.earliest() ?? now;
    let t = now + 1000;
    for (const h of this.frontier.hosts()) {
      const s = this.host(h);
      if (s.robots === 'loading' || s.active >= this.o.perHostConcurrency) continue;
      // never later than the host can really go: its politeness time and the earliest due entry
      t = Math.min(t, Math.max(s.nextAt, due));
    }
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((res) => {
      this.wake = res;
      timer = setTimeout(res, Math.max(1, t - now));
    });
    clearTimeout(timer);
    this.wake = () => {};
  }

  private async archive(x: Exchange) {
    return this.writer.writeExchange(x);
  }

  private async handle(r: Result): Promise<void> {
    switch (r.kind) {
      case 'archive':
        await this.archive(r.exchange);
        return;
      case 'robots': {
        const s = this.host(r.host);
        s.active--;
        s.robots = r.rules;
        if (r.rules.crawlDelay !== undefined) s.delayMs = Math.max(this.o.minDelayMs, Math.min(r.rules.crawlDelay * 1000, this.o.maxCrawlDelayMs));
        s.nextAt = Math.max(s.nextAt, Date.now() + s.delayMs); // robots.txt was a request too
        return;
      }
      case 'failed': {
        const { entry: e, error } = r;
        this.host(hostOf(e.url)).active--;
        const details: Record<string, Json> = { ...error.details, message: error.message, attempts: e.attempts + 1 };
        switch (error.kind) {
          case 'blocked-address':
            this.skipEntry(e, SSRF_BLOCKED, details);
            return;
          case 'too-large':
            this.skipEntry(e, 'body over maxBodyBytes', details);
            return;
          case 'timeout':
          case 'network':
            if (this.retry(e, undefined)) return;
            this.skipEntry(e, error.kind === 'timeout' ? 'timeout' : 'network error', details);
            return;
          default: {
            const never: never = error.kind;
            throw new Error(`unknown fetch failure ${String(never)}`);
          }
        }
      }
      case 'page':
        await this.page(r.entry, r.exchange);
        return;
      default: {
        const never: never = r;
        throw new Error(`unknown result ${JSON.stringify(never)}`);
      }
    }
  }

  /** Records why robots.txt keeps `e` from being fetched (or the SSRF guard, when it refused the site). */
  private robotsSkip(e: Entry, robots: RobotsRules): void {
    switch (robots.kind) {
      case 'blocked-address':
        return this.skipEntry(e, SSRF_BLOCKED, { ...robots.details, message: robots.why });
      case 'disallow-all':
        return this.skipEntry(e, 'robots: site unreachable, disallow all', { why: robots.why });
      case 'rules':
      case 'allow-all':
        return this.skipEntry(e, 'robots: disallowed', { why: robots.why });
      default: {
        const never: never = robots.kind;
        throw new Error(`unknown robots outcome ${String(never)}`);
      }
    }
  }

  /**
   * The error of a crawl that ended without a single doc: every seed was refused or failed. It
   * lists what happened to each URL tried (at most 20) and how to lift an SSRF refusal.
   */
  private nothingCrawled(): string {
    const shown = this.skips.slice(0, 20).map((k) => {
      const d = k.details ?? {};
      const chain = Array.isArray(d.chain) && d.chain.length ? String(d.chain[0]) : typeof d.from === 'string' ? d.from : undefined;
      const why = typeof d.message === 'string' ? d.message : typeof d.why === 'string' ? d.why : typeof d.status === 'number' ? `HTTP ${d.status}` : '';
      return `\n  ${k.input}${chain ? ` (redirected from ${chain})` : ''}: ${k.reason}${why ? ` — ${why}` : ''}`;
    });
    const more = this.skips.length > shown.length ? `\n  … and ${this.skips.length - shown.length} more (all are in the stage's audit)` : '';
    const left = this.frontier.size ? `\n  ${this.frontier.size} URLs were not fetched (maxPages ${this.o.maxPages} reached)` : '';
    const hint = this.skips.some((k) => k.reason === SSRF_BLOCKED) ? `\nThe SSRF guard refuses private, loopback, link-local and reserved addresses; allowPrivateNetworks (true, or a list of CIDR ranges) allows them.` : '';
    const n = this.seeds.length;
    return `crawl: no page became a doc; ${n === 1 ? 'the seed was' : `all ${n} seeds were`} refused or failed:${shown.join('')}${more}${left}${hint}`;
  }

  /** Re-queues a retryable failure; false when out of retries. */
  private retry(e: Entry, x: Exchange | undefined): boolean {
    if (e.attempts >= this.o.retries) return false;
    const after = x ? retryAfterMs(x) : undefined;
    const delay = after !== undefined ? Math.min(after, this.o.maxRetryAfterMs) : this.o.backoffMs * 2 ** e.attempts;
    const now = Date.now();
    if (x && (x.status === 429 || x.status === 503) && after !== undefined) {
      const s = this.host(hostOf(e.url));
      s.nextAt = Math.max(s.nextAt, now + delay); // the whole host was asked to slow down
    }
    this.enqueue({ ...e, attempts: e.attempts + 1, notBefore: now + delay }, true);
    return true;
  }

  private async page(e: Entry, x: Exchange): Promise<void> {
    this.host(hostOf(e.url)).active--;
    const written = await this.archive(x);
    this.ctx.progress.add(0, x.body.length);
    const status = x.status;
    if (status === 429 || status >= 500) {
      if (this.retry(e, x)) return;
      this.final(e);
      this.skipEntry(e, 'http status', { status, attempts: e.attempts + 1 });
      return;
    }
    this.final(e);
    if (status >= 300 && status < 400) {
      const loc = x.headers.find(([k]) => k === 'location')?.[1];
      const target = loc ? normalizeUrl(loc, e.url) : undefined;
      const chain = [...e.chain, e.url];
      if (!target) return this.skipEntry(e, 'http status', { status, location: loc ?? null });
      if (target === e.url || e.chain.includes(target)) return this.skip(target, 'redirect loop', { chain });
      if (chain.length > this.o.maxRedirects) return this.skip(target, 'too many redirects', { chain, maxRedirects: this.o.maxRedirects });
      const why = this.scope.reject(target);
      if (why) return this.skip(target, 'redirect out of scope', { from: e.url, why });
      this.enqueue({ url: target, depth: e.depth, attempts: 0, notBefore: 0, chain });
      return;
    }
    if (status < 200 || status >= 300) {
      this.skipEntry(e, 'http status', { status });
      return;
    }
    const fields: Fields = new Map();
    for (const [k, v] of written.fields) {
      const key = k.toLowerCase();
      fields.set(key, [...(fields.get(key) ?? []), v]);
    }
    const doc = this.pageDoc(fields, written.block, `${written.at.uri}#${written.at.offset}`, (reason, details) => this.skipEntry(e, reason, details));
    if (!doc) return;
    this.push(doc);
    this.ctx.progress.add(1, 0);
    if (e.depth >= this.o.maxDepth) return;
    const ct = String(doc.meta.contentType ?? '');
    if (!ct.includes('html')) return;
    for (const link of extractLinks(doc.text, e.url, { followNofollow: this.o.followNofollow }).links) {
      if (this.frontier.seen.has(link)) continue;
      if (this.scope.reject(link)) {
        this.outOfScope++;
        continue;
      }
      this.enqueue({ url: link, depth: e.depth + 1, attempts: 0, notBefore: 0, chain: [] });
    }
  }

  /** An entry reached its final outcome with a record in the open segment. */
  private final(e: Entry): void {
    this.segEntries.push({ url: e.url, depth: e.depth });
    this.pagesInSegment++;
  }

  /** Commits the open WARC segment, then saves the state that matches it. */
  private async checkpoint(): Promise<void> {
    const uri = await this.writer.commit();
    if (uri) this.segments.push({ uri, entries: this.segEntries });
    this.segEntries = [];
    this.pagesInSegment = 0;
    // entries in flight are not archived yet: saved as queued (already counted in the budget)
    const inflight = [...this.inflight.values()].filter((e): e is Entry => !!e).map((e) => ({ ...e, attempts: Math.max(e.attempts, 1) }));
    await saveState(this.ctx.storage, this.stateUri, {
      format: 'sluice.crawl/1',
      configHash: this.configHash,
      queue: [...this.frontier.entries(), ...inflight],
      seen: [...this.frontier.seen],
      pages: this.pages,
      segments: this.segments,
      nextSegment: this.writer.nextSegment,
      skips: this.skips,
    });
  }
}

/**
 * `crawl(options)`: a Source that crawls from `seeds` and yields the fetched HTML pages as docs,
 * archiving every exchange as WARC 1.1 (request + response records with payload digests) under
 * `<stageDir>/warc/`. See CrawlOptions for the politeness, scope, safety and resume knobs.
 */
export function crawl(options: CrawlOptions): Source {
  const o = parseConfig('crawl', schema, options);
  const seeds = o.seeds.map((s) => {
    const n = normalizeUrl(s);
    if (!n) throw new ConfigError('crawl', 'seeds', `not an http(s) URL: ${JSON.stringify(s)}`);
    return n;
  });
  try {
    addressPolicy(o.allowPrivateNetworks);
  } catch (e) {
    throw new ConfigError('crawl', 'allowPrivateNetworks', (e as Error).message);
  }
  for (const key of ['allow', 'deny'] as const) {
    for (const p of o[key]) {
      try {
        new RegExp(p);
      } catch (e) {
        throw new ConfigError('crawl', key, `invalid regular expression ${JSON.stringify(p)}: ${(e as Error).message}`);
      }
    }
  }
  const { name, batchSize, ...rest } = o;
  const config = toJson({ ...rest, seeds });
  const configHash = createHash('sha256').update(JSON.stringify(config)).digest('hex');
  return {
    kind: 'source',
    type: 'crawl',
    name: name ?? 'crawl',
    version: '1',
    config,
    async plan(): Promise<SourcePart[]> {
      return [{ key: `crawl:${configHash}`, uri: seeds[0]! }];
    },
    read(_part: SourcePart, ctx: TaskContext): AsyncIterable<Doc[]> {
      return new CrawlRun({ ...o, batchSize }, seeds, configHash, ctx).run();
    },
  };
}
