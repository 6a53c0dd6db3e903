/**
 * Jinja2's `trim_blocks` and `lstrip_blocks`, `{%+`/`+%}` and `{% raw %}`, applied to a template's
 * source before @huggingface/jinja lexes it (with its own whitespace options off).
 *
 * The library implements trim/lstrip as two regular expressions over the raw source, which also
 * act inside string literals (`{% set s = 'a %}\n b' %}` loses the newline of its literal) and
 * inside comments, and it rejects `{%+`, `+%}` and `{% raw %}`. This pass scans the source as
 * Jinja2's lexer does (tags found outside string literals, comments to their first `#}`) and
 * follows jinja2/lexer.py: a block or comment tag without `-`/`+` drops the spaces and tabs before
 * it when only they stand between it and the start of its line (`lstrip_blocks`); a block or
 * comment end without `-`/`+` drops one newline after it (`trim_blocks`); `-` is left to the
 * library's lexer, `+` is removed once it has switched the rule off; a raw block becomes a string
 * literal printed as is. Measured against Python Jinja2 by the seeded fuzz test in
 * test/operators/chat/template.test.ts.
 */

const SPACE_NOT_NL = /^[^\S\n]+$/;

/** Index of the first `{{`, `{%` or `{#` at or after `i`, or -1. */
function nextTag(s: string, i: number): number {
  for (let k = s.indexOf('{', i); k >= 0; k = s.indexOf('{', k + 1)) {
    const c = s[k + 1];
    if (c === '{' || c === '%' || c === '#') return k;
  }
  return -1;
}

/** Index of `end` (`%}` or `}}`) closing the tag whose body starts at `i`, outside string literals and brackets; -1 if none. */
function tagEnd(s: string, i: number, end: string): number {
  let depth = 0;
  for (let j = i; j < s.length; j++) {
    const c = s[j]!;
    if (c === "'" || c === '"') {
      for (j++; j < s.length && s[j] !== c; j++) if (s[j] === '\\') j++;
      continue;
    }
    if (depth === 0 && s.startsWith(end, j)) return j;
    if (c === '(' || c === '[' || c === '{') depth++;
    else if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--;
  }
  return -1;
}

/** The text before a tag after `lstrip_blocks`: its last line's spaces and tabs go when nothing else is on that line. */
function lstrip(text: string, lineStarting: boolean): string {
  const lpos = text.lastIndexOf('\n') + 1;
  return (lpos > 0 || lineStarting) && SPACE_NOT_NL.test(text.slice(lpos)) ? text.slice(0, lpos) : text;
}

/** A Jinja string literal printing `text` exactly. */
function literal(text: string): string {
  return `{{ '${text.replace(/[\\'\n\r\t]/g, (c) => ({ '\\': '\\\\', "'": "\\'", '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!)}' }}`;
}

const RAW_BEGIN = /^\{%([-+]?)\s*raw\s*(-?)%\}/; // Jinja2: no `+%}` on raw begin
const RAW_END = /\{%([-+]?)\s*endraw\s*([-+]?)%\}/g;

/**
 * The source with Jinja2's trim_blocks / lstrip_blocks applied and `+` markers and raw blocks
 * rewritten, for the library's lexer with its whitespace options off. An unclosed tag is left
 * as it is, for the library to report.
 */
export function applyJinjaWhitespace(s: string): string {
  let out = '';
  let i = 0;
  let lineStarting = true;
  while (i < s.length) {
    const k = nextTag(s, i);
    if (k < 0) {
      out += s.slice(i);
      break;
    }
    let text = s.slice(i, k);
    const kind = s[k + 1]!;
    const sign = s[k + 2] === '-' || s[k + 2] === '+' ? s[k + 2]! : '';
    if (sign === '' && kind !== '{') text = lstrip(text, lineStarting);

    const raw = kind === '%' ? RAW_BEGIN.exec(s.slice(k)) : null;
    if (raw) {
      RAW_END.lastIndex = k + raw[0].length;
      const end = RAW_END.exec(s);
      if (!end) return out + text + s.slice(k); // the library reports the unknown statement
      out += raw[1] === '-' ? text.trimEnd() : text;
      let content = s.slice(k + raw[0].length, end.index);
      if (raw[2] === '-') content = content.trimStart();
      if (end[1] === '-') content = content.trimEnd();
      else if (end[1] === '') content = lstrip(content, false);
      out += literal(content);
      i = end.index + end[0].length;
      if (end[2] === '-') {
        const ws = /^\s*/.exec(s.slice(i))![0];
        i += ws.length;
        lineStarting = ws.endsWith('\n');
      } else if (end[2] === '' && s[i] === '\n') {
        i++;
        lineStarting = true;
      } else lineStarting = false;
      continue;
    }

    const bodyStart = k + 2 + (sign ? 1 : 0);
    const endTok = kind === '#' ? '#}' : kind === '%' ? '%}' : '}}';
    const e = kind === '#' ? s.indexOf('#}', bodyStart) : tagEnd(s, bodyStart, endTok);
    if (e < 0) return out + text + s.slice(k);
    const endSign = e > bodyStart && (s[e - 1] === '-' || s[e - 1] === '+') ? s[e - 1]! : '';
    const body = s.slice(bodyStart, endSign ? e - 1 : e);
    out += text + '{' + kind + (sign === '-' ? '-' : '') + body + (endSign === '-' ? '-' : '') + endTok;
    i = e + 2;
    if (endSign === '-') lineStarting = /^\s*/.exec(s.slice(i))![0].endsWith('\n');
    else if (endSign === '' && kind !== '{' && s[i] === '\n') {
      i++;
      lineStarting = true;
    } else lineStarting = false;
  }
  return out;
}
