/**
 * Turns a WARC record into a Doc: the HTTP payload (or the block of a resource/conversion record)
 * decoded to text with a recorded charset decision, and provenance in `meta` (url, record id,
 * date, content type, HTTP status, `source` = file#offset). The crawler builds its docs with the
 * same function, so `crawl()` and `read.warc()` docs have one shape.
 */
import { createHash } from 'node:crypto';
import type { Doc, DocMeta, Json } from '../../../engine/types.ts';
import { decideCharset, decodeText } from './charset.ts';
import { HttpError, decodeContent, header, parseContentType, parseHttp } from './http.ts';
import { field, type Fields } from './record.ts';

/** What `docFromRecord` needs to know beyond the record. */
export interface DocOptions {
  /** Allowed MIME types (lower-case, no parameters); null = all. */
  mimeTypes: readonly string[] | null;
  /** Cap on the decoded payload size (content-coding output). */
  maxBytes: number;
}

/** A doc, a skip with its reason, or `filtered` (not wanted by the MIME allow-list). */
export type BuiltDoc =
  | { kind: 'doc'; doc: Doc; bytes: number }
  | { kind: 'skip'; reason: string; details: Record<string, Json> };

/** The default MIME allow-list: HTML. */
export const HTML_TYPES = ['text/html', 'application/xhtml+xml'] as const;

/** `<http://x>` → `http://x` (wget 1.14 wraps target URIs in angle brackets); trims spaces. */
export function cleanUri(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  let s = v.trim();
  if (s.startsWith('<') && s.endsWith('>')) s = s.slice(1, -1).trim();
  return s || undefined;
}

/** Guesses HTML from the first bytes when no type is declared. */
function sniff(body: Buffer): string | undefined {
  const head = body.toString('latin1', 0, Math.min(body.length, 1024)).trimStart().toLowerCase();
  if (/^(<!doctype html|<html|<head|<body|<!--)/.test(head) || /<html[\s>]/.test(head)) return 'text/html';
  return undefined;
}

/** Stable doc id: the record id, else a hash of the URL and the payload. */
export function docId(recordId: string | undefined, url: string | undefined, payload: Uint8Array): string {
  if (recordId) return recordId;
  const content = createHash('sha1').update(payload).digest('hex');
  return 'sha1:' + createHash('sha1').update(`${url ?? ''}\n${content}`).digest('hex');
}

/**
 * Builds the doc of a `response`, `resource`, `conversion` (or other) record whose block is
 * `block`; `source` is `<uri>#<offset>`. HTTP blocks (`Content-Type: application/http`) are
 * parsed, de-chunked and content-decoded.
 */
export function docFromRecord(fields: Fields, block: Buffer, source: string, opts: DocOptions): BuiltDoc {
  const type = (field(fields, 'warc-type') ?? '').toLowerCase();
  const url = cleanUri(field(fields, 'warc-target-uri'));
  const recordId = cleanUri(field(fields, 'warc-record-id'));
  const warcCt = field(fields, 'content-type');
  const where: Record<string, Json> = { source, url: url ?? null, recordId: recordId ?? null };
  let payload: Buffer;
  let mime: string | undefined;
  let charset: string | undefined;
  let status: number | undefined;
  let warnings: string[] = [];
  if (warcCt && /^application\/http\b/i.test(warcCt)) {
    let msg;
    try {
      msg = parseHttp(block);
    } catch (e) {
      if (e instanceof HttpError) return { kind: 'skip', reason: e.message, details: where };
      throw e;
    }
    status = msg.status;
    warnings = msg.warnings;
    ({ mime, charset } = parseContentType(header(msg.headers, 'content-type')));
    mime ??= field(fields, 'warc-identified-payload-type')?.toLowerCase();
    // a declared type outside the allow-list is rejected before any content decoding
    if (mime && opts.mimeTypes && !opts.mimeTypes.includes(mime)) return { kind: 'skip', reason: 'mime-not-allowed', details: { ...where, contentType: mime } };
    try {
      // a revisit (or a 304/HEAD) has no body to decode, whatever its headers say
      const coding = type === 'revisit' || msg.payload.length === 0 ? undefined : header(msg.headers, 'content-encoding');
      payload = decodeContent(msg.payload, coding, opts.maxBytes);
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      // a body labelled as compressed that is already plain text: keep it, say so
      if (sniff(msg.payload)) {
        payload = msg.payload;
        warnings.push(`${e.message}; payload is plain and kept`);
      } else return { kind: 'skip', reason: 'http: cannot decode Content-Encoding', details: { ...where, message: e.message } };
    }
  } else {
    payload = block;
    ({ mime, charset } = parseContentType(warcCt));
    if (type === 'conversion' && !mime) mime = 'text/plain';
  }
  mime ??= sniff(payload);
  if (opts.mimeTypes && !(mime && opts.mimeTypes.includes(mime))) {
    return { kind: 'skip', reason: 'mime-not-allowed', details: { ...where, contentType: mime ?? null } };
  }
  const html = !!mime && (mime.includes('html') || mime.includes('xml'));
  const textual = !mime || mime.startsWith('text/') || /xml|json|javascript|ecmascript|html/.test(mime);
  const decision = decideCharset(payload, charset, html, textual);
  const text = decodeText(payload, decision.charset);
  const date = field(fields, 'warc-date');
  const meta: DocMeta = {
    url,
    source,
    warcRecordId: recordId,
    warcType: type || undefined,
    warcDate: date,
    crawlDate: date,
    contentType: mime,
    httpStatus: status,
    charset: decision.charset,
    charsetSource: decision.source,
  };
  if (decision.rejected) meta.charsetRejected = decision.rejected;
  const langs = field(fields, 'warc-identified-content-language');
  if (langs) meta.languages = langs.split(',').map((s) => s.trim()).filter(Boolean);
  const refersTo = cleanUri(field(fields, 'warc-refers-to'));
  if (refersTo) meta.warcRefersTo = refersTo;
  if (warnings.length) meta.warnings = warnings;
  for (const k of Object.keys(meta)) if (meta[k] === undefined) delete meta[k];
  return { kind: 'doc', doc: { id: docId(recordId, url, payload), text, meta }, bytes: payload.length };
}
