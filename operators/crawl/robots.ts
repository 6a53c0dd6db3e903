/**
 * robots.txt per origin, parsed with `robots-parser` (maintained, RFC 9309 matching incl.
 * wildcards and Allow/Disallow precedence). Policy on fetch outcomes follows RFC 9309 §2.3.1:
 * 2xx → the rules; 4xx → no rules (allow all); 5xx, network errors and timeouts → disallow all
 * (the site is "unreachable"). Redirects are followed up to 5 hops within the same fetcher (so the
 * SSRF guard applies to each). When the SSRF guard refuses the origin itself, the outcome is
 * `blocked-address`: the site's pages are refused for that reason, not for robots.txt.
 */
import { createRequire } from 'node:module';
import { decodeContent } from '../read/warc/http.ts';
import type { Exchange, Fetcher } from './fetcher.ts';
import { FetchError } from './fetcher.ts';

/** The decision material for one origin. */
export interface RobotsRules {
  /** 'rules' (parsed), 'allow-all' (4xx), 'disallow-all' (unreachable), 'blocked-address' (the SSRF guard refused the origin). */
  kind: 'rules' | 'allow-all' | 'disallow-all' | 'blocked-address';
  /** Why (for the audit), e.g. `HTTP 404` or `timeout`; the guard's message for `blocked-address`. */
  why: string;
  /** The guard's details (address, range) for `blocked-address`. */
  details?: Record<string, string | number>;
  isAllowed(url: string): boolean;
  /** Crawl-delay in seconds for our agent, if any. */
  crawlDelay: number | undefined;
}

interface ParsedRobots {
  isAllowed(url: string, ua?: string): boolean | undefined;
  getCrawlDelay(ua?: string): number | undefined;
}
/**
 * The package is CommonJS (`module.exports = fn`) but its typings declare an ES default export,
 * which under NodeNext types the default import as the module object; `require` gives the
 * function itself, typed here by what we call.
 */
const robotsParser: (url: string, contents: string) => ParsedRobots = createRequire(import.meta.url)('robots-parser');

/** robots.txt files are capped at 500 KiB (RFC 9309 asks crawlers to parse at least 500 KiB). */
const MAX_ROBOTS = 500 << 10;

/** The product token robots.txt groups are matched against: `SluiceBot/0.1 (+…)` → `SluiceBot`. */
export function agentToken(userAgent: string): string {
  return userAgent.split(/[\s/;(]/)[0] || userAgent;
}

/**
 * Fetches and parses `origin`'s robots.txt. `onExchange` sees every HTTP exchange made (so the
 * crawler can archive it).
 */
export async function loadRobots(origin: string, fetcher: Fetcher, userAgent: string, onExchange: (x: Exchange) => Promise<void>, signal?: AbortSignal): Promise<RobotsRules> {
  const token = agentToken(userAgent);
  let url = `${origin}/robots.txt`;
  for (let hop = 0; hop <= 5; hop++) {
    let x: Exchange;
    try {
      x = await fetcher.get(url, signal, MAX_ROBOTS);
    } catch (e) {
      if (e instanceof FetchError && e.kind === 'too-large') {
        // RFC 9309: parse what fits; we drop the file rather than guess at a cut rule
        return disallow(`robots.txt over ${MAX_ROBOTS} bytes`);
      }
      if (e instanceof FetchError && e.kind === 'blocked-address' && hop === 0) {
        return { kind: 'blocked-address', why: e.message, details: e.details, isAllowed: () => false, crawlDelay: undefined };
      }
      return disallow(e instanceof FetchError ? e.kind : 'network');
    }
    await onExchange(x);
    if (x.status >= 300 && x.status < 400) {
      const loc = x.headers.find(([k]) => k === 'location')?.[1];
      if (!loc) return allowAll(`HTTP ${x.status} without Location`);
      url = new URL(loc, url).href;
      continue;
    }
    if (x.status >= 200 && x.status < 300) {
      const text = decodeBody(x);
      const r = robotsParser(url, text);
      return {
        kind: 'rules',
        why: `HTTP ${x.status}`,
        isAllowed: (u: string) => r.isAllowed(u, token) !== false,
        crawlDelay: r.getCrawlDelay(token),
      };
    }
    if (x.status >= 400 && x.status < 500) return allowAll(`HTTP ${x.status}`);
    return disallow(`HTTP ${x.status}`);
  }
  return allowAll('too many redirects');
}

function decodeBody(x: Exchange): string {
  const enc = x.headers.find(([k]) => k === 'content-encoding')?.[1];
  try {
    return decodeContent(x.body, enc, MAX_ROBOTS * 4).toString('utf8');
  } catch {
    return '';
  }
}

function allowAll(why: string): RobotsRules {
  return { kind: 'allow-all', why, isAllowed: () => true, crawlDelay: undefined };
}
function disallow(why: string): RobotsRules {
  return { kind: 'disallow-all', why, isAllowed: () => false, crawlDelay: undefined };
}
