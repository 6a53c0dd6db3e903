/**
 * Reading `dedup.paragraphs`' cuts back for its filter stage: the sorted `[file, row, unit]`
 * records of one input file, grouped by row into reused arrays, so the filter makes no object
 * per removed unit.
 */
import { mergeRunColumns, type RecordColumns } from './extsort.ts';

const dec = new TextDecoder();

/**
 * The cuts of one input file row by row, from its sorted `[file, row, unit]` records: `next()`
 * loads the following row's unit indices and payloads (8 bytes of group hash, then the kept
 * document's id) into reused arrays; the kept id and group are decoded only for the units that
 * start an audited span (`keptId`, `group`).
 */
export class RowCutReader {
  row = -1;
  /** Cuts of the current row. */
  count = 0;
  units = new Int32Array(64);
  private payStart = new Int32Array(65);
  private pay = new Uint8Array(1024);
  private cols: RecordColumns | null = null;
  private at = 0;
  private readonly it: AsyncIterator<RecordColumns>;
  /** `runs`: the file's sorted cut runs (keys `[file, row, unit]`), merged `fanIn` at a time. */
  constructor(runs: string[], opts: { fanIn: number; tmpDir: string }) {
    this.it = mergeRunColumns(runs, { keyWords: 3, fanIn: opts.fanIn, tmpDir: opts.tmpDir })[Symbol.asyncIterator]();
  }

  /** Loads the next row with cuts; false when there is none. */
  async next(): Promise<boolean> {
    this.count = 0;
    let row = -1;
    for (;;) {
      if (!this.cols || this.at >= this.cols.count) {
        const r = await this.it.next();
        if (r.done) {
          this.cols = null;
          this.row = row;
          return this.count > 0;
        }
        this.cols = r.value;
        this.at = 0;
      }
      const c = this.cols;
      for (; this.at < c.count; this.at++) {
        const r = c.keys[this.at * 3 + 1]!;
        if (this.count > 0 && r !== row) {
          this.row = row;
          return true;
        }
        row = r;
        this.push(c.keys[this.at * 3 + 2]!, c.payloads, c.payloadStart[this.at]!, c.payloadStart[this.at + 1]!);
      }
    }
  }

  private push(unit: number, src: Uint8Array, ps: number, pe: number): void {
    const n = this.count;
    if (n + 1 >= this.units.length) {
      const units = new Int32Array(this.units.length * 2);
      units.set(this.units);
      this.units = units;
      const starts = new Int32Array(this.payStart.length * 2);
      starts.set(this.payStart);
      this.payStart = starts;
    }
    const at = this.payStart[n]!;
    if (at + pe - ps > this.pay.length) {
      const pay = new Uint8Array(Math.max(this.pay.length * 2, at + pe - ps));
      pay.set(this.pay.subarray(0, at));
      this.pay = pay;
    }
    // A cut's payload is ~16 bytes (group hash and kept id): a loop, not a subarray view per
    // cut, which was the filter stage's largest line (588,966 cuts on the paragraph bench).
    const pay = this.pay;
    for (let i = ps, o = at; i < pe; i++, o++) pay[o] = src[i]!;
    this.units[n] = unit;
    this.payStart[n + 1] = at + pe - ps;
    this.count = n + 1;
  }

  /** The kept document's id of cut `j` of the current row. */
  keptId(j: number): string {
    return dec.decode(this.pay.subarray(this.payStart[j]! + 8, this.payStart[j + 1]!));
  }

  /** Word `w` (0 or 1) of the audit's group id (first 64 hash bits, big-endian in the payload) of cut `j`. */
  groupWord(j: number, w: 0 | 1): number {
    const p = this.pay;
    const o = this.payStart[j]! + 4 * w;
    return ((p[o]! << 24) | (p[o + 1]! << 16) | (p[o + 2]! << 8) | p[o + 3]!) >>> 0;
  }
}
