/**
 * The local runner's JSON Lines codec (`local.ts`: `sluice apply dedup.*`, the dedup tests and
 * benches). Every line is byte-for-byte what `JSON.stringify` writes (typed-array `tokens` as
 * arrays), but built as UTF-8 bytes: Node 20's `JSON.stringify` took ~200 ms for the 26,745
 * docs (32 MB of Shakespeare-line text) of the paragraph bench, the largest cost of a
 * pass-through; `Buffer.write` of each text plus a byte scan for the few characters JSON
 * escapes takes ~100 ms. Reading takes 1 MiB chunks and decodes them in runs of whole lines.
 * Together: a pass-through of those files 0.40 → 0.27 CPU s.
 */
import { isAscii } from 'node:buffer';
import { open } from 'node:fs/promises';
import type { Doc } from '../../engine/types.ts';

/** Extra output bytes per input byte when escaped: 1 for `\n`-style escapes, 5 for `\u00XX`, 0 otherwise. */
const EXTRA = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) EXTRA[b] = 5;
for (const b of [8, 9, 10, 12, 13, 34, 92]) EXTRA[b] = 1;
/** The letter after the backslash of a two-byte escape. */
const SHORT = new Uint8Array(256);
SHORT[8] = 98; // b
SHORT[9] = 116; // t
SHORT[10] = 110; // n
SHORT[12] = 102; // f
SHORT[13] = 114; // r
SHORT[34] = 34; // "
SHORT[92] = 92; // \
const HEX = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/**
 * Encodes docs as JSON lines into one growing byte buffer; `take()` hands the bytes over.
 * A doc with a `toJSON` method, or a text that is not well-formed UTF-16 (a lone surrogate,
 * which `JSON.stringify` writes as `\udXXX`), goes through `JSON.stringify` itself.
 */
export class JsonlEncoder {
  private buf: Buffer;
  private len = 0;
  /** Offsets of the bytes to escape in the string being encoded. */
  private pos = new Int32Array(1024);
  /** Encoded `"key":` bytes per key (docs have a handful of keys). */
  private readonly keys = new Map<string, Buffer>();

  constructor(private readonly capacity = 1 << 20) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /** Bytes buffered. */
  get length(): number {
    return this.len;
  }

