/**
 * Renders an element tree into text blocks (paragraphs, headings, list items, table rows,
 * preformatted text), each with its character and link-character counts, which is what the
 * content classifier scores. Inline markup is flattened; `<br>` becomes a line break.
 */
import type { El } from './dom.ts';

/** Kinds of block the renderer emits. */
export type BlockKind = 'p' | 'h' | 'li' | 'row' | 'pre' | 'quote';

/** One rendered block of text. */
export interface Block {
  kind: BlockKind;
  text: string;
  /** Length of `text`. */
  chars: number;
  /** Characters of `text` inside links. */
  linkChars: number;
  /** The element whose content produced the block (its nearest block-level ancestor). */
  el: El;
  /** For `li` and `row`: the list or table the block belongs to (groups are classified together). */
  group?: El;
}

/** Elements that start a new block. */
export const BLOCK_TAGS = new Set([
  'p', 'div', 'section', 'article', 'main', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'dl', 'dt', 'dd',
  'table', 'tr', 'td', 'th', 'thead', 'tbody', 'tfoot', 'caption', 'blockquote', 'pre', 'figure', 'figcaption',
  'header', 'footer', 'aside', 'nav', 'address', 'hr', 'form', 'fieldset', 'details', 'summary', 'center', 'body',
  'html', 'menu', 'legend', 'hgroup', 'output', 'search', '#root', 'head', 'title', 'noframes', 'frameset',
]);

const HEADINGS = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
/** Tags whose presence inside a table cell means the table is for layout, not data. */
const LAYOUT_MARKERS = new Set(['p', 'div', 'table', 'ul', 'ol', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'section', 'article']);

/**
 * A table is for layout (its cells are page regions, rendered as blocks) when a cell holds
 * block markup, paragraph breaks, or more than 200 characters; otherwise it is data (rows of
 * `a | b`).
 */
function isLayoutTable(table: El): boolean {
  let layout = false;
  let brs = 0;
  const cellText = (e: El): number => {
    let n = 0;
    for (const c of e.children) n += typeof c === 'string' ? c.trim().length : cellText(c);
    return n;
  };
  const visit = (e: El, depth: number): void => {
    for (const c of e.children) {
      if (layout || typeof c === 'string') continue;
      if (depth > 0 && (LAYOUT_MARKERS.has(c.tag) || (c.tag === 'br' && ++brs >= 2))) {
        layout = true;
        return;
      }
      // depth counts levels below a cell; rows and sections are transparent.
      if ((c.tag === 'td' || c.tag === 'th') && cellText(c) > 200) {
        layout = true;
        return;
      }
      const inCell = depth > 0 || c.tag === 'td' || c.tag === 'th';
      visit(c, inCell ? depth + 1 : 0);
    }
  };
  visit(table, 0);
  return layout;
}

const WS = /\s+/g;

/**
 * Characters a browser does not render in running text: soft hyphens (`&shy;`, hyphenation
 * hints), zero-width spaces and byte-order marks. Left in, they split words (`réac­tion` is not
 * `réaction` to a reader, a search or a tokenizer). Evidence: trafilatura-eval-full 5 `with` snippets restored
 * (013, 275, 612.html), 6 lost on 3 pages whose annotators copied the soft hyphens into their
 * snippets; kept for the text's sake (words, not the snippet count, are what a corpus needs).
 */
const INVISIBLE = /[\u00ad\u200b\ufeff]/g;
const HAS_INVISIBLE = /[\u00ad\u200b\ufeff]/;

