/**
 * Step 1 of main-content extraction (content.ts): removes boilerplate subtrees by markup —
 * semantic boilerplate (`nav`, `aside`, `footer`, page-level `header`, ARIA landmarks other than
 * main), hidden elements, and elements whose class/id name navigation, comments, cookie banners,
 * sharing, related links, ads… unless they hold the article. Each exception carries its evidence.
 */
import { walk, detach, type El } from './dom.ts';

// Figures are dropped with their captions and photo credits (trafilatura's default too).
const DROP_TAGS = new Set(['nav', 'aside', 'footer', 'menu', 'head', 'figcaption']);
const DROP_ROLES = new Set(['navigation', 'banner', 'contentinfo', 'complementary', 'dialog', 'alertdialog', 'search', 'menu', 'menubar', 'toolbar', 'tablist', 'alert']);

// Class/id words naming boilerplate. Prefix words match at a word start (`comments-area`,
// `commentlist`, `navbar`); exact words must be a whole token (`ad`, `tags`, `meta`).
// `hidden` is not a state when it qualifies something else (`field--label-hidden`,
// `overflow-hidden`) or a breakpoint (`hidden-xs`: visible on larger screens), and `print-full`
// / `printable` mark what is printed, the content (together: 11 `with` snippets of
// trafilatura-eval-full restored on 5 pages, 0 `without` kept).
// Issue 21 (measured on trafilatura-eval-full, 945 pages, each change alone):
// - `header` names the page's header when it starts the name or follows a page word
//   (`header-outer`, `site-header`, `sticky-header`), not a component's head (`article-header`,
//   `recipe-header`, `card-header`, `table-header`: ledes, ingredients, FAQ questions): 4 `with`
//   restored, 2 `without` kept; `crumbs` wins over `entry` (`entry-crumbs`): 1 `without` back.
// - `print` names print buttons and print-only copies (`print-button`, `printhead`, `print-link`)
//   and what is not printed (`hide-print`, `no-print`, `d-print-none`) — not any name with
//   print in it (`kb-tip-print-step`, `print-links` are the recipe's steps): 3 `with` restored,
//   1 `without` kept net.
// - author bios (`author-description`, `author-info`, `post-author`, `saboxplugin`): 6 `without`
//   removed, 0 `with` lost; tables of contents, consent content blockers, disclosures and
//   affiliate notes: 3 `without` removed, 0 `with` lost; captions (`bildunterschrift`,
//   `image-description`, `img-metadata`, `photo-credit`): 2 `without` removed, 0 `with` lost.
// - `cart` is a shopping cart as a whole word only (`cartouche` holds a summary box): 1 `with`.
// - `commentary` is an opinion article, not a comment thread (`div.news.commentary.article`):
//   3 `with` restored, 0 `without` kept.
const NEG_PREFIX =
  /(?:^|[^a-z])(comment(?!ary)|kommentar|cookie|consent|gdpr|disqus|share|sharing|sharedaddy|social|related|recommend|newsletter|subscri|signup|sidebar|breadcrumb|navbar|navigation|nav-|menu|footer|masthead|banner|advert|sponsor|promo|popup|modal|overlay|pagination|pager|outbrain|taboola|trending|mostread|most-read|popular|readmore|read-more|more-from|morefrom|also-read|teaser-list|toolbar|skip|print[-_]?(?:only|head|header|footer|logo|button|btn|icon|link(?!s)|friendly|page|this|hide|none)|(?:hide|hidden|no)[-_]?print(?![-_]?(?:full|able|area|content|version))|d-print-none|login|author-bio|authorbox|author-box|about-author|author[-_]{0,2}(?:description|desc|info|profile|details|container)|authorinfo|post-author|entry-author|saboxplugin|ez-toc|toc-container|table-of-contents|content-blocker|brlbs|disclosure|affiliate|bildunter|image[-_]?description|img[-_]?metadata|image[-_]?meta(?:data)?\b|photo[-_]?credit|postmeta|post-meta|entry-meta|article-meta|byline|dateline|tagcloud|tag-cloud|taglist|tag-list|post-tags|entry-tags|article-tags|keywords|rating|captcha|copyright|disclaimer|legal|jump|(?<![-_](?:label|overflow|title)[-_]?)hidden(?![-_](?:xs|sm|md|lg|xl|mobile|desktop|print))|sr-only|visually-hidden|screen-reader|offscreen|visuallyhidden|crumbs|(?<![a-z0-9][-_]{1,2})header|(?:site|page|global|main|top|mobile|desktop|sticky|fixed|layout|nav|masthead)[-_]{1,2}header|top-bar|topbar|site-info|colophon|follow|rss|prev-next|nextprev|post-nav|postnav|paging|donate|paywall|shop|cart(?![a-z])|search|lightbox|tooltip|flyout|dropdown|feedback|survey|cta|shariff|addthis|embed-code|mw-editsection|editsection|edit-link|post-edit-link|facebook|twitter|linkedin|whatsapp|pinterest|instagram|wp-caption|caption|credit)/;
