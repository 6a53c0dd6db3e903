/**
 * Python's string semantics where JavaScript's differ, for rendering chat templates as Jinja2
 * does (operators/chat/jinja.ts). Each function names the Python or Jinja2 function it follows.
 * Measured against /usr/bin/python3 + jinja2 3.1 by test/operators/chat/template.test.ts:
 * `String.prototype.trim` strips U+FEFF, which Python's `str.strip` keeps, and keeps
 * U+001C–U+001F and U+0085, which Python strips; JS counts and indexes UTF-16 code units where
 * Python counts code points; and `{{ true }}` must print `True`, not `true`.
 */

/** The characters Python's `str.isspace()` accepts (bidi classes WS, B, S and category Zs). */
const PY_SPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007,
  0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** Python's `str.strip(chars)` / `lstrip` / `rstrip`: `chars` null strips Python whitespace, else any of its code points. */
export function pyStrip(s: string, chars: string | null = null, side: 'both' | 'left' | 'right' = 'both'): string {
  const set = chars === null ? PY_SPACE : new Set(Array.from(chars, (c) => c.codePointAt(0)!));
  const cps = Array.from(s);
  let a = 0;
  let b = cps.length;
  if (side !== 'right') while (a < b && set.has(cps[a]!.codePointAt(0)!)) a++;
  if (side !== 'left') while (b > a && set.has(cps[b - 1]!.codePointAt(0)!)) b--;
  return cps.slice(a, b).join('');
}

/** Titlecase of one character: the four Unicode digraphs with a distinct titlecase form, else the first letter upper and the rest lower ('ß' → 'Ss', as Python). */
function titleChar(c: string): string {
  const digraph: Record<string, string> = { Ǆ: 'ǅ', ǅ: 'ǅ', ǆ: 'ǅ', Ǉ: 'ǈ', ǈ: 'ǈ', ǉ: 'ǈ', Ǌ: 'ǋ', ǋ: 'ǋ', ǌ: 'ǋ', Ǳ: 'ǲ', ǲ: 'ǲ', ǳ: 'ǲ' };
  const d = digraph[c];
  if (d) return d;
  const up = Array.from(c.toUpperCase());
  return up[0]! + up.slice(1).join('').toLowerCase();
}

/** Python's `str.capitalize()` (3.8+): the first character in titlecase, the rest lower case (Jinja2's `capitalize` filter). */
export function pyCapitalize(s: string): string {
  const cps = Array.from(s);
  if (cps.length === 0) return '';
  return titleChar(cps[0]!) + cps.slice(1).join('').toLowerCase();
}

const CASED = /[\p{Lu}\p{Ll}\p{Lt}]/u;

/** Python's `str.title()`: a cased character after an uncased one starts a word (`"3d".title()` is `"3D"`). */
export function pyTitleMethod(s: string): string {
  let out = '';
  let prevCased = false;
  for (const c of s) {
    const cased = CASED.test(c);
    out += cased ? (prevCased ? c.toLowerCase() : titleChar(c)) : c;
    prevCased = cased;
  }
  return out;
}

/** Jinja2's `title` filter (not `str.title`): words begin after `-`, whitespace or `({[<`; each is `w[0].upper() + w[1:].lower()`. */
export function jinjaTitleFilter(s: string): string {
  return s
    .split(/([-\s({[<]+)/u)
    .filter((w) => w.length > 0)
    .map((w) => {
      const cps = Array.from(w);
      return cps[0]!.toUpperCase() + cps.slice(1).join('').toLowerCase();
    })
    .join('');
}

/** Python's `len(s)`: code points, not UTF-16 units. */
export function pyLen(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Python's `s[i]` (negative from the end), by code point; undefined when out of range (Jinja2 renders that as an undefined value). */
export function pyIndex(s: string, i: number): string | undefined {
  const cps = Array.from(s);
  const j = i < 0 ? cps.length + i : i;
  return j >= 0 && j < cps.length ? cps[j] : undefined;
}

/** Python's `repr(float)`: the shortest round-trip digits, exponent form below 1e-4 and from 1e16 on, `.0` on integral values. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = x.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  if (exp < -4 || exp >= 16) {
    return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const digits = mant.replace('-', '').replace('.', '');
  const sign = x < 0 ? '-' : '';
  const point = exp + 1;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Python's `repr(str)`: single quotes unless the text has `'` and no `"`; escapes as Python does. */
export function pyStrRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = q;
  for (const c of s) {
    const cp = c.codePointAt(0)!;
    if (c === q || c === '\\') out += '\\' + c;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c !== ' ' && NON_PRINTABLE.test(c)) out += cp < 0x100 ? `\\x${cp.toString(16).padStart(2, '0')}` : cp < 0x10000 ? `\\u${cp.toString(16).padStart(4, '0')}` : `\\U${cp.toString(16).padStart(8, '0')}`;
    else out += c;
  }
  return out + q;
}

/** A Jinja value as plain data: what {@link pyStr} prints. `int` marks values Python holds as int (JS numbers cannot say). */
export type PyValue = null | undefined | boolean | string | { int: number } | { float: number } | PyValue[] | Map<string, PyValue>;

/** Python's `repr(v)` for the values a template can hold. */
export function pyRepr(v: PyValue): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'string') return pyStrRepr(v);
  return pyStr(v);
}

/** Python's `str(v)`, as Jinja2 prints `{{ v }}` (strings as they are, `True`, `None`, `[1, 'a']`, `{'k': 2.0}`); undefined prints nothing. */
export function pyStr(v: PyValue): string {
  if (v === undefined) return '';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${pyStrRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  if ('int' in v) return String(v.int);
  return pyFloatRepr(v.float);
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * Python's `datetime.strftime` in the C locale, for `strftime_now` (Llama 3.1's templates print
 * `strftime_now("%d %b %Y")`). Directives: a A b B d e H I j m M p S w y Y %; any other is left
 * as written (glibc's behaviour).
 */
export function pyStrftime(d: Date, format: string): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  const start = new Date(d.getFullYear(), 0, 1);
  const yday = Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() - start.getTime()) / 86_400_000) + 1;
  return format.replace(/%([a-zA-Z%])/g, (all, c: string) => {
    switch (c) {
      case 'a': return DAYS[d.getDay()]!.slice(0, 3);
      case 'A': return DAYS[d.getDay()]!;
      case 'b': return MONTHS[d.getMonth()]!.slice(0, 3);
      case 'B': return MONTHS[d.getMonth()]!;
      case 'd': return p2(d.getDate());
      case 'e': return String(d.getDate()).padStart(2, ' ');
      case 'H': return p2(d.getHours());
      case 'I': return p2(d.getHours() % 12 || 12);
      case 'j': return String(yday).padStart(3, '0');
      case 'm': return p2(d.getMonth() + 1);
      case 'M': return p2(d.getMinutes());
      case 'p': return d.getHours() < 12 ? 'AM' : 'PM';
      case 'S': return p2(d.getSeconds());
      case 'w': return String(d.getDay());
      case 'y': return p2(d.getFullYear() % 100);
      case 'Y': return String(d.getFullYear());
      case '%': return '%';
      default: return all;
    }
  });
}
