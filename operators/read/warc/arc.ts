/**
 * The ARC record parser (Internet Archive ARC v1 and v2, plain or one gzip member per record):
 * a header line `URL IP date mime length` (v2 adds result code, checksum, location, offset and
 * filename before the length), `length` bytes of HTTP response, a newline. The version comes
 * from the `filedesc://` record; URLs with spaces (seen in the wild) are taken as everything
 * before the fixed trailing fields. Records are mapped onto WARC-style fields so docs are built
 * by the same code as WARC docs.
 */
import type { Json } from '../../../engine/types.ts';
import type { SegmentReader } from './bytes.ts';
import type { Fields } from './record.ts';

/** One parsed ARC record, as WARC-style fields plus its block. */
export interface ArcRecord {
  fields: Fields;
  block: Buffer | undefined;
  locator: string;
  offset: number;
  /** True for the leading `filedesc://` record. */
  filedesc: boolean;
  warnings?: string[];
}

export type ArcEvent = { kind: 'record'; record: ArcRecord } | { kind: 'skip'; skip: { reason: string; details: Record<string, Json> } };

/** `20140216050221` → `2014-02-16T05:02:21Z` (longer stamps are cut to seconds). */
export function arcDate(d: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?/.exec(d);
  if (!m) return undefined;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}Z`;
}

/** Reads ARC records until the end, yielding records and skips with their reasons. */
export async function* parseArc(r: SegmentReader, opts: { maxRecordBytes?: number } = {}): AsyncGenerator<ArcEvent> {
  const maxRecord = opts.maxRecordBytes ?? 32 << 20;
  let version = 1;
  let first = true;
  let junk: { offset: number; locator: string; bytes: number } | undefined;
  let afterSkip = false;
  const flushJunk = (): ArcEvent | undefined => {
    const j = junk;
    junk = undefined;
    if (!j || afterSkip) return undefined;
    return { kind: 'skip', skip: { reason: 'arc: bytes outside any record', details: { offset: j.offset, locator: j.locator, bytes: j.bytes } } };
  };
  for (;;) {
    // blank lines between records
    for (;;) {
      if (r.avail === 0 && !(await r.more())) break;
      let i = r.off;
      while (i < r.buf.length && (r.buf[i] === 10 || r.buf[i] === 13)) i++;
      r.take(i - r.off);
      if (r.avail > 0) break;
    }
    if (r.avail === 0) {
      const j = flushJunk();
      if (j) yield j;
      if (r.gap) {
        const g = r.acceptGap()!;
        yield { kind: 'skip', skip: { reason: g.reason, details: g.details } };
        continue;
      }
      return;
    }
    const start = r.pos;
    const locator = r.locate(start);
    const offset = r.offsetOf(start);
    let nl = r.indexOf('\n');
    for (let seen = r.avail; nl < 0 && r.avail < 65536 && (await r.more()); seen = r.avail) nl = r.indexOf('\n', seen);
    if (nl < 0) {
      const n = r.avail;
      r.take(n);
      yield { kind: 'skip', skip: { reason: r.gap || r.eof ? 'arc: truncated record header' : 'arc: header line too long', details: { offset, locator, bytes: n } } };
      continue;
    }
    const line = r.buf.toString('utf8', r.off, r.off + nl).replace(/\r$/, '');
    const parts = line.split(/\s+/).filter(Boolean);
    const fixed = version === 2 ? 9 : 4;
    const tail = parts.slice(parts.length - fixed);
    const url = parts.slice(0, parts.length - fixed).join('%20');
    // a header line: a URL, then the fixed fields with a numeric date
    if (parts.length <= fixed || !/^[a-z][a-z0-9+.-]*:/i.test(url) || !/^\d{8,}$/.test(tail[1]!)) {
      r.take(nl + 1);
      if (junk) junk.bytes += nl + 1;
      else junk = { offset, locator, bytes: nl + 1 };
      first = false;
      continue;
    }
    const j = flushJunk();
    if (j) yield j;
    const len = tail[tail.length - 1]!;
    const length = /^\d+$/.test(len) ? Number(len) : NaN;
    if (!Number.isSafeInteger(length)) {
      r.take(nl + 1);
      yield { kind: 'skip', skip: { reason: 'arc: invalid record length', details: { offset, locator, url, length: len } } };
      first = false;
      afterSkip = true;
      continue;
    }
    afterSkip = false;
    const [ip, date, mime] = tail as [string, string, string];
    const headLen = nl + 1;
    let block: Buffer | undefined;
    let warnings: string[] | undefined;
    if (length <= maxRecord) {
      const whole = await r.fill(headLen + length);
      const short = r.avail - headLen;
      if (!whole && r.eof && !r.gap && length - short <= Math.ceil(length * 0.05) + 16 && !r.buf.includes(13, r.off + headLen)) {
        // an LF-only file (CRLF converted to LF after writing): the length counted the CRs
        warnings = [`arc: length ${length} exceeds the ${short} bytes left in an LF-only file; block taken to the end`];
        block = r.buf.subarray(r.off + headLen, r.off + headLen + short);
        r.take(headLen + short);
      } else if (!whole) {
        yield { kind: 'skip', skip: { reason: 'arc: truncated record', details: { offset, locator, url, expected: length, got: Math.max(0, r.avail - headLen) } } };
        afterSkip = true;
        if (r.gap) {
          const g = r.acceptGap()!;
          yield { kind: 'skip', skip: { reason: g.reason, details: g.details } };
        } else r.take(headLen);
        continue;
      } else {
        block = r.buf.subarray(r.off + headLen, r.off + headLen + length);
        r.take(headLen + length);
      }
    } else {
      r.take(headLen);
      const got = await r.discard(length);
      if (got < length) {
        yield { kind: 'skip', skip: { reason: 'arc: truncated record', details: { offset, locator, url, expected: length, got } } };
        afterSkip = true;
        continue;
      }
    }
    const filedesc = url.startsWith('filedesc:');
    if (filedesc && first && block) {
      const v = /^\s*(\d)\s/.exec(block.toString('latin1', 0, 64));
      if (v && v[1] === '2') version = 2;
    }
    first = false;
    const isHttp = !!block && /^HTTP\/\d/.test(block.toString('latin1', 0, 8));
    const fields: Fields = new Map([
      ['warc-type', [filedesc ? 'warcinfo' : 'response']],
      ['warc-target-uri', [url]],
      ['content-type', [isHttp ? 'application/http; msgtype=response' : mime]],
      ['warc-identified-payload-type', [mime]],
      ['warc-ip-address', [ip]],
    ]);
    const iso = arcDate(date);
    if (iso) fields.set('warc-date', [iso]);
    yield { kind: 'record', record: warnings ? { fields, block, locator, offset, filedesc, warnings } : { fields, block, locator, offset, filedesc } };
  }
}
