/**
 * A pull reader over decompressed segments (see gzip.ts) that record parsers use: it buffers
 * only what the current record needs, knows the absolute position of every byte, maps a
 * position back to a locator (`#<member offset>` for gzip, `#<byte offset>` for plain files) and
 * surfaces gaps (lost bytes) so a parser abandons the record in progress instead of gluing
 * unrelated bytes together.
 */
import type { Segment } from './gzip.ts';

const EMPTY = Buffer.alloc(0);

/** A gap reported by the segment source, waiting for the parser to acknowledge it. */
export interface PendingGap {
  reason: string;
  offset: number;
  details: Record<string, import('../../../engine/types.ts').Json>;
}

export class SegmentReader {
  /** Buffered bytes; `buf[off]` is the next unread byte. */
  buf: Buffer = EMPTY;
  off = 0;
  /** Absolute (decompressed) position of `buf[0]`. */
  private base = 0;
  /** Absolute position where the next segment's bytes will start. */
  private end = 0;
  /** The input is exhausted. */
  eof = false;
  /** A gap was hit: no more bytes until `acceptGap()`. */
  gap: PendingGap | undefined;
  /** Member starts (absolute position → compressed offset), oldest first. */
  private members: Array<{ pos: number; member: number }> = [];
  private plain = true;
  /** Total compressed/plain bytes consumed is unknown here; decompressed bytes read so far. */
  bytesRead = 0;

  constructor(private readonly it: AsyncIterator<Segment>) {}

  get avail(): number {
    return this.buf.length - this.off;
  }
  /** Absolute position of the next unread byte. */
  get pos(): number {
    return this.base + this.off;
  }
  /** True when no more bytes can come before a gap is acknowledged or at the end. */
  get blocked(): boolean {
    return this.eof || this.gap !== undefined;
  }

  /** Pulls one segment into the buffer; false at end of input or at a gap. */
  private async pull(parts: Buffer[]): Promise<boolean> {
    if (this.blocked) return false;
    const r = await this.it.next();
    if (r.done) {
      this.eof = true;
      return false;
    }
    const s = r.value;
    if (s.kind === 'gap') {
      this.gap = { reason: s.reason, offset: s.offset, details: s.details };
      return false;
    }
    if (s.member >= 0) {
      this.plain = false;
      if (s.memberStart) this.members.push({ pos: this.end, member: s.member });
    }
    this.end += s.data.length;
    this.bytesRead += s.data.length;
    parts.push(s.data);
    return true;
  }

  /** Buffers until `n` bytes are available (or a gap / the end); true when they are. */
  async fill(n: number): Promise<boolean> {
    if (this.avail >= n) return true;
    // an empty remainder is not copied: records that are whole gzip members arrive without a concat
    const parts: Buffer[] = this.avail ? [this.buf.subarray(this.off)] : [];
    let total = this.avail;
    while (total < n) {
      const before = parts.length;
      if (!(await this.pull(parts))) break;
      total += parts[before]!.length;
    }
    this.rebase(parts, total);
    return this.avail >= n;
  }

  /** Buffers at least one more segment; false at a gap or the end. */
  async more(): Promise<boolean> {
    return this.fill(this.avail + 1);
  }

  private rebase(parts: Buffer[], total: number): void {
    this.base += this.off;
    this.off = 0;
    this.buf = parts.length === 1 ? parts[0]! : parts.length === 0 ? EMPTY : Buffer.concat(parts, total);
  }

  /** Consumes `n` buffered bytes. */
  take(n: number): void {
    this.off += n;
  }

  /** Discards `n` bytes, pulling (and dropping) segments as needed; returns how many were discarded. */
  async discard(n: number): Promise<number> {
    let done = 0;
    while (done < n) {
      if (this.avail === 0) {
        this.buf = EMPTY;
        this.base = this.end;
        this.off = 0;
        const parts: Buffer[] = [];
        if (!(await this.pull(parts))) break;
        this.buf = parts[0]!;
      }
      const k = Math.min(this.avail, n - done);
      this.off += k;
      done += k;
    }
    return done;
  }

  /** Index (relative to `off`) of `needle` in the buffer at or after relative index `from`, or -1. */
  indexOf(needle: Buffer | string, from = 0): number {
    const i = this.buf.indexOf(needle, this.off + from);
    return i < 0 ? -1 : i - this.off;
  }

  /** Drops the buffered bytes and the gap, so reading resumes after the lost bytes. */
  acceptGap(): PendingGap | undefined {
    const g = this.gap;
    this.base = this.end;
    this.buf = EMPTY;
    this.off = 0;
    this.gap = undefined;
    return g;
  }

  /**
   * Locator of the record starting at absolute position `pos`: `#<offset>` for plain input,
   * `#<member offset>` when it starts a gzip member, `#<member offset>+<offset in member>` when a
   * record starts inside a member (whole-file gzip).
   */
  locate(pos: number): string {
    if (this.plain) return `#${pos}`;
    let m = this.members[0];
    let k = 0;
    for (let i = 0; i < this.members.length && this.members[i]!.pos <= pos; i++) {
      m = this.members[i];
      k = i;
    }
    if (k > 0) this.members.splice(0, k); // records come in order: older members are not needed again
    if (!m) return `#${pos}`;
    return m.pos === pos ? `#${m.member}` : `#${m.member}+${pos - m.pos}`;
  }

  /** The compressed offset of the member containing `pos`, or `pos` itself for plain input. */
  offsetOf(pos: number): number {
    if (this.plain) return pos;
    let m = this.members[0];
    for (const x of this.members) if (x.pos <= pos) m = x;
    return m ? m.member : pos;
  }
}