/** Renders `root` into blocks in document order. */
export function renderBlocks(root: El): Block[] {
  const blocks: Block[] = [];
  let parts: string[] = [];
  let linkChars = 0;
  let linkDepth = 0;
  let preDepth = 0;

  const flush = (kind: BlockKind, el: El, group?: El): void => {
    if (!parts.length) return;
    let text = parts.join('');
    parts = [];
    const lc = linkChars;
    linkChars = 0;
    if (kind === 'pre') {
      text = text.replace(/^\n+|\s+$/g, '');
      if (text) blocks.push({ kind, text, chars: text.length, linkChars: Math.min(lc, text.length), el, group });
      return;
    }
    text = text.replace(/[ \t\f\r]+/g, ' ').replace(/ ?\n(?: ?\n)+ ?/g, '\n\n').replace(/ ?\n ?/g, '\n').trim();
    if (!text) return;
    // `<br><br>` separates paragraphs on pages that have no <p>: split them into blocks,
    // sharing the link characters in proportion.
    const pieces = kind === 'p' || kind === 'quote' ? text.split('\n\n') : [text];
    for (const piece of pieces) {
      const share = Math.round((lc * piece.length) / text.length);
      blocks.push({ kind, text: piece, chars: piece.length, linkChars: Math.min(share, piece.length), el, group });
    }
  };

  const inline = (el: El, kind: BlockKind, owner: El, group: El | undefined): void => {
    for (const c of el.children) {
      if (typeof c === 'string') {
        const v = HAS_INVISIBLE.test(c) ? c.replace(INVISIBLE, '') : c;
        const t = preDepth > 0 ? v : v.replace(WS, ' ');
        parts.push(t);
        if (linkDepth > 0) linkChars += t.trim().length;
        continue;
      }
      const tag = c.tag;
      if (tag === 'br') {
        parts.push('\n');
        continue;
      }
      if (tag === 'head' || tag === 'title') continue;
      if (BLOCK_TAGS.has(tag)) {
        flush(kind, owner, group);
        block(c, kind, group);
        continue;
      }
      if (tag === 'a') linkDepth++;
      if (tag === 'img' || tag === 'wbr') continue;
      inline(c, kind, owner, group);
      if (tag === 'a') linkDepth--;
      // Inline elements that render as separate words in browsers.
      if (tag === 'td' || tag === 'label') parts.push(' ');
    }
  };

  const block = (el: El, parentKind: BlockKind, group: El | undefined): void => {
    const tag = el.tag;
    if (tag === 'head') return;
    if (tag === 'table') {
      if (isLayoutTable(el)) {
        inline(el, 'p', el, undefined);
        flush('p', el);
      } else table(el);
      return;
    }
    if (tag === 'ul' || tag === 'ol' || tag === 'dl' || tag === 'menu') {
      for (const c of el.children) {
        if (typeof c === 'string') {
          if (c.trim()) parts.push(c.replace(WS, ' '));
          continue;
        }
        if (c.tag === 'li' || c.tag === 'dt' || c.tag === 'dd') {
          flush('li', el, el);
          const before = blocks.length;
          inline(c, 'li', c, el);
          flush('li', c, el);
          // The first block of an item is its bullet line.
          for (let i = before; i < blocks.length; i++) if (blocks[i]!.el === c) blocks[i]!.kind = 'li';
        } else block(c, 'li', el);
      }
      flush('li', el, el);
      return;
    }
    let kind: BlockKind;
    if (HEADINGS.has(tag)) kind = 'h';
    else if (tag === 'pre') kind = 'pre';
    else if (tag === 'blockquote') kind = 'quote';
    else if (tag === 'li' || tag === 'dt' || tag === 'dd') kind = 'li';
    else kind = parentKind === 'quote' ? 'quote' : 'p';
    if (tag === 'pre') preDepth++;
    inline(el, kind, el, kind === 'li' ? group : undefined);
    flush(kind, el, kind === 'li' ? group : undefined);
    if (tag === 'pre') preDepth--;
  };

  const table = (t: El): void => {
    const rows: El[] = [];
    const collect = (e: El): void => {
      for (const c of e.children) {
        if (typeof c === 'string') continue;
        if (c.tag === 'tr') rows.push(c);
        else if (c.tag === 'thead' || c.tag === 'tbody' || c.tag === 'tfoot') collect(c);
        else if (c.tag === 'caption') {
          inline(c, 'p', c, undefined);
          flush('p', c);
        }
      }
    };
    collect(t);
    for (const r of rows) {
      const cells: string[] = [];
      let lc = 0;
      for (const c of r.children) {
        if (typeof c === 'string' || (c.tag !== 'td' && c.tag !== 'th')) continue;
        inline(c, 'row', r, t);
        const text = parts.join('').replace(WS, ' ').trim();
        parts = [];
        lc += linkChars;
        linkChars = 0;
        if (text) cells.push(text);
      }
      if (!cells.length) continue;
      const text = cells.join(' | ');
      blocks.push({ kind: 'row', text, chars: text.length, linkChars: Math.min(lc, text.length), el: r, group: t });
    }
  };

  block(root, 'p', undefined);
  flush('p', root);
  return blocks;
}

/** Joins blocks into plain text: a blank line between paragraphs, one newline inside a list or table. */
export function joinBlocks(blocks: Block[]): string {
  let out = '';
  let prev: Block | undefined;
  for (const b of blocks) {
    const text = b.kind === 'li' ? `- ${b.text}` : b.text;
    if (prev === undefined) out = text;
    else {
      const sameGroup = (b.kind === 'li' || b.kind === 'row') && prev.group !== undefined && prev.group === b.group && prev.kind === b.kind;
      out += (sameGroup ? '\n' : '\n\n') + text;
    }
    prev = b;
  }
  return out;
}
