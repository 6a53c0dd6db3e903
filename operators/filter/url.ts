/**
 * `filter.url`: drops documents by their `meta.url`: domain blocklists (a listed domain blocks
 * its subdomains too), exact-URL blocklists, and banned words among the URL's tokens or banned
 * sub-words anywhere in it. Lists come inline or from user-supplied files (one entry a line,
 * `#` comments; local paths relative to the pipeline file, or `s3://` URIs).
 */
import { z } from 'zod';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { defineFilter, parseConfig, registerOperator } from '../../engine/operator.ts';
import type { Doc, Json, Operator, TaskContext } from '../../engine/types.ts';
import { CommonOptions, verdictFromRules } from './common.ts';
import { registerRules, type ThresholdRule } from './rules.ts';
import { hasScheme } from '../../engine/storage/index.ts';

const Options = z
  .object({
    ...CommonOptions,
    domains: z.array(z.string()).default([]),
    domainsFile: z.string().nullable().default(null),
    urls: z.array(z.string()).default([]),
    urlsFile: z.string().nullable().default(null),
    /** Whole tokens of the URL (split at non-alphanumerics) that block it. */
    bannedWords: z.array(z.string()).default([]),
    bannedWordsFile: z.string().nullable().default(null),
    /** Banned tokens tolerated per URL (default 0: any one blocks). */
    maxBannedWords: z.number().int().min(0).nullable().default(0),
    /** Strings blocked anywhere in the URL once separators are removed (`sexcam` in `sex-cam.io`). */
    bannedSubwords: z.array(z.string()).default([]),
    /** Docs without `meta.url`: keep (default) or drop (`url.missing`). */
    missingUrl: z.enum(['keep', 'drop']).default('keep'),
  })
  .strict();

/** Options of `filter.url`. */
export type UrlOptions = z.input<typeof Options>;

/** Parses a list file: one entry a line, blank lines and `#` comments ignored, lower-cased. */
export function parseList(text: string): string[] {
  const out: string[] = [];
  for (const l of text.split(/\r?\n/)) {
    const t = l.replace(/#.*/, '').trim().toLowerCase();
    if (t) out.push(t);
  }
  return out;
}

/** `scheme://Host:port/path?q` → `host:port/path?q` with the host lower-cased and no trailing slash. */
export function normalizeUrl(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)(.*)$/i.exec(url.trim());
  const rest = m ? m[1]!.toLowerCase().replace(/^www\./, '') + m[2]! : url.trim().toLowerCase();
  return rest.replace(/#.*$/, '').replace(/\/+$/, '');
}

/** The lower-cased host of a URL without `www.` and port, or '' when it has none. */
export function hostOf(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^/:?#]*)/i.exec(url.trim());
  return (m?.[1] ?? '').toLowerCase().replace(/^www\./, '').replace(/\.$/, '');
}

/**
 * Fingerprint material for local list files: their sha256, so editing a blocklist re-runs the
 * stage. (Remote lists are identified by their URI only.)
 */
function listDigests(files: Array<string | null>): string | undefined {
  const parts: string[] = [];
  for (const f of files) {
    if (!f || hasScheme(f)) continue;
    const p = resolve(f);
    if (existsSync(p)) parts.push(`${f}=${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
  }
  return parts.length ? parts.join('\n') : undefined;
}

/** The rules of a url config. */
export function urlRules(config: Json): ThresholdRule[] {
  const c = config as Record<string, unknown>;
  return [
    { config: 'missingUrl', score: 'missingUrl', bound: 'max', reason: 'url.missing', threshold: c.missingUrl === 'drop' ? 0 : null, fixed: true },
    { config: 'domains', score: 'blockedDomain', bound: 'max', reason: 'url.domain', threshold: 0, fixed: true },
    { config: 'urls', score: 'blockedUrl', bound: 'max', reason: 'url.url', threshold: 0, fixed: true },
    { config: 'maxBannedWords', score: 'bannedWords', bound: 'max', reason: 'url.bannedWord', threshold: typeof c.maxBannedWords === 'number' ? c.maxBannedWords : null },
    { config: 'bannedSubwords', score: 'bannedSubwords', bound: 'max', reason: 'url.bannedSubword', threshold: 0, fixed: true },
  ];
}
registerRules('filter.url', urlRules);

async function readListFile(file: string, ctx: TaskContext): Promise<string[]> {
  const uri = hasScheme(file) || isAbsolute(file) ? file : ctx.storage.join(ctx.baseDir, file);
  let text: string;
  try {
    text = await ctx.storage.readText(uri);
  } catch (e) {
    throw new Error(`filter.url: cannot read list file ${uri}: ${(e as Error).message}`);
  }
  return parseList(text);
}

/**
 * URL filter. Reasons `url.domain`, `url.url`, `url.bannedWord`, `url.bannedSubword`,
 * `url.missing`; scores `blockedDomain`, `blockedUrl` (1/0), `bannedWords`, `bannedSubwords`
 * (counts). Defaults: empty lists, any banned word blocks, docs without a URL kept.
 */
export function url(options: UrlOptions = {}): Operator {
  const o = parseConfig('filter.url', Options, options);
  const { mode, name, ...config } = o;
  const rules = urlRules(config as Json);
  let domains = new Set<string>();
  let urls = new Set<string>();
  let banned = new Set<string>();
  const subwords = o.bannedSubwords.map((s) => s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '')).filter(Boolean);
  const test = (doc: Doc) => {
    const u = typeof doc.meta.url === 'string' ? doc.meta.url : '';
    if (!u) return verdictFromRules(rules, { missingUrl: 1, blockedDomain: 0, blockedUrl: 0, bannedWords: 0, bannedSubwords: 0 });
    const host = hostOf(u);
    let blockedDomain = 0;
    for (let h = host; h; ) {
      if (domains.has(h)) {
        blockedDomain = 1;
        break;
      }
      const dot = h.indexOf('.');
      h = dot < 0 ? '' : h.slice(dot + 1);
    }
    const lower = u.toLowerCase();
    let words = 0;
    if (banned.size) for (const t of lower.split(/[^\p{L}\p{N}]+/u)) if (t && banned.has(t)) words++;
    const squashed = lower.replace(/[^\p{L}\p{N}]/gu, '');
    let subs = 0;
    for (const s of subwords) if (squashed.includes(s)) subs++;
    return verdictFromRules(rules, { missingUrl: 0, blockedDomain, blockedUrl: urls.has(normalizeUrl(u)) ? 1 : 0, bannedWords: words, bannedSubwords: subs });
  };
  return defineFilter({
    type: 'filter.url',
    name: name ?? 'url',
    version: '1',
    // The mode is part of the config: switching drop ↔ annotate changes the output, hence the fingerprint.
    config: { mode, ...config } as Json,
    code: listDigests([o.domainsFile, o.urlsFile, o.bannedWordsFile]),
    mode,
    async setup(ctx) {
      const d = [...o.domains.map((x) => x.toLowerCase()), ...(o.domainsFile ? await readListFile(o.domainsFile, ctx) : [])];
      domains = new Set(d.map((x) => x.replace(/^\*?\./, '').replace(/^www\./, '')));
      urls = new Set([...o.urls, ...(o.urlsFile ? await readListFile(o.urlsFile, ctx) : [])].map(normalizeUrl));
      banned = new Set([...o.bannedWords.map((x) => x.toLowerCase()), ...(o.bannedWordsFile ? await readListFile(o.bannedWordsFile, ctx) : [])]);
    },
    test,
  });
}

registerOperator('filter.url', 'URL blocklists (domains, URLs) and banned words in the URL', (c) => url((c ?? {}) as UrlOptions));