const NEG_EXACT = /(?:^|\s)(ad|ads|adv|tags|tag|meta|nav|share|social|aside|extra|sponsored|promoted|partner|partners|date|time|author|credits?|caption-credit|foot|bottom|top|noprint|no-print)(?:$|\s)/;
// Boilerplate names that win even over a content-like name (`post-comments`, `entry-share`).
// Author bios and subscription forms too (`post-author-bio`, `author-box--content`,
// `subscribe-blog`): 7 `without` removed on trafilatura-eval-full, 1 kept, 0 `with` lost
// (`paywall` here cost 2 `with`: `steady-paywall-container` holds the article).
const STRONG_NEG = /(?:^|[^a-z])(comment(?!ary)|cookie|consent|share|sharing|social|related|newsletter|breadcrumb|crumbs|sidebar|footer|navigation|author[-_]?(?:bio|box)|about-author|author[-_]{0,2}(?:description|desc|info|profile|details)|post-author|entry-author|subscri)/;
const POS = /(?:^|[^a-z])(article|content|entry|main|post|story|body|text|blog|page-content|single|hentry)/;
// `entry-inner` / `post-inner` (WordPress themes' body wrapper): trafilatura-eval-full 814.html,
// 3 `with` snippets restored (its `entry share` wrapper was pruned), 0 `without` kept.
const CONTENT_MARK =
  /(?:^|[^a-z])(article[-_]?(body|content|text|inner|main)|post[-_]?(body|content|text|entry|inner)|entry[-_]?(content|body|text|inner)|story[-_]?(body|content|text)|main[-_]?(content|text|article)|content[-_]?(body|main|text|article)|body[-_]?(text|content|copy)|blog[-_]?(post|entry|content)|rich[-_]?text|text[-_]?(content|body)|news[-_]?(text|content|body|detail)|single[-_]?(post|content)|artikel|beitrag|td-post-content|itemprop-articlebody)/;

// Tokens that describe a state, not a region (`no-share`, `has-sidebar`, `with-comments`).
// WordPress also writes the post's own categories and tags as classes (`category-social-issues`).
// `non-`/`not-` negate (`non-paywall`: the free part of the article; trafilatura-eval-full
// 820.html, 3 `with` snippets restored, 0 `without` kept).
const STATE_TOKEN = /^(no|non|not|has|with|is|show|enable|enabled|disable|without|can|supports?|category|tag|postid|format|type|status|page-id|parent-pageid|author-[a-z0-9]*-)[-_]/;

/** The element's class and id tokens (lower case), state flags removed, space-joined. */
export function nameOf(el: El): string {
  if (el.names !== undefined) return el.names;
  const { class: cls, id } = el.attrs;
  if (cls === undefined && id === undefined) return (el.names = '');
  const raw = ((cls ?? '') + ' ' + (id ?? '')).toLowerCase();
  let out = '';
  for (const t of raw.split(/\s+/)) if (t && !STATE_TOKEN.test(t)) out += out ? ' ' + t : t;
  return (el.names = out);
}

