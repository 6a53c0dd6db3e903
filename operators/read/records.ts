/**
 * JSON Lines records of an opened input, shared by every JSONL reader (`read.jsonl`, `sluice
 * apply`, `sluice tokenizer train`, contamination corpora and benchmark files), so they all
 * skip and name bad input the same way. Each line is one event: a parsed value, or a skip with
 * its reason and details. Reasons:
 * - `read.invalidUtf8`: the line is not valid UTF-8 (e.g. a Latin-1 file read as UTF-8; give
 *   the reader's `encoding` option instead); `read.invalidEncoding` for a line of a UTF-16/32
 *   input that held an unpaired surrogate or a value that is no code point;
 * - `read.lineTooLong`: the line is longer than `maxLineBytes` (its bytes are never held);
 * - `invalid JSON`: the line does not parse;
 * - `read.truncated` / `read.corrupt`: the compressed stream ended early or is damaged; this
 *   is the last event, and its details say how far reading got.
 */
import { isUtf8 } from 'node:buffer';
import type { Json } from '../../engine/types.ts';
import { firstInvalidUtf8, InputReadError, type OpenedInput } from './open.ts';
import { lines } from './lines.ts';
import { parseJsonLine } from './json-line.ts';

/** Default longest JSONL line, in bytes: 256 MiB, well above any real document, well below what exhausts a worker's heap. */
export const DEFAULT_MAX_LINE_BYTES = 256 << 20;

/** A line's parsed JSON value. */
export interface RecordEvent {
  kind: 'record';
  /** Byte offset of the line in the (decompressed, UTF-8) stream. */
  offset: number;
  /** 1-based line number. */
  line: number;
  value: unknown;
  /** UTF-8 bytes of the line. */
  bytes: number;
  /** The line's first bytes, for messages. */
  raw: Buffer;
}

/** A line (or the rest of the input) that could not be read. */
export interface SkipEvent {
  kind: 'skip';
  offset: number;
  line: number;
  reason: string;
  details: Record<string, Json>;
  /** The line's first bytes, when there is a line. */
  raw?: Buffer;
}

export type JsonlEvent = RecordEvent | SkipEvent;

/** Options of `jsonlRecords`. */
export interface JsonlRecordsOptions {
  /** Offset of the first byte (a range task's start; default 0). */
  base?: number;
  /** Longest line kept (default `DEFAULT_MAX_LINE_BYTES`). */
  maxLineBytes?: number;
  /** Skips the first line (a range task's partial line). */
  skipFirst?: boolean;
  /** Stops before the first line starting at or after this offset. */
  end?: number;
}

/**
 * Parses the lines of an opened input as JSON; blank lines are ignored. A damaged compressed
 * stream ends the events with a `read.truncated` or `read.corrupt` skip (any line cut by the
 * damage is part of it); other errors (an I/O failure) are thrown.
 */
export async function* jsonlRecords(input: OpenedInput, opts: JsonlRecordsOptions = {}): AsyncGenerator<JsonlEvent> {
  const max = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const utf8 = input.encoding === 'utf-8' || input.encoding === 'latin1' || input.encoding === 'windows-1252';
  let n = 0;
  let first = opts.skipFirst ?? false;
  let lastEnd = opts.base ?? 0;
  try {
    for await (const l of lines(input.chunks, { base: opts.base, maxLineBytes: max })) {
      if (first) {
        first = false;
        continue;
      }
      if (opts.end !== undefined && l.offset >= opts.end) return;
      n++;
      lastEnd = l.offset + l.length + 1;
      if (l.data === null) {
        yield { kind: 'skip', offset: l.offset, line: n, reason: 'read.lineTooLong', details: { error: `a line of ${l.length} bytes, over maxLineBytes ${max}`, bytes: l.length, maxLineBytes: max } };
        continue;
      }
      const buf = l.data;
      if (buf.length === 0 || (buf.length === 1 && buf[0] === 0x0d)) continue;
      if (!isUtf8(buf)) {
        const at = firstInvalidUtf8(buf);
        yield {
          kind: 'skip',
          offset: l.offset,
          line: n,
          reason: utf8 ? 'read.invalidUtf8' : 'read.invalidEncoding',
          raw: buf.subarray(0, 80),
          details: {
            error: utf8
              ? `not valid UTF-8 at byte ${at} of the line (${buf.subarray(at, at + 4).toString('hex')}); a Latin-1 or Windows-1252 file needs encoding 'latin1' or 'windows-1252'`
              : `not valid ${input.encoding} at byte ${at} of the line (an unpaired surrogate or a value that is no code point)`,
            encoding: input.encoding,
            byteOffset: at,
          },
        };
        continue;
      }
      let value: unknown;
      try {
        value = parseJsonLine(buf);
      } catch (e) {
        yield { kind: 'skip', offset: l.offset, line: n, reason: 'invalid JSON', details: { error: (e as Error).message, prefix: buf.subarray(0, 80).toString('utf8') }, raw: buf.subarray(0, 80) };
        continue;
      }
      yield { kind: 'record', offset: l.offset, line: n, value, bytes: buf.length, raw: buf.subarray(0, 80) };
    }
  } catch (e) {
    if (!(e instanceof InputReadError)) throw e;
    yield {
      kind: 'skip',
      offset: lastEnd,
      line: n + 1,
      reason: e.kind === 'truncated' ? 'read.truncated' : 'read.corrupt',
      details: { error: e.message, compression: e.compression, compressedBytes: e.rawBytes, decompressedBytes: e.bytes, linesRead: n, lastCompleteLineEnd: lastEnd },
    };
  }
}

/** Counts what a reader read and skipped, to fail an input of which nothing could be read. */
export class ReadTally {
  records = 0;
  skipped = 0;
  readonly reasons: Record<string, number> = {};
  first: SkipEvent | undefined;
  /** The first skipped line held NUL bytes: a UTF-16/32 file without a byte-order mark, likely. */
  private nulHint = false;

  ok(): void {
    this.records++;
  }
  skip(e: SkipEvent, raw: Buffer | undefined = e.raw): void {
    this.skipped++;
    this.reasons[e.reason] = (this.reasons[e.reason] ?? 0) + 1;
    if (!this.first) {
      this.first = e;
      if (raw && raw.includes(0)) this.nulHint = true;
    }
  }
  /**
   * Throws when lines were skipped and none was read: an input that fails entirely is an error
   * naming it, the reasons and the first failure, never an empty success.
   */
  check(label: string, input?: { compression: string; uri: string }): void {
    if (this.records > 0 || this.skipped === 0) return;
    const reasons = Object.entries(this.reasons).map(([r, k]) => `${r} ×${k}`).join(', ');
    const f = this.first!;
    const detail = typeof f.details.error === 'string' ? f.details.error : JSON.stringify(f.details);
    const hints: string[] = [];
    if (this.nulHint) hints.push('the lines hold NUL bytes: UTF-16 or UTF-32 without a byte-order mark? give the encoding option');
    if (input && input.compression === 'none' && /\.(gz|zst|zstd)$/i.test(input.uri)) hints.push(`the name says compressed but the data does not start with a gzip or zstd header`);
    throw new Error(`${label}: no record could be read: ${this.skipped} record(s) skipped (${reasons}); first at line ${f.line}: ${f.reason}: ${detail}${hints.length ? ` (${hints.join('; ')})` : ''}`);
  }
}
