/**
 * Reads a model file window by window (1 MiB) instead of whole: a file over Node's 2 GiB
 * single-read limit loads, and the matrices are read from the file straight into their arrays,
 * so loading needs the model's size in memory, not twice it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { ModelReader } from './bytes.ts';

const WINDOW = 1 << 20;

export class FileReader extends ModelReader {
  private buf: Uint8Array;
  /** File offset of `buf[0]` and how many bytes of `buf` are valid. */
  private start = 0;
  private len = 0;

  private constructor(
    private readonly fd: number,
    source: string,
    size: number,
    private readonly windowBytes: number,
  ) {
    super(source, size);
    this.buf = new Uint8Array(windowBytes);
  }

  /** Opens `path`; `use` reads from it, and the file is closed afterwards either way. `windowBytes`: 1 MiB (tests use tiny windows). */
  static with<T>(path: string, use: (r: FileReader) => T, windowBytes = WINDOW): T {
    const fd = openSync(path, 'r');
    try {
      return use(new FileReader(fd, path, fstatSync(fd).size, windowBytes));
    } finally {
      closeSync(fd);
    }
  }

  private fill(from: number, n: number): void {
    if (this.buf.length < n) this.buf = new Uint8Array(n);
    let got = 0;
    const want = Math.min(this.buf.length, this.size - from);
    while (got < want) {
      const r = readSync(this.fd, this.buf, got, want - got, from + got);
      if (r === 0) break;
      got += r;
    }
    this.start = from;
    this.len = got;
  }

  protected window(n: number): { b: Uint8Array; at: number } {
    if (this.pos < this.start || this.pos + n > this.start + this.len) this.fill(this.pos, Math.max(n, this.windowBytes));
    return { b: this.buf, at: this.pos - this.start };
  }

  protected untilNul(): Uint8Array | null {
    for (let span = this.windowBytes; ; span *= 2) {
      const n = Math.min(span, this.remaining);
      const { b, at } = this.window(n);
      const end = b.subarray(at, at + n).indexOf(0);
      if (end >= 0) return b.subarray(at, at + end);
      if (n === this.remaining) return null;
    }
  }

  /** Large reads go from the file straight into `dst`. */
  protected override readInto(dst: Uint8Array, what: string): void {
    if (dst.length < this.windowBytes) return super.readInto(dst, what);
    let done = 0;
    if (this.pos >= this.start && this.pos < this.start + this.len) {
      const have = Math.min(dst.length, this.start + this.len - this.pos);
      dst.set(this.buf.subarray(this.pos - this.start, this.pos - this.start + have));
      done = have;
    }
    while (done < dst.length) {
      const r = readSync(this.fd, dst, done, Math.min(dst.length - done, 1 << 30), this.pos + done);
      if (r === 0) throw new Error(`${this.source}: read ended at offset ${this.pos + done} of ${this.size}`);
      done += r;
    }
    this.pos += dst.length;
  }
}
