/**
 * `dedup.paragraphs`' exact streaming strategy (the default): one task reads the input in order
 * (file, row, unit) and keeps every unit's 128-bit hash in an exact in-memory table
 * (`HashTable128`) with the index of the document that had it first, so each document is cut and
 * written as it streams by, without the sort, the run files and the second read that the `sort`
 * strategy's three stages pay for.
 *
 * Memory is bounded by `bufferMB`: the table and the kept documents' ids stay within it. When the
 * next document's units would not fit, the table is frozen there (at a document boundary, so
 * every document before it is decided and written) and the rest of the input goes through the
 * external sort, in this task, through its local scratch directory:
 *
 * 1. pass A reads the rest; each unit not in the table becomes a record `[hash × 4, file, row,
 *    unit]` with the document's id, sorted in runs of `bufferMB`;
 * 2. the runs are merged: the first record of each hash group is its first occurrence, every
 *    later one a cut, sorted by `[file, row, unit]` per input file (`cutRepeats`, as the `sort`
 *    strategy's groups stage does);
 * 3. pass B reads the rest again and removes the units found in the frozen table (kept by a
 *    document before the freeze) together with the sorted cuts.
 *
 * A unit in the table occurred before the freeze and one not in it did not, so both halves keep
 * the same first occurrence as the `sort` strategy: the output, the audit's spans and their kept
 * ids are the same for any budget.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CustomTaskContext, Dataset, Doc } from '../../engine/types.ts';
import { ExternalSorter, mergeRunColumns } from './extsort.ts';
import { HashTable128 } from './hash-table.ts';
import { JsonBytes } from './json-bytes.ts';
import { KeptIds } from './kept-ids.ts';
import { closeSpanDetails, cutRepeats, openSpanDetails, paragraphReasons } from './paragraph-cuts.ts';
import { pad, perFileRunSorter } from './parts.ts';
import { RowCutReader } from './row-cuts.ts';
import { applyOrderedCuts, auditFlow, type CutReasons, type SpanDetails } from './spans.ts';
import { DocScratch } from './doc-scratch.ts';
import type { UnitKind } from './units.ts';

/** What the streaming task reads from the stage config. */
export interface StreamConfig {
  unit: UnitKind;
  minChars: number;
  /** Budget of the table and kept ids, and of each sort buffer after a freeze, in MiB. */
  bufferMB: number;
  fanIn: number;
}

/** Where the table was frozen: the first document that went through the external sort. */
interface Freeze {
  file: number;
  row: number;
}

const enc = new TextEncoder();