  /** Room for `extra` more bytes after `used` (default: the bytes buffered), keeping `[0, used)`. */
  private ensure(extra: number, used = this.len): void {
    const need = used + extra;
    if (need <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
    this.buf.copy(next, 0, 0, used);
    this.buf = next;
  }

  private raw(s: string): void {
    this.ensure(s.length * 3);
    this.len += this.buf.write(s, this.len, 'utf8');
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  /** Appends `s` as a JSON string literal, as `JSON.stringify(s)` writes it. */
  private string(s: string): void {
    if (!s.isWellFormed()) return this.raw(JSON.stringify(s));
    // UTF-8 after the opening quote, then escapes expanded in place from the back: UTF-8
    // multi-byte sequences never contain bytes below 0x80, so a byte scan finds every character
    // JSON escapes (controls, `"` and `\`). The scan records where they are, and the bytes
    // between them move with one `copyWithin` each (measured 97 ms for 33 MB of Shakespeare
    // lines, a newline every ~35 bytes, against 148 ms moving every byte in a loop and 124 ms
    // for JSON.stringify).
    this.ensure(s.length * 3 + 2);
    let buf = this.buf;
    const start = this.len + 1;
    buf[this.len] = 34;
    const n = buf.write(s, start, 'utf8');
    let end = start + n;
    let extra = 0;
    let np = 0;
    let pos = this.pos;
    for (let i = start; i < end; i++) {
      const x = EXTRA[buf[i]!]!;
      if (x !== 0) {
        extra += x;
        if (np === pos.length) {
          const p = new Int32Array(pos.length * 2);
          p.set(pos);
          this.pos = pos = p;
        }
        pos[np++] = i;
      }
    }
    if (np) {
      this.ensure(extra + 1, end);
      buf = this.buf;
      let w = end + extra;
      let r = end;
      for (let j = np - 1; j >= 0; j--) {
        const p = pos[j]!;
        w -= r - p - 1;
        buf.copyWithin(w, p + 1, r);
        const c = buf[p]!;
        if (EXTRA[c] === 1) {
          buf[--w] = SHORT[c]!;
          buf[--w] = 92;
        } else {
          buf[--w] = HEX[c & 15]!;
          buf[--w] = HEX[c >> 4]!;
          buf[--w] = 48;
          buf[--w] = 48;
          buf[--w] = 117;
          buf[--w] = 92;
        }
        r = p;
      }
      end += extra;
    }
    buf[end] = 34;
    this.len = end + 1;
  }

  private key(k: string, first: boolean): void {
    let kb = this.keys.get(k);
    if (!kb) {
      kb = Buffer.from(`,${JSON.stringify(k)}:`);
      if (this.keys.size < 64) this.keys.set(k, kb);
    }
    const from = first ? 1 : 0;
    this.ensure(kb.length);
    kb.copy(this.buf, this.len, from);
    this.len += kb.length - from;
  }

  /** Appends one doc as a line: the bytes of `JSON.stringify(doc)` (tokens as an array) and `\n`. */
  add(d: Doc): void {
    if (typeof (d as { toJSON?: unknown }).toJSON === 'function') {
      this.raw(JSON.stringify(d.tokens ? { ...d, tokens: Array.from(d.tokens) } : d));
      return this.byte(10);
    }
    this.byte(123);
    let first = true;
    for (const [k, v] of Object.entries(d) as Array<[string, unknown]>) {
      if (typeof v === 'string') {
        this.key(k, first);
        this.string(v);
      } else {
        const s = k === 'tokens' && v ? JSON.stringify(Array.from(v as ArrayLike<number>)) : JSON.stringify(v);
        // JSON.stringify leaves out keys whose value has no JSON form (undefined, functions).
        if (s === undefined) continue;
        this.key(k, first);
        this.raw(s);
      }
      first = false;
    }
    this.byte(125);
    this.byte(10);
  }

  /** The bytes buffered so far (the caller owns them); the encoder starts empty on a new buffer. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.len);
    // A fresh buffer of the initial size (one grown for a huge doc is not kept).
    this.buf = Buffer.allocUnsafe(this.capacity);
    this.len = 0;
    return out;
  }
}

/** Bytes decoded into one string at most (V8 puts strings above ~128 KiB in large-object space). */
const DECODE_BYTES = 64 * 1024;

/**
 * Reads a JSON Lines file as docs in batches of `batchSize` (blank lines skipped), parsing each
 * line with `JSON.parse` (typed `tokens` come back as `Uint32Array`). A line that is not JSON is
 * an error naming the file and line: these files are the runner's own spools and stage outputs.
 * Bytes are decoded a run of whole lines at a time (so no UTF-8 sequence is ever split), as
 * Latin-1 when the run is ASCII (`isAscii`, then a byte copy: 8 ms for 33 MB against 45 ms
 * through `TextDecoder`), else as UTF-8 with the WHATWG replacement of invalid bytes.
 */
export async function* readJsonlDocs(path: string, batchSize = 256, chunkBytes = 1 << 20): AsyncGenerator<Doc[]> {
  const fh = await open(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(chunkBytes);
    let have = 0;
    let lineNo = 0;
    let first = true;
    let batch: Doc[] = [];
    const full: Doc[][] = [];
    const parse = (l: string): void => {
      lineNo++;
      if (!l) return;
      let d: Doc & { tokens?: number[] | Uint32Array };
      try {
        d = JSON.parse(l);
      } catch (e) {
        throw new Error(`${path}:${lineNo}: not a JSON line (${(e as Error).message})`);
      }
      batch.push(d.tokens ? { ...d, tokens: Uint32Array.from(d.tokens) } : d);
      if (batch.length === batchSize) {
        full.push(batch);
        batch = [];
      }
    };
    // The lines of bytes [from, to), the last one ending at `to`, decoded in runs of whole lines
    // of at most DECODE_BYTES: a longer string is a large object in V8's old generation, only
    // reclaimed by full collections (1 MiB runs cost a full GC every few MB read).
    const lines = (from: number, to: number): void => {
      for (let at = from; ; ) {
        let end = to;
        if (to - at > DECODE_BYTES) {
          end = buf.lastIndexOf(10, at + DECODE_BYTES);
          if (end < at) end = buf.indexOf(10, at + DECODE_BYTES); // one line longer than a run
          if (end < 0 || end > to) end = to;
        }
        const s = end <= at ? '' : buf.toString(isAscii(buf.subarray(at, end)) ? 'latin1' : 'utf8', at, end);
        let start = 0;
        for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', start)) {
          parse(s.slice(start, i));
          start = i + 1;
        }
        parse(s.slice(start));
        if (end >= to) return;
        at = end + 1;
      }
    };
    for (;;) {
      if (have === buf.length) {
        // A line longer than the buffer: grow it.
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      const { bytesRead } = await fh.read(buf, have, buf.length - have, null);
      let from = 0;
      if (first && have + bytesRead >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) from = 3; // a UTF-8 byte-order mark, as TextDecoder drops it
      if (have + bytesRead >= 3) first = false;
      const end = have + bytesRead;
      if (!bytesRead) {
        lines(from, end);
        break;
      }
      const nl = buf.lastIndexOf(10, end - 1);
      if (nl >= from) {
        lines(from, nl);
        // The next run starts after this newline: an empty line at `nl` is not a line of its own.
        buf.copyWithin(0, nl + 1, end);
        have = end - nl - 1;
      } else {
        if (from) buf.copyWithin(0, from, end);
        have = end - from;
      }
      for (const b of full) yield b;
      full.length = 0;
    }
    for (const b of full) yield b;
    if (batch.length) yield batch;
  } finally {
    await fh.close();
  }
}