function isHidden(el: El): boolean {
  if ('hidden' in el.attrs) return true;
  if (el.attrs['aria-hidden'] === 'true') return true;
  const s = el.attrs.style;
  return s !== undefined && /(display\s*:\s*none|visibility\s*:\s*hidden)/i.test(s);
}

/** Length of `s` with whitespace runs collapsed to one space and trimmed (no allocation). */
export function collapsedLength(s: string): number {
  let n = 0;
  let space = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 160) {
      if (!space) {
        n++;
        space = true;
      }
    } else {
      n++;
      space = false;
    }
  }
  return space && n > 0 ? n - 1 : n;
}

/** Per element: total text length (whitespace-collapsed) and number of paragraphs of 100+ chars. */
function textLengths(root: El): { lens: Map<El, number>; paras: Map<El, number> } {
  const lens = new Map<El, number>();
  const paras = new Map<El, number>();
  const count = (el: El): [number, number] => {
    let n = 0;
    let p = 0;
    for (const c of el.children) {
      if (typeof c === 'string') n += collapsedLength(c);
      else {
        const [cn, cp] = count(c);
        n += cn;
        p += cp;
      }
    }
    if (el.tag === 'p' && n >= 100) p++;
    lens.set(el, n);
    paras.set(el, p);
    return [n, p];
  };
  count(root);
  return { lens, paras };
}

/** Text length of the largest element under `el` named as the article body (`isBodyMark`). */
function bodyMarkLength(el: El, lens: Map<El, number>): number {
  let best = 0;
  walk(el, (e) => {
    if (e === el || !isBodyMark(e)) return;
    best = Math.max(best, lens.get(e) ?? 0);
    return false;
  });
  return best;
}

/** Whether an element names itself as the article's body (`itemprop=articleBody`, `entry-content`…), not just as an article. */
function isBodyMark(el: El): boolean {
  if ((el.attrs.itemprop ?? '').toLowerCase() === 'articlebody') return true;
  const n = nameOf(el);
  return n.length > 1 && CONTENT_MARK.test(n);
}

/** Whether an element marks itself as the article's content. */
export function isContentMark(el: El): boolean {
  if (el.tag === 'article' || el.tag === 'main') return true;
  if (el.attrs.role === 'main') return true;
  if ((el.attrs.itemprop ?? '').toLowerCase() === 'articlebody') return true;
  const n = nameOf(el);
  return n.length > 1 && CONTENT_MARK.test(n);
}

/** Step 1: removes boilerplate subtrees in place. */
export function prune(root: El): void {
  const { lens, paras } = textLengths(root);
  const total = lens.get(root) ?? 0;
  const doomed: El[] = [];
  const allParas = paras.get(root) ?? 0;
  const visit = (el: El, inArticle: boolean): void => {
    for (const c of el.children) {
      if (typeof c === 'string') continue;
      if (shouldDrop(c, inArticle, lens, paras.get(c) ?? 0, total, allParas)) doomed.push(c);
      else visit(c, inArticle || c.tag === 'article' || c.tag === 'main' || isContentMark(c));
    }
  };
  visit(root, false);
  for (const d of doomed) detach(d);
}

