/**
 * Markdown rendering of the kept blocks (`extract.html({ output: 'markdown' })`): headings keep
 * their level (`#`…`######`), list items their list type and nesting (`-` or `1.`, two spaces
 * per level), data tables become pipe tables (the first row is the header: markdown has no
 * header-less table), `<pre>` becomes a fenced code block (its language from a `language-x` /
 * `lang-x` class when present), block quotes are `> `-prefixed. Inline markup is not kept.
 * The words are those of the text output, in the same order (tested): only syntax is added.
 */
import type { Block } from './blocks.ts';
import type { El } from './dom.ts';

/** Escapes what markdown would read as syntax at the start of a line. */
function escapeLineStart(s: string): string {
  return s.replace(/^(\s*)([#>+\-*]|\d+[.)])(?=\s|$)/gm, (_m, sp: string, mark: string) => `${sp}\\${mark}`);
}

function listDepth(list: El | undefined): number {
  let d = 0;
  for (let e = list?.parent ?? null; e; e = e.parent) if (e.tag === 'ul' || e.tag === 'ol' || e.tag === 'menu' || e.tag === 'dl') d++;
  return d;
}

function codeLanguage(el: El): string {
  const cls = `${el.attrs.class ?? ''} ${el.parent?.attrs.class ?? ''}`;
  // A <pre><code class="language-ts"> has the class on the code element, which is inline and
  // not a block owner; the class of <pre> or its wrapper is what the tree keeps.
  return /(?:^|\s)(?:language|lang|highlight-source)-([a-z0-9+#-]+)/i.exec(cls)?.[1] ?? '';
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Joins blocks into markdown (blank line between blocks, one newline inside a list or table). */
export function joinMarkdown(blocks: Block[]): string {
  const out: string[] = [];
  let prev: Block | undefined;
  const counters = new Map<El, number>();
  for (const b of blocks) {
    let text: string;
    const kind = b.kind;
    switch (kind) {
      case 'h': {
        const level = /^h([1-6])$/.exec(b.el.tag)?.[1] ?? '2';
        text = `${'#'.repeat(Number(level))} ${b.text.replace(/\n/g, ' ')}`;
        break;
      }
      case 'li': {
        const list = b.group;
        const indent = '  '.repeat(listDepth(list));
        let marker = '-';
        if (list?.tag === 'ol') {
          const n = (counters.get(list) ?? 0) + 1;
          counters.set(list, n);
          marker = `${n}.`;
        }
        text = `${indent}${marker} ${escapeLineStart(b.text).replace(/\n/g, `\n${indent}  `)}`;
        break;
      }
      case 'row': {
        const cells = b.text.split(' | ').map(cell);
        const first = !(prev?.kind === 'row' && prev.group === b.group);
        text = `| ${cells.join(' | ')} |`;
        if (first) text += `\n|${cells.map(() => '---').join('|')}|`;
        break;
      }
      case 'pre': {
        const fence = b.text.includes('```') ? '~~~~' : '```';
        text = `${fence}${codeLanguage(b.el)}\n${b.text}\n${fence}`;
        break;
      }
      case 'quote':
        text = escapeLineStart(b.text).replace(/^/gm, '> ');
        break;
      case 'p':
        text = escapeLineStart(b.text).replace(/\n/g, '  \n');
        break;
      default: {
        const never: never = kind;
        throw new Error(`unknown block kind ${String(never)}`);
      }
    }
    if (prev === undefined) out.push(text);
    else {
      const sameGroup = (kind === 'li' || kind === 'row') && prev.group !== undefined && prev.group === b.group && prev.kind === kind;
      // A nested list continues its parent list without a blank line.
      const nested = kind === 'li' && prev.kind === 'li';
      out.push(sameGroup || nested ? '\n' : '\n\n', text);
    }
    prev = b;
  }
  return out.join('');
}
