/**
 * The options of `crawl()`: the zod schema (defaults, validation with the key named in errors)
 * and the documented interface users write against.
 */
import { z } from 'zod';
import { HTML_TYPES } from '../read/warc/doc.ts';

/**
 * The default User-Agent: names the crawler and its purpose. Operators of a real crawl should
 * set their own with a contact URL or address (site owners look for one).
 */
export const DEFAULT_USER_AGENT = 'SluiceBot/0.1 (polite crawler collecting LLM training data; obeys robots.txt)';

/** Validates and defaults crawl options (errors name the key: `crawl: config key 'seeds': …`). */
export const schema = z
  .object({
    seeds: z.array(z.string().min(1)).min(1),
    scope: z.enum(['host', 'domain', 'any']).default('host'),
    allow: z.array(z.string()).default([]),
    deny: z.array(z.string()).default([]),
    maxPages: z.number().int().positive().default(1000),
    maxDepth: z.number().int().min(0).default(3),
    concurrency: z.number().int().positive().default(8),
    perHostConcurrency: z.number().int().positive().default(1),
    minDelayMs: z.number().min(0).default(1000),
    maxCrawlDelayMs: z.number().min(0).default(30_000),
    userAgent: z.string().min(1).default(DEFAULT_USER_AGENT),
    respectRobots: z.boolean().default(true),
    timeoutMs: z.number().int().positive().default(30_000),
    maxBodyBytes: z.number().int().positive().default(10 << 20),
    maxRedirects: z.number().int().min(0).default(5),
    retries: z.number().int().min(0).default(3),
    backoffMs: z.number().min(0).default(1000),
    maxRetryAfterMs: z.number().min(0).default(120_000),
    followNofollow: z.boolean().default(false),
    mimeTypes: z.array(z.string().min(1)).default([...HTML_TYPES]),
    allowPrivateNetworks: z.union([z.boolean(), z.array(z.string().min(1))]).default(false),
    checkpointEvery: z.number().int().positive().default(50),
    maxSegmentBytes: z.number().int().positive().default(256 << 20),
    batchSize: z.number().int().positive().default(256),
    name: z.string().min(1).optional(),
  })
  .strict();

/** Options of `crawl()`; every field but `seeds` has a default (shown). */
export interface CrawlOptions {
  /** Start URLs (http/https). */
  seeds: string[];
  /** `host` (default): the seeds' hosts only; `domain`: also their subdomains; `any`. */
  scope?: 'host' | 'domain' | 'any';
  /** Regexes; when given, a URL must match one to be crawled. */
  allow?: string[];
  /** Regexes; a URL matching one is not crawled. */
  deny?: string[];
  /** URLs fetched at most (redirect hops count; robots.txt and retries do not). Default 1000. */
  maxPages?: number;
  /** Link depth from the seeds (seeds are 0). Default 3. */
  maxDepth?: number;
  /** Requests in flight at once. Default 8. */
  concurrency?: number;
  /** Requests in flight per host. Default 1. */
  perHostConcurrency?: number;
  /** Minimum time between request starts on one host. Default 1000 ms. */
  minDelayMs?: number;
  /** Cap on a robots.txt Crawl-delay. Default 30 s. */
  maxCrawlDelayMs?: number;
  /** Sent with every request (default: DEFAULT_USER_AGENT; a real crawl should add a contact); its first token is matched against robots.txt groups. */
  userAgent?: string;
  /** Obey robots.txt (default true). */
  respectRobots?: boolean;
  /** Whole-request deadline. Default 30 s. */
  timeoutMs?: number;
  /** Bodies over this are abandoned and skipped. Default 10 MiB. */
  maxBodyBytes?: number;
  /** Redirect hops followed per URL. Default 5. */
  maxRedirects?: number;
  /** Retries on 429, 5xx, timeouts and network errors. Default 3. */
  retries?: number;
  /** First retry delay, doubled per retry (Retry-After wins when sent). Default 1000 ms. */
  backoffMs?: number;
  /** Cap on a Retry-After delay. Default 120 s. */
  maxRetryAfterMs?: number;
  /** Follow `rel=nofollow` links and pages with meta robots nofollow. Default false. */
  followNofollow?: boolean;
  /** MIME types that become docs. Default HTML. */
  mimeTypes?: string[];
  /**
   * Loopback/private/link-local/metadata addresses are refused by default (checked on the
   * resolved addresses, on every redirect hop). `true` allows them all; a list of CIDR ranges
   * allows just those (e.g. `['10.20.0.0/16']`).
   */
  allowPrivateNetworks?: boolean | string[];
  /** Pages per WARC segment; the state is saved at each segment commit. Default 50. */
  checkpointEvery?: number;
  /** A segment is also committed past this size. Default 256 MiB. */
  maxSegmentBytes?: number;
  /** Docs per yielded batch. Default 256. */
  batchSize?: number;
  name?: string;
}

/** Options with every default applied. */
export type Options = z.output<typeof schema>;