function shouldDrop(el: El, inArticle: boolean, lens: Map<El, number>, paras: number, total: number, allParas: number): boolean {
  const tag = el.tag;
  const len = lens.get(el) ?? 0;
  if (tag === 'html' || tag === 'body') return false;
  // An <aside> inside <main>/<article> holding most of the page's long paragraphs is the article
  // in a misused element, not a side note. Evidence: trafilatura-eval-full 017.html (2 `with`
  // snippets, empty text before), 0 `without` kept.
  if (tag === 'aside' && inArticle && paras >= 2 && paras >= 0.5 * allParas) return false;
  if (DROP_TAGS.has(tag)) return true;
  // A page header is boilerplate, unless it holds most of the page (site builders put whole
  // "hero" sections in <header>: measured on commoncrawl.org's Webflow pages).
  // A <form> is a search box, a sign-up or a comment form (its labels read as short sentences:
  // "Votre adresse électronique (obligatoire)"), unless it wraps the page (ASP.NET pages put
  // everything in one form). Evidence: trafilatura-eval-full 575.html (3 `with`: the form had
  // won the root), 1 `without` removed, 0 kept.
  if (tag === 'form' && len < 0.5 * total && paras < 2) return true;
  // <noscript> holds tracking pixels and "enable JavaScript" notes, but script-rendered blogs
  // (Blogger's `post-body`) put the whole post there: it is kept when it holds 2 or more long
  // paragraphs. Evidence: trafilatura-eval-full 435.html (3 `with`, empty text before), 0 `without`.
  if (tag === 'noscript') return paras < 2;
  if (tag === 'header' && !inArticle) return !((len > 0.5 * total && total > 300) || (len >= 0.3 * total && paras >= 2));
  if (isHidden(el)) return true;
  const role = el.attrs.role;
  // A widget role (`tablist` on an FAQ accordion) on the element holding most of the page's long
  // paragraphs names how it is shown, not what it is (trafilatura-eval-full 683.html: 3 `with`).
  if (role && DROP_ROLES.has(role)) return !(role === 'tablist' && paras >= 2 && paras >= 0.5 * allParas);
  if (tag === 'article' || tag === 'main' || role === 'main') return false;
  // A quoted post embedded in the text (`blockquote.twitter-tweet`, `.instagram-media`) is a
  // quotation the article makes, not a share bar, whatever its class says. Evidence: 6 pages,
  // 7 `with` snippets of trafilatura-eval-full restored, 0 `without` kept.
  if (tag === 'blockquote') return false;
  if ((el.attrs.itemprop ?? '').toLowerCase() === 'articlebody') return false;
  const n = nameOf(el);
  if (n.length <= 1) return false;
  if (!NEG_PREFIX.test(n) && !NEG_EXACT.test(n)) return false;
  // A wrapper holding much of the page's running text is not boilerplate, whatever its name
  // (`entry themeform share`, `elementor-widget-container`); comment threads excepted.
  if (len > 0.5 * total && total > 500) return false;
  if (len >= 0.3 * total && paras >= 3 && !/(comment(?!ary)|kommentar|disqus)/.test(n)) return false;
  // Nor is one holding most of the page's long paragraphs (2 or more, at least half): names like
  // `documentContent__sharingContainer`, `banners-contenido-nota`, `js-lightbox-gallery` wrap
  // the article on long pages whose sidebars outweigh it in characters. Evidence:
  // trafilatura-eval-full 8 `with` restored (509, 561, 783.html), 1 `without` kept (644.html).
  if (paras >= 2 && paras >= 0.5 * allParas && !/(comment(?!ary)|kommentar|disqus|author|bio)/.test(n)) return false;
  if (CONTENT_MARK.test(n)) return false;
  if (POS.test(n) && !STRONG_NEG.test(n)) return false;
  // A wrapper whose text is mostly an element named as the article body (`div.socialicons-sticky`
  // around `div.entry-content`, `div.entry.share` around `div.entry-inner`…) is a badly named or
  // unclosed wrapper, not a share bar: share bars never hold the body. Comment threads and teaser
  // lists excepted (their items can be named `entry-content` too), and the body must be a fifth of
  // the page (teaser grids and sidebar boxes hold small `post-content` excerpts). Evidence:
  // trafilatura-eval-full 156.html (3 `with` snippets, empty text before), 0 `without` kept; without
  // the fifth-of-the-page condition, 5 `without` kept on 3 pages (pagination, sidebar boxes).
  const markLen = len >= 200 && len >= 0.2 * total ? bodyMarkLength(el, lens) : 0;
  if (markLen >= 0.5 * len && markLen >= 0.2 * total && len >= 200 && !/(comment(?!ary)|kommentar|disqus|related|recommend|teaser|more-from|morefrom)/.test(n)) return false;
  return true;
}

