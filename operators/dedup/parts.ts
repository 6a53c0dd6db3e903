/**
 * Bounded-memory artifact files for the dedup stages. A task's large outputs (per-document
 * records, shingle sets, forests) are written as numbered parts of at most `partBytes` each
 * through `ctx.writeFile`, so every file is atomic and listed in the stage manifest and no task
 * ever holds more than one part in memory; readers stream the parts back in order.
 */
import type { CustomTaskContext, Dataset } from '../../engine/types.ts';
import { storage } from '../../engine/storage/index.ts';
import { ExternalSorter } from './extsort.ts';

/** Zero-padded decimal, the naming convention of every dedup artifact. */
export function pad(n: number, width = 5): string {
  return String(n).padStart(width, '0');
}

/** Writes a byte stream as parts `<prefix>-p<NNNNN><suffix>` of at most `partBytes`. */
export class PartWriter {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private rows = 0;
  private written = 0;
  /** Total bytes written so far (flushed or buffered): the offset of the next byte. */
  offset = 0;
  readonly names: string[] = [];
  constructor(
    private readonly ctx: Pick<CustomTaskContext, 'writeFile'>,
    private readonly prefix: string,
    private readonly suffix = '.bin',
    private readonly partBytes = 32 << 20,
  ) {}

  /** Index of the part the next byte goes to. */
  get part(): number {
    return this.names.length;
  }
  /** Byte offset of the next byte within its part. */
  get partOffset(): number {
    return this.size;
  }

  /** Appends one record (never split across parts) and counts it as a row. */
  async write(bytes: Uint8Array): Promise<void> {
    if (this.size > 0 && this.size + bytes.length > this.partBytes) await this.flush();
    this.chunks.push(bytes);
    this.size += bytes.length;
    this.offset += bytes.length;
    this.rows++;
  }

  /** Writes the buffered part. */
  async flush(): Promise<void> {
    if (this.size === 0) return;
    const name = `${this.prefix}-p${pad(this.names.length)}${this.suffix}`;
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    await this.ctx.writeFile(name, out, this.rows);
    this.names.push(name);
    this.written += this.size;
    this.chunks = [];
    this.size = 0;
    this.rows = 0;
  }
}

