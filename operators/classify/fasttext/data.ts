/**
 * Labeled examples from a file, in either of the two formats `sluice classify` accepts:
 * fastText's (`__label__x [__label__y …] text` per line; like fastText, a `__label__` token
 * anywhere on the line is a label) or JSONL (`{"text": …, "label": …}`, label a string, a number
 * or an array of them). The format is the first non-blank line's: `{` means JSONL. gzip and zstd
 * inputs are decompressed. A line without a label, with invalid JSON or without a text is skipped
 * and reported through `onSkip` with its line number and reason, never silently dropped.
 */
import { openInput } from '../../read/open.ts';
import { lines } from '../../read/lines.ts';
import { LABEL_PREFIX } from './args.ts';
import type { Example } from './train.ts';

/** A skipped input line. */
export interface SkippedLine {
  line: number;
  reason: string;
}

/** Parses one fastText-format line; null when it has no label. */
export function parseFastTextLine(line: string): Example | null {
  const labels: string[] = [];
  const words: string[] = [];
  for (const tok of line.split(/[ \t\v\f\r\0]+/)) {
    if (!tok) continue;
    if (tok.startsWith(LABEL_PREFIX)) labels.push(tok.slice(LABEL_PREFIX.length));
    else words.push(tok);
  }
  if (!labels.length) return null;
  return { text: words.join(' '), label: labels.length === 1 ? labels[0]! : labels };
}

function fromJson(v: unknown): Example | string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  if (typeof o.text !== 'string') return 'no string "text" field';
  const l = o.label;
  const ok = (x: unknown) => (typeof x === 'string' && x.length > 0) || (typeof x === 'number' && Number.isFinite(x));
  if (!(ok(l) || (Array.isArray(l) && l.length > 0 && l.every(ok)))) return 'no "label" field (a string, a number or an array of them)';
  return { text: o.text, label: l as Example['label'] };
}

/** Yields the labeled examples of `uri` (local path or s3://), reporting skipped lines. */
export async function* readLabeled(uri: string, onSkip: (s: SkippedLine) => void): AsyncGenerator<Example> {
  const input = await openInput(uri);
  let format: 'fasttext' | 'jsonl' | undefined;
  let n = 0;
  const dec = new TextDecoder();
  for await (const l of lines(input.chunks)) {
    n++;
    if (l.data === null) {
      onSkip({ line: n, reason: `line of ${l.length} bytes is too long` });
      continue;
    }
    const text = dec.decode(l.data).replace(/\r$/, '');
    if (!text.trim()) continue;
    format ??= text.trimStart().startsWith('{') ? 'jsonl' : 'fasttext';
    if (format === 'jsonl') {
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch (e) {
        onSkip({ line: n, reason: `invalid JSON: ${(e as Error).message}` });
        continue;
      }
      const ex = fromJson(v);
      if (typeof ex === 'string') onSkip({ line: n, reason: ex });
      else yield ex;
    } else {
      const ex = parseFastTextLine(text);
      if (!ex) onSkip({ line: n, reason: `no ${LABEL_PREFIX} label` });
      else yield ex;
    }
  }
}
