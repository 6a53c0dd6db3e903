/**
 * Link extraction from HTML with htmlparser2: `<a href>`, `<area href>`, `<frame src>`,
 * `<iframe src>`, resolved against the first `<base href>` (or the page URL). `rel=nofollow`
 * links are left out unless asked for, and `<meta name=robots content=nofollow>` stops extraction.
 */
import { lazyPackage } from '../../engine/modules/lazy.ts';

const htmlparser2 = lazyPackage<typeof import('htmlparser2')>('htmlparser2');
import { normalizeUrl } from './url.ts';

export interface Links {
  /** Normalised absolute http(s) URLs, de-duplicated, in document order. */
  links: string[];
  /** True when the page asked robots not to follow its links. */
  nofollowPage: boolean;
}

/** Extracts the links of an HTML page at `pageUrl`. */
export function extractLinks(html: string, pageUrl: string, opts: { followNofollow?: boolean } = {}): Links {
  let base = pageUrl;
  let baseSeen = false;
  const raw: string[] = [];
  let nofollowPage = false;
  const parser = new (htmlparser2().Parser)(
    {
      onopentag(name, attrs) {
        switch (name) {
          case 'base':
            if (!baseSeen && attrs.href) {
              baseSeen = true;
              const b = normalizeUrl(attrs.href, pageUrl);
              if (b) base = b;
            }
            break;
          case 'a':
          case 'area':
            if (attrs.href && (opts.followNofollow || !/(^|\s)nofollow(\s|$)/i.test(attrs.rel ?? ''))) raw.push(attrs.href);
            break;
          case 'frame':
          case 'iframe':
            if (attrs.src) raw.push(attrs.src);
            break;
          case 'meta':
            if ((attrs.name ?? '').toLowerCase() === 'robots' && /nofollow|none/i.test(attrs.content ?? '')) nofollowPage = true;
            break;
          default:
            break;
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  if (nofollowPage && !opts.followNofollow) return { links: [], nofollowPage };
  const seen = new Set<string>();
  const links: string[] = [];
  for (const h of raw) {
    const u = normalizeUrl(h, base);
    if (u && !seen.has(u)) {
      seen.add(u);
      links.push(u);
    }
  }
  return { links, nofollowPage };
}
