/**
 * Cutting removed spans out of a document's text, for the dedup stages that work below the
 * document (`dedup.paragraphs`, `dedup.substrings`). Every removed span is an audit drop of its
 * own (the span's text, so it counts in the audit's dropped bytes) naming the document that kept
 * it first; a document left with only whitespace is dropped whole with its own reason.
 */
import { docBytes } from '../../engine/operator.ts';
import type { Utf8Bytes } from '../../engine/parquet-flat.ts';
import type { AuditSink, Doc, Json } from '../../engine/types.ts';

/** A span `[start, end)` of UTF-16 offsets to remove, and what the audit says about it. */
export interface Cut {
  start: number;
  end: number;
  details: Record<string, Json>;
}

/** Drop reasons of one dedup-below-the-document operator. */
export interface CutReasons {
  /** A removed span, e.g. `dedup.duplicateParagraph`. */
  span: string;
  /** A document with nothing but whitespace left, e.g. `dedup.paragraphsEmptied`. */
  emptied: string;
}

/**
 * Removes `cuts` (any order, may overlap: overlapping and touching cuts merge, keeping the
 * details of the first) from `doc.text`. Audits each merged span under `operator` and returns
 * the shortened doc, or null when nothing but whitespace remains (audited as `reasons.emptied`).
 */
export function applyCuts(audit: AuditSink, operator: string, doc: Doc, cuts: Cut[], reasons: CutReasons): Doc | null {
  if (cuts.length === 0) return doc;
  // Callers mostly pass cuts already in order (units in document order): skip the sort then.
  let sorted = cuts;
  for (let i = 1; i < cuts.length; i++) {
    const a = cuts[i - 1]!;
    const b = cuts[i]!;
    if (a.start > b.start || (a.start === b.start && a.end > b.end)) {
      sorted = cuts.slice().sort((x, y) => x.start - y.start || x.end - y.end);
      break;
    }
  }
  const start = sorted.map((c) => c.start);
  const end = sorted.map((c) => c.end);
  return applyOrderedCuts(audit, operator, doc, sorted.length, start, end, (i, s, e) => JSON.stringify({ ...sorted[i]!.details, start: s, end: e }), reasons);
}

/**
 * The audit details of a merged span whose first cut is `i`, covering `[start, end)`, as JSON
 * text (an object ending in `start` and `end`, as `applyCuts` writes them), a string or its UTF-8
 * bytes (read before the next call, so one reused `JsonBytes` serves): callers with fixed fields
 * build it without an object or a `JSON.stringify` per span.
 */
export type SpanDetails = (i: number, start: number, end: number) => string | Utf8Bytes;

const utf8 = new TextDecoder();

/**
 * `applyCuts` for `n` cuts already in document order (by start, then end), given as parallel
 * arrays `start`/`end` (only the first `n` entries are read), with the details built by
 * `details` for the first cut of each merged span only. Same merging, audit records, order and
 * result as `applyCuts`; a cut out of order or outside the text is an error. For the paragraph
 * dedup, where a document's removed units come in order and touching units merge (on the bench
 * corpus 588,966 repeated lines make 281,546 spans): no Cut or details object per unit, and the
 * group id of a unit that merges into the previous span is never formatted.
 */
export function applyOrderedCuts(audit: AuditSink, operator: string, doc: Doc, n: number, start: ArrayLike<number>, end: ArrayLike<number>, details: SpanDetails, reasons: CutReasons): Doc | null {
  if (n === 0) return doc;
  const text = doc.text;
  const len = text.length;
  let out = '';
  let at = 0;
  let spans = 0;
  // The merged span being built: first cut `h`, range [hs, he).
  let h = -1;
  let hs = 0;
  let he = 0;
  // Checked before anything is audited, so a bad cut leaves no partial record of the document.
  for (let i = 0; i < n; i++) {
    const s = start[i]!;
    const e = end[i]!;
    if (s < 0 || e > len || s > e) throw new Error(`${operator}: span [${s}, ${e}) outside document ${doc.id} of ${len} chars`);
    if (i > 0 && (s < start[i - 1]! || (s === start[i - 1]! && e < end[i - 1]!))) throw new Error(`${operator}: cuts of document ${doc.id} out of order at [${s}, ${e})`);
  }
  for (let i = 0; i <= n; i++) {
    let s = 0;
    let e = 0;
    if (i < n) {
      s = start[i]!;
      e = end[i]!;
      if (h >= 0 && s <= he) {
        if (e > he) he = e;
        continue;
      }
    }
    if (h >= 0 && he !== hs) {
      out += text.slice(at, hs);
      // Sinks without `dropSpan` (tests, `sluice apply`) get the same record through `drop`.
      if (audit.dropSpan) audit.dropSpan(operator, doc, text.slice(hs, he), reasons.span, details(h, hs, he));
      else audit.drop(operator, { id: doc.id, text: text.slice(hs, he), meta: doc.meta }, reasons.span, undefined, detailsObject(details(h, hs, he)));
      at = he;
    }
    h = i;
    hs = s;
    he = e;
    spans++;
  }
  spans--; // the sentinel pass at i = n opened no span
  out += text.slice(at);
  // What trim() removes is exactly \s: no trimmed copy is made to find out.
  if (!/\S/.test(out)) {
    audit.drop(operator, { ...doc, text: out }, reasons.emptied, undefined, { spans, removedChars: len - out.length });
    return null;
  }
  if (!('tokens' in doc)) return { ...doc, text: out };
  const { tokens: _t, ...rest } = doc;
  return { ...rest, text: out };
}

/** Span details JSON as the object it writes (an error names the text when it is not one). */
function detailsObject(details: string | Utf8Bytes): Record<string, Json> {
  const json = typeof details === 'string' ? details : utf8.decode(details.bytes.subarray(0, details.length));
  const v: Json = JSON.parse(json);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`span details must be a JSON object, got ${json.slice(0, 80)}`);
  return v;
}

/** Counts a batch's docs and bytes in and out for the audit's per-operator flow. */
export function auditFlow(audit: AuditSink, operator: string, input: Doc[], output: Doc[]): void {
  let bytesIn = 0;
  let bytesOut = 0;
  for (const d of input) bytesIn += docBytes(d);
  for (const d of output) bytesOut += docBytes(d);
  audit.flow?.(operator, input.length, bytesIn, output.length, bytesOut);
}
