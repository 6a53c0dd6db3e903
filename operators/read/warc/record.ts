/**
 * The WARC record parser (WARC 0.17–1.1 as written by Heritrix, wget, wpull, warcio, Common
 * Crawl): version line, named fields, `Content-Length` bytes of block, two CRLFs. It is lenient
 * where real files are (LF-only line ends, missing record separators, continuation lines) and
 * strict where leniency would lose data silently: a record whose block is not followed by a
 * separator or a next record (a wrong `Content-Length`) is skipped with its reason and parsing
 * resynchronises on the next `WARC/` line, so the records after the damage are still read.
 */
import type { Json } from '../../../engine/types.ts';
import type { SegmentReader } from './bytes.ts';

/** Header fields of a record: names lower-cased; repeated fields keep every value. */
export type Fields = Map<string, string[]>;

/** One parsed WARC record. */
export interface WarcRecord {
  version: string;
  fields: Fields;
  /** The block, or undefined when it was not buffered (unwanted, or over the size limit). */
  block: Buffer | undefined;
  /** Declared block length. */
  length: number;
  /** Locator suffix (`#offset`, see SegmentReader.locate). */
  locator: string;
  /** Compressed offset of the record's member (or plain byte offset). */
  offset: number;
  /** Damage that was worked around (e.g. a Content-Length off in an LF-only file). */
  warnings?: string[];
}

/** Something the parser could not read, with where and why. */
export interface RecordSkip {
  reason: string;
  details: Record<string, Json>;
}

export type ParseEvent = { kind: 'record'; record: WarcRecord } | { kind: 'skip'; skip: RecordSkip };

export interface ParseOptions {
  /** Blocks longer than this are streamed past instead of buffered (default 32 MiB). */
  maxRecordBytes?: number;
  /** Largest header accepted before the record is declared malformed (default 1 MiB). */
  maxHeaderBytes?: number;
  /** Whether the block of a record with these fields is needed (default: all). */
  want?(fields: Fields): boolean;
}

/** First value of a field (names are case-insensitive). */
export function field(fields: Fields, name: string): string | undefined {
  return fields.get(name.toLowerCase())?.[0];
}

const WARC_LINE = Buffer.from('WARC/');
const NL_WARC = Buffer.from('\nWARC/');

/** Parses header lines (after the version line) into fields; returns undefined on a line that is not a field. */
export function parseFields(lines: string[], from: number): { fields: Fields; bad: number } {
  const fields: Fields = new Map();
  let last: string[] | undefined;
  let bad = 0;
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    if ((line[0] === ' ' || line[0] === '\t') && last) {
      last[last.length - 1] += ' ' + line.trim();
      continue;
    }
    const c = line.indexOf(':');
    if (c <= 0) {
      bad++;
      continue;
    }
    const name = line.slice(0, c).trim().toLowerCase();
    const value = line.slice(c + 1).trim();
    const arr = fields.get(name);
    if (arr) arr.push(value);
    else fields.set(name, [value]);
    last = fields.get(name);
  }
  return { fields, bad };
}

/** Index (relative) of the end of a header block (`\r\n\r\n` or `\n\n`) and its terminator length. */
function headerEnd(r: SegmentReader, from: number): { at: number; len: number } | undefined {
  // The first line end tells CRLF from LF-only records; searching for the other terminator
  // would scan the whole block (measured: 2% of read time on CRLF files).
  const nl = r.indexOf('\n');
  if (nl < 0) return undefined;
  if (nl > 0 && r.buf[r.off + nl - 1] === 13) {
    const a = r.indexOf('\r\n\r\n', from);
    return a >= 0 ? { at: a, len: 4 } : undefined;
  }
  const b = r.indexOf('\n\n', from);
  return b >= 0 ? { at: b, len: 2 } : undefined;
}

/**
 * Positions the reader at the next `WARC/` line start. Returns the number of non-whitespace
 * bytes skipped to get there (0 when records follow each other properly), or -1 at the end.
 */
