/**
 * The artifact formats the MinHash stages hand each other, and readers for them.
 *
 * `<name>.signatures`, task t (= input file t):
 * - `sig-t<t>.json`: {@link SigTaskInfo}.
 * - `rows-t<t>-p<p>.bin`: one fixed-size record per input row, in row order (see {@link RowRecord}).
 * - `ids-t<t>-p<p>.jsonl`: `[id, url|null]` per input row, in row order.
 * - `sh-t<t>-p<p>.bin` (only with `verify`): each row's distinct shingle hashes, sorted, u32 LE.
 * - `run-t<t>-s<s>-b<b>.run`: spill s of band b: extsort runs keyed `[key hi, key lo, file, row]`.
 * `<name>.buckets`, task g: `forest-g<g>-p<p>.bin`: `(child u32, root u32)` pairs of global
 *   document numbers; `buckets-g<g>.json`: counts.
 * `<name>.clusters`: `assign-f<f>.jsonl`, one line per clustered row of input file f:
 *   {@link Assignment}; `clusters.json`: totals.
 */
import type { Dataset } from '../../../engine/types.ts';
import { fileNamed, filesMatching, fixedRecords, streamFiles } from '../parts.ts';

/** Summary of one signatures task. */
export interface SigTaskInfo {
  file: number;
  /** Input file URI (for messages). */
  input: string;
  docs: number;
  bytes: number;
  /** Rows without any word (never bucketed). */
  empty: number;
  /** Rows per `rows-*` part (parts hold whole records). */
  rowsPerPart: number;
  rowParts: string[];
  idParts: string[];
  shParts: string[];
  runs: number;
  k: number;
}

/** Byte size of a row record for `k` hash values. */
export function rowRecordSize(k: number): number {
  return 24 + 4 * k;
}

/** One decoded row record. */
export interface RowRecord {
  /** UTF-8 bytes of the text. */
  bytes: number;
  /** Shingle count (distinct when verify is on). */
  shingles: number;
  /** Part and byte offset of the shingle set in `sh-*` (verify only). */
  shPart: number;
  shOffset: number;
  /** Keeper score (NaN when the doc has none). */
  score: number;
  /** Signature view (k values). */
  sig: Uint32Array;
}

/** Encodes a row record. */
export function encodeRow(r: RowRecord, k: number): Uint8Array {
  const out = new Uint8Array(rowRecordSize(k));
  const dv = new DataView(out.buffer);
  dv.setUint32(0, r.bytes, true);
  dv.setUint32(4, r.shingles, true);
  dv.setUint32(8, r.shPart, true);
  dv.setUint32(12, r.shOffset, true);
  dv.setFloat64(16, r.score, true);
  for (let i = 0; i < k; i++) dv.setUint32(24 + 4 * i, r.sig[i]!, true);
  return out;
}

/** Decodes a row record (the signature is copied). */
export function decodeRow(dv: DataView, k: number): RowRecord {
  const sig = new Uint32Array(k);
  for (let i = 0; i < k; i++) sig[i] = dv.getUint32(24 + 4 * i, true);
  return {
    bytes: dv.getUint32(0, true),
    shingles: dv.getUint32(4, true),
    shPart: dv.getUint32(8, true),
    shOffset: dv.getUint32(12, true),
    score: dv.getFloat64(16, true),
    sig,
  };
}

