/**
 * The `<name>.clusters` task body (a barrier, one task): unions the bucketing tasks' forests
 * into one union-find over all documents, chooses each cluster's keeper, and writes per input
 * file the rows that belong to a cluster (`assign-f<f>-p<p>.jsonl`, row order) with the kept
 * document's id and URL and the member's Jaccard with it.
 *
 * Three sequential streams over the signatures stage's row records (no random access except
 * for exact Jaccard under `verify`): keeper choice, keeper details, assignments. Memory: 8 bytes
 * per document (parent + component size) plus a few hundred bytes per cluster.
 */
import type { CustomTaskContext, Dataset } from '../../../engine/types.ts';
import { fileNamed, filesMatching, fixedRecords, lines, pad, PartWriter, streamFiles } from '../parts.ts';
import { UnionFind } from './cluster.ts';
import type { MinHashConfig } from './config.ts';
import { DocIndex, rowRecords, type Assignment, type RowRecord } from './layout.ts';
import { ShingleFetcher } from './lsh-buckets.ts';
import { better, type Candidate } from './select.ts';
import { jaccard } from './shingle.ts';
import { estimateJaccard } from './signature.ts';

/** Totals of a clustering. */
export interface ClusterStats {
  docs: number;
  clusters: number;
  clusteredDocs: number;
  duplicates: number;
  largestCluster: number;
}

/** Rows of every signatures task with their ids, in global order. */
async function* rowsWithIds(ds: Dataset, index: DocIndex): AsyncGenerator<{ g: number; file: number; row: number; rec: RowRecord; id: string; url: string | null }> {
  for (const t of index.tasks) {
    const recs = rowRecords(ds, t);
    const ids = lines(streamFiles(t.idParts.map((n) => fileNamed(ds, n))));
    for (let row = 0; row < t.docs; row++) {
      const r = await recs.next();
      const l = await ids.next();
      if (r.done || l.done) throw new Error(`${ds.stage}: file ${t.file} has fewer rows than its summary says (${row} < ${t.docs})`);
      const [id, url] = JSON.parse(l.value) as [string, string | null];
      yield { g: index.global(t.file, row), file: t.file, row, rec: r.value, id, url };
    }
  }
}

export async function clusterTask(ctx: CustomTaskContext, cfg: MinHashConfig, signatures: Dataset, buckets: Dataset): Promise<ClusterStats> {
  const index = await DocIndex.load(signatures, ctx.storage);
  const uf = new UnionFind(index.total);
  for await (const dv of fixedRecords(streamFiles(filesMatching(buckets, /^forest-g\d+-p\d+\.bin$/)), 8)) {
    uf.union(dv.getUint32(0, true), dv.getUint32(4, true));
  }
  const sizes = uf.sizes();
  const clustered = (g: number) => sizes[uf.find(g)]! >= 2;

  // Pass 1: keeper per cluster (keyed by root, the cluster's smallest member).
  const best = new Map<number, Candidate>();
  for (const t of index.tasks) {
    let row = 0;
    for await (const rec of rowRecords(signatures, t)) {
      const g = index.global(t.file, row++);
      if (!clustered(g)) continue;
      const root = uf.find(g);
      const c: Candidate = { index: g, bytes: rec.bytes, score: rec.score };
      const cur = best.get(root);
      if (!cur || better(cfg.keep, c, cur)) best.set(root, c);
    }
  }

  // Pass 2: keeper ids, URLs and signatures; cluster names (id of the root).
  const keeperOf = new Map<number, number>();
  for (const [root, c] of best) keeperOf.set(c.index, root);
  const keepers = new Map<number, { id: string; url: string | null; sig: Uint32Array }>();
  const names = new Map<number, string>();
  for await (const r of rowsWithIds(signatures, index)) {
    if (sizes[r.g]! >= 2 && uf.find(r.g) === r.g) names.set(r.g, r.id);
    if (keeperOf.has(r.g)) keepers.set(keeperOf.get(r.g)!, { id: r.id, url: r.url, sig: r.rec.sig });
  }

  // Pass 3: assignments per input file.
  const fetcher = cfg.verify ? new ShingleFetcher(signatures, index) : null;
  const stats: ClusterStats = { docs: index.total, clusters: best.size, clusteredDocs: 0, duplicates: 0, largestCluster: 0 };
  const enc = new TextEncoder();
  try {
    let writer: PartWriter | null = null;
    let file = -1;
    for await (const r of rowsWithIds(signatures, index)) {
      if (r.file !== file) {
        await writer?.flush();
        file = r.file;
        writer = new PartWriter(ctx, `assign-f${pad(file)}`, '.jsonl', 16 << 20);
      }
      if (!clustered(r.g)) continue;
      const root = uf.find(r.g);
      const size = sizes[root]!;
      const keeper = best.get(root)!;
      stats.clusteredDocs++;
      stats.largestCluster = Math.max(stats.largestCluster, size);
      const a: Assignment = { row: r.row, cluster: names.get(root)!, size };
      if (keeper.index === r.g) a.kept = true;
      else {
        stats.duplicates++;
        const k = keepers.get(root)!;
        a.keptId = k.id;
        a.keptUrl = k.url;
        a.jaccard = fetcher ? jaccard(await fetcher.get(r.g), await fetcher.get(keeper.index)) : estimateJaccard(r.rec.sig, k.sig);
      }
      await writer!.write(enc.encode(JSON.stringify(a) + '\n'));
    }
    await writer?.flush();
  } finally {
    await fetcher?.close();
  }
  await ctx.writeFile('clusters.json', JSON.stringify(stats));
  return stats;
}
