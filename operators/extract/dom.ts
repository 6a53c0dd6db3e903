/**
 * A compact element tree built from htmlparser2's SAX events, for main-content extraction.
 *
 * Why not htmlparser2's own DOM (domhandler): measured on the 200 trafilatura evaluation pages
 * (30.7 MB, one core), `parseDocument` ran at 32 MB/s and bare SAX parsing at 67 MB/s; building
 * this tree keeps most of the SAX speed because it never materialises the subtrees extraction
 * throws away (scripts, styles, SVG, forms' controls…) and stores only the attributes it reads.
 */
import { lazyPackage } from '../../engine/modules/lazy.ts';

const htmlparser2 = lazyPackage<typeof import('htmlparser2')>('htmlparser2');

/** An element: tag name (lower case), the attributes extraction reads, children in order. */
export interface El {
  tag: string;
  attrs: Record<string, string>;
  children: Node[];
  parent: El | null;
  /** Cache of the element's class/id tokens as content.ts reads them (set on first use). */
  names?: string;
}
/** A child: an element or a run of (entity-decoded) text. */
export type Node = El | string;

/**
 * Subtrees never extracted: their text is code, styling, widgets or media fallbacks.
 * (`<noscript>` is parsed: prune.ts keeps it only when it holds a post's paragraphs.) Ruby
 * annotations (`<rt>`, `<rp>`: furigana readings over kanji) are not the running text: kept, they
 * interleave the reading into every word (`最近さいきん`). Evidence: trafilatura-eval-full
 * 437.html, 2 `with` restored, 0 `without` kept.
 */
export const SKIPPED_TAGS = new Set([
  'script', 'style', 'template', 'svg', 'math', 'iframe', 'object', 'embed', 'canvas',
  'video', 'audio', 'button', 'input', 'select', 'textarea', 'option', 'optgroup', 'datalist',
  'dialog', 'map', 'frameset', 'frame', 'applet', 'rt', 'rp',
]);

/** Attributes kept on elements; everything else is dropped at parse time. */
const KEPT_ATTRS = new Set(['class', 'id', 'role', 'itemprop', 'hidden', 'aria-hidden', 'style', 'lang', 'name', 'property', 'content', 'http-equiv', 'charset', 'itemtype', 'aria-label']);

/**
 * Elements that belong in `<head>`. Any other element (or text) met while `<head>` is open ends
 * the head and starts the body, as browsers do (HTML's "in head" insertion mode): htmlparser2
 * does not, so a stray `<br>` or `<span>` before `</head>` put the whole page under `<head>`,
 * which extraction skips. Evidence: trafilatura-eval-full 873.html (3 `with` snippets, empty text
 * before).
 */
const HEAD_TAGS = new Set(['title', 'meta', 'link', 'style', 'script', 'base', 'noscript', 'template', 'basefont', 'bgsound']);

/** What the document declares about itself, gathered while parsing. */
export interface PageInfo {
  /** Text of the first `<title>`. */
  title: string;
  /** `<html lang>`, when present. */
  htmlLang?: string;
  /** Attributes of every `<meta>` element (name/property/http-equiv/content/charset). */
  metas: Array<Record<string, string>>;
  /** `href` of the first `<link rel="canonical">`. */
  canonical?: string;
  /** Text of each `<script type="application/ld+json">` (JSON-LD), unparsed. */
  jsonLd: string[];
}

