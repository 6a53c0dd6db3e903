/**
 * Splits a byte stream into lines, in time and memory linear in the input: the pieces of a line
 * that spans chunks are kept as a list and joined once, when its newline arrives. (Joining the
 * partial line with every new chunk, as an earlier version did, re-copied it per chunk: one
 * 50 MB line took 271 s and 720 MB.) A line longer than `maxLineBytes` is not kept at all: it
 * is reported with its length and no bytes, and its pieces are dropped as they arrive.
 */

/** One line: its byte offset in the stream, its bytes without the newline, or `null` when over the limit. */
export interface Line {
  offset: number;
  /** The line's bytes (a trailing `\r` included), or null when it was longer than `maxLineBytes`. */
  data: Buffer | null;
  /** Length of the line in bytes, whether kept or not. */
  length: number;
}

/** Options of `lines`. */
export interface LinesOptions {
  /** Offset of the stream's first byte (default 0). */
  base?: number;
  /** Longest line kept, in bytes (default: unlimited). */
  maxLineBytes?: number;
  /** Called with the bytes copied to join a line's pieces (for tests of linearity). */
  onCopy?: (bytes: number) => void;
}

/**
 * Yields each newline-terminated (or final, unterminated) line of a stream of chunks. Chunks
 * must not be reused by their producer after they are yielded (Node streams never do).
 */
export async function* lines(stream: AsyncIterable<Uint8Array>, opts: LinesOptions = {}): AsyncGenerator<Line> {
  const max = opts.maxLineBytes ?? Infinity;
  let pieces: Buffer[] = [];
  let pending = 0; // bytes of the line in progress
  let over = false; // the line in progress is over the limit: its pieces are not kept
  let lineStart = opts.base ?? 0;
  let pos = lineStart;
  const join = (last: Buffer): Buffer => {
    if (!pieces.length) return last;
    pieces.push(last);
    const b = Buffer.concat(pieces, pending + last.length);
    opts.onCopy?.(b.length);
    pieces = [];
    return b;
  };
  for await (const c of stream) {
    const chunk = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      const length = pending + piece.length;
      if (over || length > max) yield { offset: lineStart, data: null, length };
      else yield { offset: lineStart, data: join(piece), length };
      pieces = [];
      pending = 0;
      over = false;
      start = nl + 1;
      lineStart = pos + start;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      pending += rest.length;
      if (!over && pending > max) {
        over = true;
        pieces = [];
      }
      if (!over) pieces.push(rest);
    }
    pos += chunk.length;
  }
  if (pending > 0) {
    if (over || pending > max) yield { offset: lineStart, data: null, length: pending };
    else {
      const last = pieces.pop()!;
      pending -= last.length;
      yield { offset: lineStart, data: join(last), length: pending + last.length };
    }
  }
}
