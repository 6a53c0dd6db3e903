/**
 * Page metadata as users of trafilatura expect it: title, author, publication date, site name,
 * language and canonical URL, read from JSON-LD (schema.org), Open Graph / article:* properties,
 * plain `<meta name>` tags, `<link rel=canonical>`, `<html lang>` and `<title>`.
 *
 * Layout (one rule for every field): `meta.extract.<field> = { value, from }`, where `from` names
 * the source that gave the value: `json-ld:<property>` (e.g. `json-ld:headline`,
 * `json-ld:author.name`), `og:<property>` / `article:<property>` (Open Graph), `meta:<name>`
 * (`<meta name=…>` or `http-equiv`), `link:canonical`, `html:lang`, `title`. A field no source
 * gives is absent. Order of preference per field (first found wins): JSON-LD (written for
 * machines, most precise), then Open Graph, then plain meta tags, then the document itself
 * (`<title>`, `<link rel=canonical>`); for the language, JSON-LD `inLanguage`, `<html lang>`,
 * `content-language`, then `og:locale`.
 */
import type { PageInfo } from './dom.ts';

/** One metadata value and where it was found. */
export interface Found {
  value: string;
  from: string;
}

/** The metadata fields `extract.html` fills (each optional). */
export interface PageMetadata {
  title?: Found;
  author?: Found;
  date?: Found;
  siteName?: Found;
  language?: Found;
  canonicalUrl?: Found;
}

const clean = (s: unknown): string | undefined => {
  if (typeof s !== 'string') return undefined;
  const t = s.replace(/\s+/g, ' ').trim();
  return t ? t : undefined;
};

/** schema.org types that describe the page's main item (article, posting, page). */
const ITEM_TYPES = /(?:Article|BlogPosting|Posting|Report|Review|WebPage|Recipe|Product|Event|CreativeWork|VideoObject)$/;

type LdNode = Record<string, unknown>;

/** The JSON-LD nodes of the page, `@graph` arrays flattened; invalid JSON is ignored. */
function ldNodes(info: PageInfo): LdNode[] {
  const out: LdNode[] = [];
  const add = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) add(x);
    else if (v && typeof v === 'object') {
      const o = v as LdNode;
      out.push(o);
      if (o['@graph']) add(o['@graph']);
    }
  };
  for (const raw of info.jsonLd) {
    try {
      add(JSON.parse(raw.trim().replace(/^<!--|-->$/g, '')));
    } catch {
      // Broken JSON-LD is common (trailing commas, raw newlines in strings): skip it, the
      // other sources still apply.
    }
  }
  return out;
}

const typesOf = (n: LdNode): string[] => {
  const t = n['@type'];
  return (Array.isArray(t) ? t : [t]).filter((x): x is string => typeof x === 'string');
};

/** A person or organisation value: a string, `{name}` or a list of them, joined by `; `. */
function names(v: unknown): string | undefined {
  const list = (Array.isArray(v) ? v : [v])
    .map((x) => (typeof x === 'string' ? clean(x) : x && typeof x === 'object' ? clean((x as LdNode).name) : undefined))
    .filter((x): x is string => !!x);
  return list.length ? [...new Set(list)].join('; ') : undefined;
}

/** Reads the metadata of a parsed page (see the module comment for the layout and order). */
export function pageMetadata(info: PageInfo): PageMetadata {
  const out: PageMetadata = {};
  const set = (field: keyof PageMetadata, value: string | undefined, from: string): void => {
    if (value && !out[field]) out[field] = { value, from };
  };

  // 1. JSON-LD: the main item (an Article-like type), then any node with the property.
  const nodes = ldNodes(info);
  const items = nodes.filter((n) => typesOf(n).some((t) => ITEM_TYPES.test(t)));
  const articles = items.filter((n) => typesOf(n).some((t) => /Article|Posting|Report|Review/.test(t)));
  for (const n of [...articles, ...items]) {
    set('title', clean(n.headline), 'json-ld:headline');
    set('author', names(n.author), 'json-ld:author.name');
    set('date', clean(n.datePublished), 'json-ld:datePublished');
    set('siteName', names(n.publisher), 'json-ld:publisher.name');
    set('language', clean(n.inLanguage), 'json-ld:inLanguage');
  }
  for (const n of nodes) if (typesOf(n).includes('WebSite')) set('siteName', clean(n.name), 'json-ld:WebSite.name');

  // 2. Open Graph and article:* properties, 3. plain meta names.
  const prop = new Map<string, string>();
  const named = new Map<string, string>();
  for (const m of info.metas) {
    const content = clean(m.content);
    if (!content) continue;
    const p = (m.property ?? '').toLowerCase();
    const n = (m.name ?? m['http-equiv'] ?? m.itemprop ?? '').toLowerCase();
    if (p && !prop.has(p)) prop.set(p, content);
    if (n && !named.has(n)) named.set(n, content);
  }
  set('title', prop.get('og:title'), 'og:title');
  set('author', prop.get('article:author') && !/^https?:/.test(prop.get('article:author')!) ? prop.get('article:author') : undefined, 'article:author');
  set('date', prop.get('article:published_time'), 'article:published_time');
  set('siteName', prop.get('og:site_name'), 'og:site_name');
  // Language: the page's own declaration before Open Graph's locale (og:locale is often a
  // site-wide default, e.g. en_US on German pages of multilingual CMSs).
  set('language', info.htmlLang?.split(/[,;\s]/)[0], 'html:lang');
  set('language', named.get('content-language')?.split(/[,;\s]/)[0], 'meta:content-language');
  set('language', prop.get('og:locale')?.replace('_', '-'), 'og:locale');

  set('title', named.get('twitter:title'), 'meta:twitter:title');
  for (const k of ['author', 'dc.creator', 'dcterms.creator', 'byl', 'sailthru.author', 'parsely-author']) set('author', named.get(k)?.replace(/^by\s+/i, ''), `meta:${k}`);
  for (const k of ['date', 'dc.date', 'dcterms.date', 'dc.date.issued', 'dcterms.issued', 'pubdate', 'publishdate', 'publish-date', 'article.published', 'sailthru.date', 'parsely-pub-date'])
    set('date', named.get(k), `meta:${k}`);
  set('siteName', named.get('application-name'), 'meta:application-name');

  // 4. The document itself.
  set('title', info.title || undefined, 'title');
  set('canonicalUrl', info.canonical, 'link:canonical');
  set('canonicalUrl', prop.get('og:url'), 'og:url');
  return out;
}