/** Runs the exact streaming strategy as the stage's single task (see the module comment). */
export async function streamTask(ctx: CustomTaskContext, cfg: StreamConfig, op: string): Promise<void> {
  const input = ctx.inputs[0]!;
  const files = input.files();
  const reasons = paragraphReasons(cfg.unit);
  const budget = Math.floor(cfg.bufferMB * 1048576);
  // 10 MiB (524,288 slots) to start when the budget allows: each doubling rehashes every entry
  // (starting at 2.6 MiB, the three doublings to the bench corpus's 1M slots took ~15 ms of 600).
  const table = new HashTable128(Math.min(budget / 2, 32 << 20));
  // Per kept document (one that added a unit to the table), its id as JSON bytes, ready for the audit.
  const keepers = new KeptIds();
  const s = new DocScratch();
  const json = new JsonBytes();
  const details: SpanDetails = (j, start, end) => {
    keepers.write(s.rKeeper[j]!, openSpanDetails(json));
    return closeSpanDetails(json, s.rH0[j]!, s.rH1[j]!, s.rUnit[j]!, start, end);
  };
  let units = 0;
  let repeats = 0;
  let tail: Tail | null = null;

  /**
   * Cuts one document against the table, adding its new units: the doc left, null when cuts
   * emptied it, undefined when its units would not fit the budget (nothing is changed then).
   */
  function streamDoc(doc: Doc): Doc | null | undefined {
    const n = s.split(doc.text, cfg.unit, cfg.minChars);
    if (n === 0) return doc;
    const id = JSON.stringify(doc.id);
    const len = Buffer.byteLength(id);
    const idBytes = keepers.bytes + keepers.growth(len);
    if (table.bytes + idBytes > budget || !table.reserve(n, budget - idBytes)) return undefined;
    const self = keepers.count;
    let added = false;
    let r = 0;
    const hi = s.hi;
    // Measured on the bench corpus: 0.585 → 0.55 CPU s per 32 MB (its 20 MiB table misses the L2).
    table.touch(hi, n);
    for (let i = 0; i < n; i++) {
      const k = table.getOrAdd(hi, 4 * i, self);
      if (k < 0) {
        added = true;
        continue;
      }
      s.repeat(r++, i, k);
    }
    if (added) keepers.add(id, len);
    units += n;
    repeats += r;
    return r ? applyOrderedCuts(ctx.audit, op, doc, r, s.rStart, s.rEnd, details, reasons) : doc;
  }

  for (let f = 0; f < files.length; f++) {
    async function* kept(): AsyncGenerator<Doc[]> {
      let row = 0;
      for await (const batch of input.readDocs([files[f]!])) {
        const out: Doc[] = [];
        for (const doc of batch) {
          let d: Doc | null | undefined;
          if (!tail) {
            d = streamDoc(doc);
            if (d === undefined) {
              ctx.log(`exact table full at file ${f} row ${row} (${table.size} units, ${(table.bytes / 1048576).toFixed(1)} MiB, ${keepers.count} kept ids): the rest goes through the external sort`);
              tail = await Tail.build(ctx, input, cfg, table, { file: f, row }, op, reasons);
            }
          }
          if (tail) {
            const r = await tail.cut(doc, f, row, s, keepers);
            units += r.units;
            repeats += r.repeats;
            d = r.doc;
          }
          if (d) out.push(d);
          row++;
        }
        ctx.progress.add(batch.length, 0);
        auditFlow(ctx.audit, op, batch, out);
        if (out.length) yield out;
      }
      if (tail) await tail.endFile(f, row);
    }
    await ctx.writeDocs(`part-${pad(f)}.parquet`, kept());
  }
  // Assigned inside the generators, which TypeScript's narrowing does not follow.
  const t = tail as Tail | null;
  if (t) await t.close();
  ctx.setInfo({ units, repeats, tableUnits: table.size, tableBytes: table.bytes + keepers.bytes, frozenAt: t ? { file: t.at.file, row: t.at.row } : null, sortedRecords: t ? t.records : 0 });
}

/**
 * The part of the input after a freeze: its sorted cuts (pass A and the merge, built by
 * `Tail.build` in the task's scratch directory) and the per-document cutting of pass B.
 */
class Tail {
  private reader: RowCutReader | null = null;
  private readerFile = -1;
  private more = false;
  private readonly json = new JsonBytes();
  private constructor(
    private readonly ctx: CustomTaskContext,
    private readonly op: string,
    private readonly reasons: CutReasons,
    /** Where the table was frozen. */
    readonly at: Freeze,
    private readonly dir: string,
    /** The names of the cut runs in `dir`. */
    private readonly runs: string[],
    private readonly table: HashTable128,
    private readonly cfg: StreamConfig,
    readonly records: number,
  ) {}

  /** Pass A over the input from `at` on, then the merge into per-file sorted cuts. */
  static async build(ctx: CustomTaskContext, input: Dataset, cfg: StreamConfig, table: HashTable128, at: Freeze, op: string, reasons: CutReasons): Promise<Tail> {
    const dir = join(ctx.tmpDir, `paragraphs-tail-${process.pid}-${Date.now()}`);
    await mkdir(dir, { recursive: true });
    const bufferBytes = Math.floor(cfg.bufferMB * 1048576);
    const unitRuns: string[] = [];
    const units = new ExternalSorter({
      keyWords: 7,
      bufferBytes,
      spill: async (_p, run, bytes) => {
        const path = join(dir, `units-${pad(run)}.run`);
        await writeFile(path, bytes);
        unitRuns.push(path);
      },
    });
    const files = input.files();
    const s = new DocScratch();
    const key = new Uint32Array(7);
    let records = 0;
    for (let f = at.file; f < files.length; f++) {
      let row = 0;
      for await (const batch of input.readDocs([files[f]!])) {
        for (const doc of batch) {
          if (f > at.file || row >= at.row) {
            const n = s.split(doc.text, cfg.unit, cfg.minChars);
            table.touch(s.hi, n);
            let id: Uint8Array | null = null;
            for (let i = 0; i < n; i++) {
              if (table.get(s.hi, 4 * i) >= 0) continue;
              id ??= enc.encode(doc.id);
              key.set(s.hs.subarray(4 * i, 4 * i + 4));
              key[4] = f;
              key[5] = row;
              key[6] = i;
              records++;
              if (units.push(0, key, id)) await units.spillAll();
            }
          }
          row++;
        }
      }
    }
    await units.finish();
    // Runs named as the sort strategy's groups stage names its cuts, in scratch.
    const cutRuns: string[] = [];
    const local = {
      async writeFile(name: string, bytes: Uint8Array | string) {
        await writeFile(join(dir, name), bytes);
        cutRuns.push(name);
      },
    };
    const cuts = perFileRunSorter(local, 'cuts', { keyWords: 3, files: files.length, bufferMB: cfg.bufferMB });
    await cutRepeats(mergeRunColumns(unitRuns, { keyWords: 7, fanIn: cfg.fanIn, tmpDir: dir }), cuts);
    // The unit runs are merged: their disk space goes back before pass B.
    for (const r of unitRuns) await rm(r, { force: true });
    return new Tail(ctx, op, reasons, at, dir, cutRuns, table, cfg, records);
  }

