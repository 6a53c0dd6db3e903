/**
 * URL normalisation (the de-duplication key of the frontier) and crawl scope: same host, same
 * domain or any, narrowed by allow and deny regular expressions.
 */

/**
 * Normalises an absolute or relative URL against `base`: WHATWG parsing (lower-cased scheme and
 * host, default port removed, dot segments resolved, percent-encoding made canonical), fragment
 * dropped, an empty `?` dropped. Returns undefined for anything but http(s), or unparsable input.
 */
export function normalizeUrl(href: string, base?: string): string | undefined {
  let u: URL;
  try {
    u = new URL(href.trim(), base);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  if (!u.hostname) return undefined;
  u.hash = '';
  if (u.search === '') u.search = '';
  u.username = '';
  u.password = '';
  if (u.hostname.endsWith('.')) u.hostname = u.hostname.slice(0, -1);
  return u.href;
}

/** Which URLs a crawl may visit relative to its seeds. */
export type ScopeKind = 'host' | 'domain' | 'any';

/** The crawl scope: seeds' hosts (or domains), then allow patterns (any must match, if given), then deny patterns (none may match). */
export class Scope {
  private readonly hosts: Set<string>;
  private readonly domains: string[];
  private readonly allow: RegExp[];
  private readonly deny: RegExp[];

  constructor(
    seeds: string[],
    private readonly kind: ScopeKind,
    allow: string[],
    deny: string[],
  ) {
    this.hosts = new Set(seeds.map((s) => new URL(s).hostname));
    this.domains = [...this.hosts].map((h) => h.replace(/^www\./, ''));
    this.allow = allow.map((p) => new RegExp(p));
    this.deny = deny.map((p) => new RegExp(p));
  }

  /** Why `url` is out of scope, or undefined when it is in scope. */
  reject(url: string): string | undefined {
    const host = new URL(url).hostname;
    switch (this.kind) {
      case 'host':
        if (!this.hosts.has(host)) return 'out of scope: other host';
        break;
      case 'domain':
        if (!this.domains.some((d) => host === d || host.endsWith('.' + d))) return 'out of scope: other domain';
        break;
      case 'any':
        break;
      default: {
        const never: never = this.kind;
        throw new Error(`unknown scope ${String(never)}`);
      }
    }
    if (this.allow.length && !this.allow.some((r) => r.test(url))) return 'out of scope: no allow pattern matches';
    if (this.deny.some((r) => r.test(url))) return 'out of scope: a deny pattern matches';
    return undefined;
  }
}