/** The signature tasks' summaries with global document numbering (file offset + row). */
export class DocIndex {
  readonly offsets: number[] = [];
  readonly total: number;
  constructor(readonly tasks: SigTaskInfo[]) {
    let o = 0;
    for (const t of tasks) {
      this.offsets.push(o);
      o += t.docs;
    }
    this.total = o;
    if (o > 0x7fffffff) throw new Error(`dedup.minhash: ${o} documents exceed the 2^31-1 supported by one clustering`);
  }
  global(file: number, row: number): number {
    return this.offsets[file]! + row;
  }
  /** [file, row] of a global number (binary search). */
  locate(g: number): [number, number] {
    let lo = 0;
    let hi = this.offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid]! <= g) lo = mid;
      else hi = mid - 1;
    }
    return [lo, g - this.offsets[lo]!];
  }

  /** Loads the summaries from a signatures dataset, checking they cover files 0..n-1. */
  static async load(ds: Dataset, storage: { readText(uri: string): Promise<string> }): Promise<DocIndex> {
    const uris = filesMatching(ds, /^sig-t\d+\.json$/);
    const tasks: SigTaskInfo[] = [];
    for (const u of uris) tasks.push(JSON.parse(await storage.readText(u)) as SigTaskInfo);
    tasks.sort((a, b) => a.file - b.file);
    tasks.forEach((t, i) => {
      if (t.file !== i) throw new Error(`${ds.stage}: signature summaries are not contiguous (expected file ${i}, found ${t.file})`);
    });
    return new DocIndex(tasks);
  }

  /** URI of a part of a signatures dataset. */
  static part(ds: Dataset, name: string): string {
    return fileNamed(ds, name);
  }
}

/** Streams every row record of one signatures task in row order. */
export async function* rowRecords(ds: Dataset, t: SigTaskInfo): AsyncGenerator<RowRecord> {
  const uris = t.rowParts.map((n) => fileNamed(ds, n));
  for await (const dv of fixedRecords(streamFiles(uris), rowRecordSize(t.k))) yield decodeRow(dv, t.k);
}

/** What the clusters stage says about one row of an input file. */
export interface Assignment {
  row: number;
  /** Cluster name: the id of its first member in input order. */
  cluster: string;
  size: number;
  /** Present on the one member kept. */
  kept?: true;
  keptId?: string;
  keptUrl?: string | null;
  /** Jaccard with the kept doc: exact with `verify`, else the MinHash estimate. */
  jaccard?: number;
}

/**
 * Calls `fn(row, dv, offset)` for every row record of one signatures task, synchronously per
 * streamed chunk (no per-row promise): the clusters stage scans every row several times.
 */
export async function scanRows(ds: Dataset, t: SigTaskInfo, fn: (row: number, dv: DataView, off: number) => void): Promise<void> {
  const size = rowRecordSize(t.k);
  let carry = new Uint8Array(0);
  let row = 0;
  for await (const chunk of streamFiles(t.rowParts.map((n) => fileNamed(ds, n)))) {
    let buf = chunk;
    if (carry.length) {
      buf = new Uint8Array(carry.length + chunk.length);
      buf.set(carry);
      buf.set(chunk, carry.length);
    }
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const whole = Math.floor(buf.length / size) * size;
    for (let o = 0; o < whole; o += size) fn(row++, dv, o);
    carry = buf.slice(whole);
  }
  if (carry.length) throw new Error(`${ds.stage}: row records of file ${t.file} are truncated`);
  if (row !== t.docs) throw new Error(`${ds.stage}: file ${t.file} has ${row} row records, its summary says ${t.docs}`);
}

/** Field readers over a row record at `off` (see {@link encodeRow}). */
export const rowField = {
  bytes: (dv: DataView, off: number) => dv.getUint32(off, true),
  shingles: (dv: DataView, off: number) => dv.getUint32(off + 4, true),
  score: (dv: DataView, off: number) => dv.getFloat64(off + 16, true),
  sig(dv: DataView, off: number, k: number): Uint32Array {
    const s = new Uint32Array(k);
    for (let i = 0; i < k; i++) s[i] = dv.getUint32(off + 24 + 4 * i, true);
    return s;
  },
};

/** Calls `fn(index, line)` for every line of the files, synchronously per streamed chunk. */
export async function scanLines(uris: string[], fn: (index: number, line: string) => void): Promise<number> {
  const dec = new TextDecoder();
  let rest = '';
  let n = 0;
  for await (const chunk of streamFiles(uris)) {
    rest += dec.decode(chunk, { stream: true });
    let start = 0;
    let i: number;
    while ((i = rest.indexOf('\n', start)) >= 0) {
      fn(n++, rest.slice(start, i));
      start = i + 1;
    }
    rest = rest.slice(start);
  }
  rest += dec.decode();
  if (rest) fn(n++, rest);
  return n;
}