/** Parses HTML into a root element (tag `#root`) and the page's declared metadata. */
export function parseHtml(html: string): { root: El; info: PageInfo } {
  const root: El = { tag: '#root', attrs: {}, children: [], parent: null };
  const info: PageInfo = { title: '', metas: [], jsonLd: [] };
  let cur = root;
  // The open `<head>` (until it ends, implicitly or not) and the `<body>` once there is one.
  let head: El | null = null;
  let body: El | null = null;
  // Whether `body` was opened by head content: the page's own first <body> is then merged into it.
  let implicitBody = false;
  // Closes an open head before body content, creating the body the page did not open yet.
  const leaveHead = (): void => {
    if (cur !== head) return;
    cur = head.parent ?? root;
    head = null;
    if (!body) {
      body = { tag: 'body', attrs: {}, children: [], parent: cur };
      implicitBody = true;
      cur.children.push(body);
      cur = body;
    }
  };
  // Depth inside a skipped subtree: while > 0 nothing is attached to the tree.
  let skip = 0;
  let inTitle = false;
  let titleDone = false;
  // Collecting the text of a JSON-LD script (a skipped subtree whose text is metadata).
  let ld: string | undefined;
  const parser = new (htmlparser2().Parser)(
    {
      onopentag(name, attribs) {
        if (skip > 0) {
          skip++;
          return;
        }
        if (head && !HEAD_TAGS.has(name)) leaveHead();
        if (SKIPPED_TAGS.has(name)) {
          skip = 1;
          if (name === 'script' && /ld\+json/i.test(attribs.type ?? '')) ld = '';
          return;
        }
        if (name === 'meta') {
          info.metas.push(attribs);
          return;
        }
        if (name === 'link') {
          if (info.canonical === undefined && /(?:^|\s)canonical(?:\s|$)/i.test(attribs.rel ?? '') && attribs.href) info.canonical = attribs.href.trim();
          return;
        }
        if (name === 'title' && !titleDone) inTitle = true;
        if (name === 'html' && attribs.lang && !info.htmlLang) info.htmlLang = attribs.lang.trim();
        const attrs: Record<string, string> = {};
        for (const k in attribs) if (KEPT_ATTRS.has(k)) attrs[k] = attribs[k]!;
        if (name === 'body' && implicitBody && body) {
          // The body was opened implicitly by content in the head: the page's own <body> only
          // adds its attributes (as in browsers); its content goes on where the body is. Its
          // close event then ends that body, as it would have ended its own.
          for (const k in attrs) if (!(k in body.attrs)) body.attrs[k] = attrs[k]!;
          implicitBody = false;
          return;
        }
        const el: El = { tag: name, attrs, children: [], parent: cur };
        if (name === 'head' && !head && !body) head = el;
        if (name === 'body' && !body) body = el;
        cur.children.push(el);
        cur = el;
      },
      ontext(text) {
        if (skip > 0) {
          if (ld !== undefined) ld += text;
          return;
        }
        if (inTitle) {
          info.title += text;
          return;
        }
        if (head && cur === head && text.trim()) leaveHead();
        const kids = cur.children;
        const last = kids.length ? kids[kids.length - 1] : undefined;
        if (typeof last === 'string') kids[kids.length - 1] = last + text;
        else kids.push(text);
      },
      onclosetag(name) {
        if (skip > 0) {
          if (--skip === 0 && ld !== undefined) {
            info.jsonLd.push(ld);
            ld = undefined;
          }
          return;
        }
        if (name === 'meta' || name === 'link') return;
        if (name === 'title' && inTitle) {
          inTitle = false;
          titleDone = true;
        }
        if (name === 'head') head = null;
        // htmlparser2 emits balanced (possibly implied) close events; walk up to the match.
        let e: El | null = cur;
        while (e && e.tag !== name) e = e.parent;
        if (e && e.parent) cur = e.parent;
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.end(html);
  info.title = info.title.replace(/\s+/g, ' ').trim();
  return { root, info };
}

/** Removes `el` from its parent's children. */
export function detach(el: El): void {
  const p = el.parent;
  if (!p) return;
  const i = p.children.indexOf(el);
  if (i >= 0) p.children.splice(i, 1);
  el.parent = null;
}

/** Depth-first visit of the elements under (and including) `el`. Return `false` to skip a subtree. */
export function walk(el: El, visit: (e: El) => boolean | void): void {
  if (visit(el) === false) return;
  for (const c of el.children) if (typeof c !== 'string') walk(c, visit);
}

/** The first element with the given tag, depth-first. */
export function findFirst(el: El, tag: string): El | undefined {
  let found: El | undefined;
  walk(el, (e) => {
    if (found) return false;
    if (e.tag === tag) {
      found = e;
      return false;
    }
  });
  return found;
}
