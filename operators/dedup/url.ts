/**
 * `dedup.url`: one document per normalised URL. Normalisation: scheme dropped (http and https
 * are the same page), host lowercased without `www.` and default port, fragment removed,
 * trailing slash removed, tracking parameters (`utm_*`, `fbclid`, `gclid`, …) removed and the
 * remaining query parameters sorted. Keeps the latest crawl (`meta[dateKey]`, any
 * `Date.parse`-able string or epoch ms), the longest text, or the first in input order.
 */
import { z } from 'zod';
import { parseConfig } from '../../engine/operator.ts';
import type { Doc, StageExpansion } from '../../engine/types.ts';
import { hash128 } from './exact.ts';
import { descending, hashGroups, type GroupKey } from './hash-groups.ts';
import { toJson } from '../../engine/json.ts';

const urlSchema = z
  .object({
    keep: z.enum(['latest', 'longest', 'first']).default('latest'),
    /** Dotted `meta` path of the crawl date for `keep: 'latest'`. */
    dateKey: z.string().min(1).default('crawlDate'),
    partitions: z.number().int().min(1).max(4096).default(4),
    bufferMB: z.number().min(0.001).max(4096).default(64),
    fanIn: z.number().int().min(2).max(4096).default(64),
    name: z.string().min(1).optional(),
  })
  .strict();

export type UrlOptions = z.input<typeof urlSchema>;

const TRACKING = /^(utm_.*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|yclid|igshid)$/i;

/** The normalised form of a URL (see the module comment); an unparsable URL is trimmed and lowercased. */
export function normalizeUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return raw.trim().toLowerCase();
  }
  const host = u.hostname.toLowerCase().replace(/^www\./, '');
  const defaultPort = (u.protocol === 'http:' && u.port === '80') || (u.protocol === 'https:' && u.port === '443') || u.port === '';
  const params = [...u.searchParams.entries()].filter(([k]) => !TRACKING.test(k)).sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const query = params.length ? '?' + new URLSearchParams(params).toString() : '';
  let path = u.pathname;
  if (path.length > 1 && path.endsWith('/')) path = path.replace(/\/+$/, '');
  if (path === '/') path = '';
  return `${host}${defaultPort ? '' : ':' + u.port}${path}${query}`;
}

/** Milliseconds of a date value (ISO/WARC-Date string or epoch ms), NaN when absent or invalid. */
function dateMs(meta: Record<string, unknown>, key: string): number {
  let v: unknown = meta;
  for (const k of key.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Date.parse(v);
  return NaN;
}

/**
 * URL dedup across the whole input. Options: `keep` (`latest` by `meta[dateKey]` (default
 * `crawlDate`), `longest`, or `first`; ties and undated docs fall back to input order, dated docs
 * win over undated), `partitions` (default 4), `bufferMB` (default 64). Docs without
 * `meta.url` are kept. Drops are `dedup.duplicateUrl` with `{ group, keptId, keptUrl }`.
 */
export function url(options: UrlOptions = {}): StageExpansion {
  const cfg = parseConfig('dedup.url', urlSchema, options);
  return hashGroups({
    type: 'dedup.url',
    name: cfg.name ?? 'dedup.url',
    version: '1',
    config: toJson(cfg),
    reason: 'dedup.duplicateUrl',
    partitions: cfg.partitions,
    bufferMB: cfg.bufferMB,
    fanIn: cfg.fanIn,
    keyOf(doc: Doc): GroupKey | null {
      const u = doc.meta?.url;
      if (typeof u !== 'string' || !u.trim()) return null;
      const hash = hash128(normalizeUrl(u));
      switch (cfg.keep) {
        case 'first':
          return { hash, rank: [0, 0] };
        case 'longest':
          return { hash, rank: descending(Buffer.byteLength(doc.text ?? '', 'utf8')) };
        case 'latest':
          return { hash, rank: descending(dateMs(doc.meta as Record<string, unknown>, cfg.dateKey)) };
        default: {
          const never: never = cfg.keep;
          throw new Error(`dedup.url: unknown keep rule ${String(never)}`);
        }
      }
    },
  });
}
