/**
 * AlpacaEval's `annotations.json` (what `alpaca_eval` writes and what `sluice judge run` writes):
 * a JSON array of `{instruction, output_1, generator_1, output_2, generator_2, preference, …}`,
 * where output_1 is the baseline's answer, output_2 the evaluated model's, and `preference` is
 * 1 (baseline better) … 2 (model better), fractional when it comes from the judge's logprobs,
 * 0 or 1.5 for a draw, and null when the judge's answer could not be parsed.
 *
 * Reading is strict about the shape and lenient about values: a record that is not an object or
 * lacks a string instruction/output is skipped and listed with its reason; a preference that is
 * null, absent, or not a number is kept as NaN (AlpacaEval keeps such rows and leaves them out of
 * the rates), never guessed.
 */
import { readFileSync } from 'node:fs';

/** One pairwise judgement, as read. */
export interface Annotation {
  /** Position in the file (0-based). */
  index: number;
  instruction: string;
  /** The baseline's output. */
  output1: string;
  /** The evaluated model's output. */
  output2: string;
  generator1: string;
  generator2: string;
  /** As written: 1 … 2, 0 or 1.5 for a draw; NaN when null, absent or not numeric. */
  preference: number;
  /** Any other field of the record (dataset, annotator, raw_completion, …), kept for the report. */
  extra: Record<string, unknown>;
}

/** A record that could not be used, with why. */
export interface SkippedRecord {
  index: number;
  reason: string;
}

/** A file of annotations: the usable records and the skipped ones. */
export interface AnnotationSet {
  path: string;
  annotations: Annotation[];
  skipped: SkippedRecord[];
}

/** Supported input formats of `--format` (AlpacaEval's annotations.json is the only one). */
export const ANNOTATION_FORMATS = ['alpaca_eval'] as const;
export type AnnotationFormat = (typeof ANNOTATION_FORMATS)[number];

const KNOWN = new Set(['instruction', 'output_1', 'output_2', 'generator_1', 'generator_2', 'preference']);

/** A preference value as AlpacaEval reads it (`astype(float)`): numbers and numeric strings; anything else is NaN. */
export function parsePreference(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : NaN;
  }
  return NaN;
}

/** Parses the records of an annotations.json document (already JSON-decoded). `where` names the input in errors. */
export function parseAnnotations(doc: unknown, where: string): AnnotationSet {
  if (!Array.isArray(doc)) throw new Error(`${where}: expected a JSON array of AlpacaEval annotation records, got ${doc === null ? 'null' : typeof doc}`);
  const annotations: Annotation[] = [];
  const skipped: SkippedRecord[] = [];
  doc.forEach((r: unknown, index) => {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) return skipped.push({ index, reason: 'not an object' });
    const o = r as Record<string, unknown>;
    for (const k of ['instruction', 'output_1', 'output_2'] as const) {
      if (typeof o[k] !== 'string') return skipped.push({ index, reason: `${k} is ${o[k] === undefined ? 'missing' : `not a string (${o[k] === null ? 'null' : typeof o[k]})`}` });
    }
    const extra: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) if (!KNOWN.has(k)) extra[k] = v;
    annotations.push({
      index,
      instruction: o.instruction as string,
      output1: o.output_1 as string,
      output2: o.output_2 as string,
      generator1: typeof o.generator_1 === 'string' ? o.generator_1 : '',
      generator2: typeof o.generator_2 === 'string' ? o.generator_2 : '',
      preference: parsePreference(o.preference),
      extra,
    });
  });
  return { path: where, annotations, skipped };
}

/** Reads an AlpacaEval annotations.json file; a missing file or invalid JSON is an error naming the path. */
export function readAnnotations(path: string, format: AnnotationFormat = 'alpaca_eval'): AnnotationSet {
  switch (format) {
    case 'alpaca_eval': {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        throw new Error(`${path}: cannot read annotations (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch (e) {
        throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
      }
      return parseAnnotations(doc, path);
    }
    default: {
      const never: never = format;
      throw new Error(`unknown annotation format ${String(never)}`);
    }
  }
}

/**
 * Length of an output as AlpacaEval measures it: pandas `str.len()`, i.e. Unicode code points.
 * JavaScript's `.length` counts UTF-16 units and would count each emoji or astral character twice.
 */
export function outputLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}
