/**
 * Cutting removed spans out of a document's text, for the dedup stages that work below the
 * document (`dedup.paragraphs`, `dedup.substrings`). Every removed span is an audit drop of its
 * own (the span's text, so it counts in the audit's dropped bytes) naming the document that kept
 * it first; a document left with only whitespace is dropped whole with its own reason.
 */
import { docBytes } from '../../engine/operator.ts';
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
  const text = doc.text;
  const sorted = cuts.slice().sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: Cut[] = [];
  for (const c of sorted) {
    if (c.start < 0 || c.end > text.length || c.start > c.end) throw new Error(`${operator}: span [${c.start}, ${c.end}) outside document ${doc.id} of ${text.length} chars`);
    const last = merged[merged.length - 1];
    if (last && c.start <= last.end) last.end = Math.max(last.end, c.end);
    else merged.push({ ...c });
  }
  let out = '';
  let at = 0;
  for (const c of merged) {
    if (c.end === c.start) continue;
    out += text.slice(at, c.start);
    const span = text.slice(c.start, c.end);
    audit.drop(operator, { id: doc.id, text: span, meta: doc.meta }, reasons.span, undefined, { ...c.details, start: c.start, end: c.end });
    at = c.end;
  }
  out += text.slice(at);
  if (out.trim().length === 0) {
    audit.drop(operator, { ...doc, text: out }, reasons.emptied, undefined, { spans: merged.length, removedChars: text.length - out.length });
    return null;
  }
  const { tokens: _t, ...rest } = doc;
  return { ...rest, text: out };
}

/** Counts a batch's docs and bytes in and out for the audit's per-operator flow. */
export function auditFlow(audit: AuditSink, operator: string, input: Doc[], output: Doc[]): void {
  let bytesIn = 0;
  let bytesOut = 0;
  for (const d of input) bytesIn += docBytes(d);
  for (const d of output) bytesOut += docBytes(d);
  audit.flow?.(operator, input.length, bytesIn, output.length, bytesOut);
}