  /**
   * Pass B for one document (row `row` of file `file`, at or after the freeze): its units found
   * in the frozen table and its sorted cuts, merged in unit order, are removed.
   */
  async cut(doc: Doc, file: number, row: number, s: DocScratch, keepers: KeptIds): Promise<{ doc: Doc | null; units: number; repeats: number }> {
    const op = this.op;
    const rd = await this.open(file);
    if (this.more && rd.row < row) throw new Error(`${op}: cuts for row ${rd.row} of file ${file} out of order (at row ${row})`);
    const mine = this.more && rd.row === row;
    const n = s.split(doc.text, this.cfg.unit, this.cfg.minChars);
    this.table.touch(s.hi, n);
    let r = 0;
    let j = 0;
    // rKeeper: a kept id's index in `keepers` (unit in the table) or, as -1 - j, cut j of the
    // row; the id and group are formatted only for the first unit of each merged span.
    for (let i = 0; i < n; i++) {
      let k = this.table.get(s.hi, 4 * i);
      if (k < 0) {
        if (!(mine && j < rd.count && rd.units[j] === i)) continue;
        k = -1 - j++;
      }
      s.repeat(r++, i, k);
    }
    if (mine && j < rd.count) throw new Error(`${op}: cut of unit ${rd.units[j]} but document ${doc.id} has ${n} units or repeats it in the table (input changed during the run?)`);
    const json = this.json;
    const details: SpanDetails = (x, st, en) => {
      const k = s.rKeeper[x]!;
      openSpanDetails(json);
      if (k >= 0) keepers.write(k, json);
      else json.text(JSON.stringify(rd.keptId(-1 - k)));
      return closeSpanDetails(json, s.rH0[x]!, s.rH1[x]!, s.rUnit[x]!, st, en);
    };
    const out = r ? applyOrderedCuts(this.ctx.audit, op, doc, r, s.rStart, s.rEnd, details, this.reasons) : doc;
    // The row's cuts are read by `details` above: the reader moves on only now.
    if (mine) this.more = await rd.next();
    return { doc: out, units: n, repeats: r };
  }

  /** The cut reader of file `file`, opened on its first use. */
  private async open(file: number): Promise<RowCutReader> {
    if (this.readerFile !== file || !this.reader) {
      const re = new RegExp(`^cuts-f${pad(file)}-p\\d+\\.run$`);
      const runs = this.runs.filter((n) => re.test(n)).sort().map((n) => join(this.dir, n));
      this.reader = new RowCutReader(runs, { fanIn: this.cfg.fanIn, tmpDir: this.ctx.tmpDir });
      this.readerFile = file;
      this.more = await this.reader.next();
    }
    return this.reader;
  }

  /** Checks that file `file`'s cuts were all used (its rows ended at `rows`). */
  async endFile(file: number, rows: number): Promise<void> {
    if (file < this.at.file) return;
    const rd = await this.open(file);
    if (this.more) throw new Error(`${this.op}: cuts for row ${rd.row} of file ${file} but it has only ${rows} rows (input changed during the run?)`);
  }

  /** Removes the scratch runs. */
  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
