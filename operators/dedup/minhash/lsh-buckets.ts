/**
 * The `<name>.buckets` task body: one task per group of `bandsPerTask` bands. For each band it
 * k-way merges that band's sorted runs from every signatures task (external merge: bounded
 * memory whatever the corpus size), walks the buckets (runs of equal 64-bit band keys) and
 * unions each bucket's members into a local union-find; it writes only the resulting forest.
 *
 * Without `verify` every bucket member is joined to the bucket's first member. With `verify`,
 * a member joins the first of the bucket's representatives (at most `maxReps`) whose exact
 * Jaccard with it reaches `threshold`; a member that matches none becomes a representative.
 * Pairs already in one component are not re-verified.
 */
import type { CustomTaskContext, Dataset } from '../../../engine/types.ts';
import { mergeRunBatches } from '../extsort.ts';
import { fileNamed, filesMatching, pad, PartWriter } from '../parts.ts';
import { RangeReader } from '../range-read.ts';
import { UnionFind } from './cluster.ts';
import type { MinHashConfig } from './config.ts';
import { DocIndex, decodeRow, rowRecordSize } from './layout.ts';
import { jaccard } from './shingle.ts';

/** Number of bucketing tasks for a config. */
export function bucketTaskCount(cfg: MinHashConfig): number {
  return Math.ceil(cfg.bands / cfg.bandsPerTask);
}

/** Fetches documents' shingle sets by global number, with a small LRU cache. */
export class ShingleFetcher {
  private cache = new Map<number, Uint32Array>();
  private cached = 0;
  private readonly reader = new RangeReader();
  constructor(
    private readonly ds: Dataset,
    private readonly index: DocIndex,
    private readonly cacheBytes = 32 << 20,
  ) {}

  async get(g: number): Promise<Uint32Array> {
    const hit = this.cache.get(g);
    if (hit) {
      this.cache.delete(g);
      this.cache.set(g, hit);
      return hit;
    }
    const [file, row] = this.index.locate(g);
    const t = this.index.tasks[file]!;
    const size = rowRecordSize(t.k);
    const part = Math.floor(row / t.rowsPerPart);
    const at = (row % t.rowsPerPart) * size;
    const raw = await this.reader.read(fileNamed(this.ds, t.rowParts[part]!), at, at + size);
    const rec = decodeRow(new DataView(raw.buffer, raw.byteOffset, raw.byteLength), t.k);
    const name = t.shParts[rec.shPart];
    if (name === undefined) throw new Error(`${this.ds.stage}: no shingle part ${rec.shPart} for file ${file} (was verify on when signatures ran?)`);
    const bytes = await this.reader.read(fileNamed(this.ds, name), rec.shOffset, rec.shOffset + 4 * rec.shingles);
    const set = new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    this.cache.set(g, set);
    this.cached += set.byteLength;
    while (this.cached > this.cacheBytes && this.cache.size > 1) {
      const [k0, v0] = this.cache.entries().next().value as [number, Uint32Array];
      this.cache.delete(k0);
      this.cached -= v0.byteLength;
    }
    return set;
  }

  close(): Promise<void> {
    return this.reader.close();
  }
}

/** Counters of one bucketing task. */
export interface BucketStats {
  bands: number[];
  records: number;
  buckets: number;
  /** Buckets with two or more members. */
  candidateBuckets: number;
  /** Member-to-first (or member-to-representative) pairs looked at. */
  pairs: number;
  verified: number;
  rejected: number;
  unions: number;
}

export async function bucketTask(ctx: CustomTaskContext, cfg: MinHashConfig, signatures: Dataset): Promise<BucketStats> {
  const index = await DocIndex.load(signatures, ctx.storage);
  const uf = new UnionFind(index.total);
  const first = ctx.index * cfg.bandsPerTask;
  const bands: number[] = [];
  for (let b = first; b < Math.min(cfg.bands, first + cfg.bandsPerTask); b++) bands.push(b);
  const stats: BucketStats = { bands, records: 0, buckets: 0, candidateBuckets: 0, pairs: 0, verified: 0, rejected: 0, unions: 0 };
  const fetcher = cfg.verify ? new ShingleFetcher(signatures, index) : null;
  try {
    for (const band of bands) {
      const re = new RegExp(`^run-t\\d+-s\\d+-b${pad(band, 4)}\\.run$`);
      const runs = filesMatching(signatures, re);
      let h1 = -1;
      let h2 = -1;
      let size = 0;
      let head = -1;
      let reps: Array<{ g: number; set: Uint32Array }> = [];
      for await (const batch of mergeRunBatches(runs, { keyWords: 4, fanIn: cfg.fanIn, tmpDir: ctx.tmpDir })) for (const rec of batch) {
        stats.records++;
        const g = index.global(rec.key[2]!, rec.key[3]!);
        if (rec.key[0] !== h1 || rec.key[1] !== h2) {
          h1 = rec.key[0]!;
          h2 = rec.key[1]!;
          stats.buckets++;
          size = 1;
          head = g;
          reps = [];
          continue;
        }
        if (++size === 2) stats.candidateBuckets++;
        stats.pairs++;
        if (!fetcher) {
          if (uf.union(head, g)) stats.unions++;
          continue;
        }
        if (reps.length === 0) reps.push({ g: head, set: await fetcher.get(head) });
        const root = uf.find(g);
        if (reps.some((r) => uf.find(r.g) === root)) continue;
        const set = await fetcher.get(g);
        let joined = false;
        for (const r of reps) {
          if (jaccard(set, r.set) >= cfg.threshold) {
            stats.verified++;
            if (uf.union(r.g, g)) stats.unions++;
            joined = true;
            break;
          }
          stats.rejected++;
        }
        if (!joined && reps.length < cfg.maxReps) reps.push({ g, set });
      }
    }
  } finally {
    await fetcher?.close();
  }
  const out = new PartWriter(ctx, `forest-g${pad(ctx.index)}`, '.bin', 16 << 20);
  // The forest, (child, root) for every document not its own root, in slices of 1 M pairs.
  const slice = new Uint32Array(2 << 20);
  let n = 0;
  for (let i = 0; i < uf.size; i++) {
    const r = uf.find(i);
    if (r === i) continue;
    slice[n++] = i;
    slice[n++] = r;
    if (n === slice.length) {
      await out.write(new Uint8Array(slice.slice().buffer));
      n = 0;
    }
  }
  if (n) await out.write(new Uint8Array(slice.slice(0, n).buffer));
  await out.flush();
  await ctx.writeFile(`buckets-g${pad(ctx.index)}.json`, JSON.stringify({ ...stats, parts: out.names }));
  return stats;
}