async function seekRecord(r: SegmentReader): Promise<{ skipped: number; junk: boolean; found: boolean }> {
  let skipped = 0;
  let junk = false;
  for (;;) {
    if (r.avail < 5 && !(await r.fill(5))) {
      if (r.avail > 0) {
        junk ||= r.buf.subarray(r.off).some((c) => c !== 10 && c !== 13 && c !== 32 && c !== 9);
        skipped += r.avail;
        r.take(r.avail);
      }
      return { skipped, junk, found: false };
    }
    // separators between records: CR / LF / whitespace
    let i = r.off;
    while (i < r.buf.length && (r.buf[i] === 13 || r.buf[i] === 10 || r.buf[i] === 32 || r.buf[i] === 9)) i++;
    const ws = i - r.off;
    skipped += ws;
    r.take(ws);
    if (r.avail < 5 && !(await r.fill(5))) continue;
    if (r.buf.compare(WARC_LINE, 0, 5, r.off, r.off + 5) === 0) return { skipped, junk, found: true };
    junk = true;
    const j = r.indexOf(NL_WARC);
    if (j >= 0) {
      skipped += j + 1;
      r.take(j + 1);
      return { skipped, junk, found: true };
    }
    // keep the last 5 bytes: "\nWARC" may straddle the window end
    const n = Math.max(0, r.avail - 5);
    skipped += n;
    r.take(n);
    if (!(await r.more())) {
      skipped += r.avail;
      r.take(r.avail);
      return { skipped, junk, found: false };
    }
  }
}

/**
 * Reads WARC records from `r` until the end, yielding each record (block buffered when wanted and
 * within the size limit) and each skip (malformed or truncated record, lost bytes) with its reason.
 */
export async function* parseWarc(r: SegmentReader, opts: ParseOptions = {}): AsyncGenerator<ParseEvent> {
  const maxRecord = opts.maxRecordBytes ?? 32 << 20;
  const maxHeader = opts.maxHeaderBytes ?? 1 << 20;
  let afterSkip = false;
  for (;;) {
    const seek = await seekRecord(r);
    // bytes skipped to resynchronise right after a bad record belong to that record's report
    if (seek.junk && !afterSkip) yield { kind: 'skip', skip: { reason: 'warc: bytes outside any record', details: { at: r.offsetOf(r.pos - seek.skipped), bytes: seek.skipped } } };
    if (!seek.found) {
      if (r.gap) {
        yield gapSkip(r);
        continue;
      }
      return;
    }
    afterSkip = true;
    const start = r.pos;
    const locator = r.locate(start);
    const offset = r.offsetOf(start);
    // header
    let he = headerEnd(r, 0);
    for (let seen = r.avail; !he && r.avail < maxHeader && (await r.more()); seen = r.avail) he = headerEnd(r, Math.max(0, seen - 4));
    if (!he) he = headerEnd(r, 0);
    if (!he) {
      if (r.avail >= maxHeader) {
        yield skip('warc: header too long', locator, offset, { bytes: r.avail });
        r.take(5);
        continue;
      }
      yield skip('warc: truncated record header', locator, offset, { bytes: r.avail });
      r.take(r.avail);
      if (r.gap) yield gapSkip(r);
      continue;
    }
    const lines = r.buf.toString('utf8', r.off, r.off + he.at).split(/\r?\n/);
    const version = lines[0]!.trim();
    const { fields, bad } = parseFields(lines, 1);
    const clRaw = field(fields, 'content-length');
    const length = clRaw !== undefined && /^\d+$/.test(clRaw) ? Number(clRaw) : NaN;
    if (!/^WARC\/\d+\.\d+$/.test(version) || !Number.isSafeInteger(length) || bad > 0 && !fields.has('warc-type')) {
      const reason = !/^WARC\/\d+\.\d+$/.test(version) ? 'warc: bad version line' : !Number.isSafeInteger(length) ? 'warc: missing or invalid Content-Length' : 'warc: malformed header';
      yield skip(reason, locator, offset, { version: version.slice(0, 40), contentLength: clRaw ?? null });
      r.take(5); // resynchronise on the next WARC/ line
      continue;
    }
    const headLen = he.at + he.len;
    const want = opts.want ? opts.want(fields) : true;
    let block: Buffer | undefined;
    let warnings: string[] | undefined;
    if (length <= maxRecord) {
      const whole = await r.fill(headLen + length);
      // the separator is usually in the same member as the block: look further only when needed
      if (whole && separated(r, headLen + length) !== true) await r.fill(headLen + length + 9);
      if (!whole || separated(r, headLen + length) !== true) {
        // LF-only files (CRLF converted to LF after writing) keep the old Content-Length
        const lf = he.len === 2 ? await lfBlock(r, headLen, length, maxRecord) : undefined;
        if (lf) {
          warnings = [`warc: Content-Length ${length} does not match the block (${lf.length} bytes) in an LF-only record; block taken up to the next record or the end`];
          if (want) block = r.buf.subarray(r.off + headLen, r.off + headLen + lf.length);
          r.take(lf.consumed);
        } else if (!whole) {
          yield skip('warc: truncated record', locator, offset, { expected: length, got: Math.max(0, r.avail - headLen), type: field(fields, 'warc-type') ?? null });
          if (r.gap) yield gapSkip(r);
          else r.take(Math.min(r.avail, headLen)); // a next record may still be inside what we have
          continue;
        } else {
          yield skip('warc: block not followed by a record separator (wrong Content-Length?)', locator, offset, { contentLength: length, type: field(fields, 'warc-type') ?? null });
          r.take(headLen);
          continue;
        }
      } else {
        if (want) block = r.buf.subarray(r.off + headLen, r.off + headLen + length);
        r.take(headLen + length);
      }
    } else {
      r.take(headLen);
      const got = await r.discard(length);
      if (got < length) {
        yield skip('warc: truncated record', locator, offset, { expected: length, got, type: field(fields, 'warc-type') ?? null });
        if (r.gap) yield gapSkip(r);
        continue;
      }
    }
    afterSkip = false;
    yield { kind: 'record', record: warnings ? { version, fields, block, length, locator, offset, warnings } : { version, fields, block, length, locator, offset } };
  }
}