/** The URIs of a dataset's files whose base name matches `re`, in name order. */
export function filesMatching(ds: Dataset, re: RegExp): string[] {
  return ds
    .files()
    .filter((u) => re.test(u.slice(u.lastIndexOf('/') + 1)))
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** How many input files a hashing stage read: it writes one `hash-t<file>.json` per file task. */
export function hashedFileCount(hashes: Dataset): number {
  return filesMatching(hashes, /^hash-t\d+\.json$/).length;
}

const byName = new WeakMap<Dataset, Map<string, string>>();

/** The URI of a named file of a dataset (error naming the dataset when missing); O(1) after the first call. */
export function fileNamed(ds: Dataset, name: string): string {
  let m = byName.get(ds);
  if (!m) {
    m = new Map(ds.files().map((u) => [u.slice(u.lastIndexOf('/') + 1), u]));
    byName.set(ds, m);
  }
  const f = m.get(name);
  if (!f) throw new Error(`${ds.stage}: missing file ${name} in ${ds.dir}`);
  return f;
}

/** Streams the bytes of several files in order. */
export async function* streamFiles(uris: string[]): AsyncGenerator<Uint8Array> {
  for (const u of uris) {
    const s = await storage.readStream(u);
    for await (const chunk of s as AsyncIterable<Uint8Array>) yield chunk;
  }
}

/** Reads fixed-size records from a byte stream, yielding a DataView positioned on each. */
export async function* fixedRecords(stream: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<DataView> {
  let carry = new Uint8Array(0);
  for await (const chunk of stream) {
    let buf = chunk;
    if (carry.length) {
      buf = new Uint8Array(carry.length + chunk.length);
      buf.set(carry);
      buf.set(chunk, carry.length);
    }
    const whole = Math.floor(buf.length / size) * size;
    for (let o = 0; o < whole; o += size) yield new DataView(buf.buffer, buf.byteOffset + o, size);
    carry = buf.slice(whole);
  }
  if (carry.length) throw new Error(`truncated record stream: ${carry.length} trailing bytes (record size ${size})`);
}

/** Reads newline-delimited text lines from a byte stream. */
export async function* lines(stream: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  // Newlines are looked for in each new chunk only and a line's pieces joined once: searching a
  // growing `rest` string flattened it per chunk, quadratic in the length of a long line.
  const dec = new TextDecoder();
  let parts: string[] = [];
  const take = (last: string): string => {
    if (!parts.length) return last;
    parts.push(last);
    const line = parts.join('');
    parts = [];
    return line;
  };
  for await (const chunk of stream) {
    const s = dec.decode(chunk, { stream: true });
    let start = 0;
    let i: number;
    while ((i = s.indexOf('\n', start)) >= 0) {
      yield take(s.slice(start, i));
      start = i + 1;
    }
    if (start < s.length) parts.push(s.slice(start));
  }
  const rest = take(dec.decode());
  if (rest) yield rest;
}

/**
 * An external sorter whose sorted runs become files of the task's output, named
 * `run-t<task>-s<run>-<tag><partition>.run`, for a later stage to merge per partition. The buffer
 * is `bufferMB` MiB; `tag` is `p` (hash partitions) or `b` (MinHash bands).
 */
export function outputRunSorter(ctx: CustomTaskContext, opts: { keyWords: number; partitions: number; bufferMB: number; tag?: string }): ExternalSorter {
  const file = ctx.index;
  const tag = opts.tag ?? 'p';
  return new ExternalSorter({
    keyWords: opts.keyWords,
    partitions: opts.partitions,
    bufferBytes: Math.floor(opts.bufferMB * 1048576),
    spill: (part, run, bytes, records) => ctx.writeFile(`run-t${pad(file)}-s${pad(run)}-${tag}${pad(part, 4)}.run`, bytes, records),
  });
}

/**
 * An external sorter of records keyed `[file, …]`, partitioned by input file (`files` of them),
 * whose sorted runs are written through `out.writeFile` (the task's output, or a scratch
 * directory) named `<prefix>-f<file>-p<run>.run`: each spill is written straight as the runs of
 * the files it holds, for the reader to merge only its own file's. Push records with partition =
 * `key[0]`. (Sorting into local scratch runs and merging them per file afterwards took a second
 * pass over every record.)
 */
export function perFileRunSorter(out: Pick<CustomTaskContext, 'writeFile'>, prefix: string, opts: { keyWords: number; files: number; bufferMB: number }): ExternalSorter {
  return new ExternalSorter({
    keyWords: opts.keyWords,
    partitions: Math.max(1, opts.files),
    bufferBytes: Math.floor(opts.bufferMB * 1048576),
    spill: (file, run, bytes, records) => out.writeFile(`${prefix}-f${pad(file)}-p${pad(run)}.run`, bytes, records),
  });
}

/**
 * The audit's group id of a hash: its first 64 bits (two words) as 16 hex digits. One
 * `String.fromCharCode` of nibble codes: paragraph dedup calls it once per removed span, and
 * this makes one flat string where concatenating byte pairs made eight (measured 47 vs 120 ns).
 */
export function groupHex(a: number, b: number): string {
  return String.fromCharCode(
    NIB[a >>> 28]!, NIB[(a >>> 24) & 15]!, NIB[(a >>> 20) & 15]!, NIB[(a >>> 16) & 15]!, NIB[(a >>> 12) & 15]!, NIB[(a >>> 8) & 15]!, NIB[(a >>> 4) & 15]!, NIB[a & 15]!,
    NIB[b >>> 28]!, NIB[(b >>> 24) & 15]!, NIB[(b >>> 20) & 15]!, NIB[(b >>> 16) & 15]!, NIB[(b >>> 12) & 15]!, NIB[(b >>> 8) & 15]!, NIB[(b >>> 4) & 15]!, NIB[b & 15]!,
  );
}
const NIB = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
