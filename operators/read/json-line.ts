/**
 * JSON.parse for one JSONL line, with a fast path for very long lines. For a line of a few MB
 * or more, `JSON.parse` copies every string value out of the line: a 50 MB document is decoded
 * (Buffer → string), then copied again by the parser, and on a 2-core VM each copy of a string
 * that size costs ~0.1–0.4 s (strings over V8's regular-object limit live in the large-object
 * space). The fast path parses the line's top-level object itself and returns a string value
 * that holds no escape as a slice of the decoded line, which V8 shares instead of copying; any
 * other value (numbers, nested objects, strings with escapes) goes through `JSON.parse` on its
 * own slice. Whatever the fast path does not recognise falls back to `JSON.parse` of the whole
 * line, so the result, and every error message, is that of `JSON.parse`.
 */

/** Lines at least this long (in bytes) take the fast path: below it `JSON.parse` is as fast. */
export const LARGE_LINE_BYTES = 1 << 20;

/** Parses one line of JSON from its UTF-8 bytes; throws `JSON.parse`'s error when it is not JSON. */
export function parseJsonLine(buf: Buffer): unknown {
  const s = buf.toString('utf8');
  if (buf.length >= LARGE_LINE_BYTES) {
    const v = parseTopObject(s);
    if (v !== undefined) return v;
  }
  return JSON.parse(s);
}

const CONTROL = /[\u0000-\u001f]/;

function skipWs(s: string, i: number): number {
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
    else return i;
  }
}

/** Index of the quote closing the string that opens at `i`, or -1. */
function stringEnd(s: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = s.indexOf('"', j);
    if (q < 0) return -1;
    let k = q - 1;
    while (s.charCodeAt(k) === 0x5c) k--;
    if ((q - 1 - k) % 2 === 0) return q;
    j = q + 1;
  }
}

/** The value of the string literal `s[a..b]` (quotes included), or undefined when it is not valid. */
function stringValue(s: string, a: number, b: number): string | undefined {
  const inner = s.slice(a + 1, b);
  if (inner.indexOf('\\') < 0) return CONTROL.test(inner) ? undefined : inner;
  try {
    return JSON.parse(s.slice(a, b + 1)) as string;
  } catch {
    return undefined;
  }
}

/** End (exclusive) of the non-string JSON value starting at `i`, or -1. */
function valueEnd(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const d = s.charCodeAt(j);
      if (d === 0x22) {
        j = stringEnd(s, j);
        if (j < 0) return -1;
      } else if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        if (--depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < s.length) {
    const d = s.charCodeAt(j);
    if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d) break;
    j++;
  }
  return j > i ? j : -1;
}

/** The top-level object of `s`, or undefined when `s` is anything else or not plainly valid. */
function parseTopObject(s: string): Record<string, unknown> | undefined {
  let i = skipWs(s, 0);
  if (s.charCodeAt(i) !== 0x7b) return undefined;
  const obj: Record<string, unknown> = {};
  i = skipWs(s, i + 1);
  if (s.charCodeAt(i) === 0x7d) return skipWs(s, i + 1) === s.length ? obj : undefined;
  for (;;) {
    if (s.charCodeAt(i) !== 0x22) return undefined;
    const kEnd = stringEnd(s, i);
    if (kEnd < 0) return undefined;
    const key = stringValue(s, i, kEnd);
    if (key === undefined) return undefined;
    i = skipWs(s, kEnd + 1);
    if (s.charCodeAt(i) !== 0x3a) return undefined;
    i = skipWs(s, i + 1);
    let value: unknown;
    let end: number;
    if (s.charCodeAt(i) === 0x22) {
      const vEnd = stringEnd(s, i);
      if (vEnd < 0) return undefined;
      value = stringValue(s, i, vEnd);
      if (value === undefined) return undefined;
      end = vEnd + 1;
    } else {
      end = valueEnd(s, i);
      if (end < 0) return undefined;
      try {
        value = JSON.parse(s.slice(i, end));
      } catch {
        return undefined;
      }
    }
    // defineProperty, not assignment: a "__proto__" key is an own property, as JSON.parse makes it.
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
    i = skipWs(s, end);
    const c = s.charCodeAt(i);
    if (c === 0x2c) {
      i = skipWs(s, i + 1);
      continue;
    }
    if (c === 0x7d) return skipWs(s, i + 1) === s.length ? obj : undefined;
    return undefined;
  }
}