/**
 * For an LF-only record whose declared length misses the record separator: the block that ends
 * at the next `WARC/` line (or at the end of input), if its length is within 20% + 64 bytes of
 * the declared one (a CRLF→LF conversion shortens a block by its line count).
 */
async function lfBlock(r: SegmentReader, headLen: number, length: number, maxRecord: number): Promise<{ length: number; consumed: number } | undefined> {
  // Character counts run up to 4x below byte counts (UTF-8): look that far for the next record
  // (never buffering more than the record size limit).
  const slack = Math.ceil(length * 0.2) + 64;
  const reach = Math.min(length * 4 + slack, maxRecord);
  await r.fill(headLen + reach + 8);
  const next = r.indexOf(NL_WARC, headLen);
  let end: number;
  let consumed: number;
  if (next >= 0 && next - headLen <= reach) {
    end = next + 1;
    consumed = next + 1;
  } else if (next < 0 && r.eof && r.avail - headLen <= reach) {
    end = r.avail;
    consumed = r.avail;
  } else return undefined;
  while (end > headLen && r.buf[r.off + end - 1] === 10 && consumed - end < 2) end--;
  const got = end - headLen;
  // bytes (CRLF→LF) or characters (a writer that counted code units) close to the declared length
  const near = (n: number) => Math.abs(n - length) <= slack;
  if (!near(got) && !near(r.buf.toString('utf8', r.off + headLen, r.off + end).length)) return undefined;
  return { length: got, consumed };
}

/**
 * Whether the bytes at relative index `at` are a record separator, a next record or the end:
 * true, false, or 'more' when the buffered bytes cannot tell yet.
 */
function separated(r: SegmentReader, at: number): boolean | 'more' {
  let i = r.off + at;
  const end = r.buf.length;
  let ws = 0;
  while (i < end && ws < 8 && (r.buf[i] === 13 || r.buf[i] === 10)) {
    i++;
    ws++;
  }
  if (ws >= 2) return true;
  if (i >= end) return r.blocked ? true : 'more'; // end of input (or of what a gap left)
  // a missing or short separator is tolerated when the next record starts right here
  if (end - i < 5) return r.blocked ? false : 'more';
  return r.buf.compare(WARC_LINE, 0, 5, i, i + 5) === 0;
}

function skip(reason: string, locator: string, offset: number, details: Record<string, Json>): ParseEvent {
  return { kind: 'skip', skip: { reason, details: { offset, locator, ...details } } };
}

function gapSkip(r: SegmentReader): ParseEvent {
  const g = r.acceptGap()!;
  return { kind: 'skip', skip: { reason: g.reason, details: g.details } };
}
