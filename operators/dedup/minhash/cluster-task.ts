/**
 * The `<name>.clusters` task body (a barrier, one task): unions the bucketing tasks' forests
 * into one union-find over all documents, chooses each cluster's keeper, and writes per input
 * file the rows that belong to a cluster (`assign-f<f>-p<p>.jsonl`, row order) with the kept
 * document's id and URL and the member's Jaccard with it.
 *
 * Sequential scans of the signatures stage's row records and ids, processed synchronously per
 * streamed chunk (random access only for exact Jaccard under `verify`): keepers, keeper
 * signatures, members' Jaccard, ids. Memory: 8 bytes per document (parent + component size)
 * plus a few hundred bytes per clustered document.
 */
import type { CustomTaskContext, Dataset } from '../../../engine/types.ts';
import { fileNamed, filesMatching, fixedRecords, pad, PartWriter, streamFiles } from '../parts.ts';
import { UnionFind } from './cluster.ts';
import type { MinHashConfig } from './config.ts';
import { DocIndex, rowField, scanLines, scanRows, type Assignment } from './layout.ts';
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

export async function clusterTask(ctx: CustomTaskContext, cfg: MinHashConfig, signatures: Dataset, buckets: Dataset): Promise<ClusterStats> {
  const index = await DocIndex.load(signatures, ctx.storage);
  const uf = new UnionFind(index.total);
  for await (const dv of fixedRecords(streamFiles(filesMatching(buckets, /^forest-g\d+-p\d+\.bin$/)), 8)) {
    uf.union(dv.getUint32(0, true), dv.getUint32(4, true));
  }
  const sizes = uf.sizes();
  // Roots of clusters (components of 2+), computed once: root[g] for clustered g, else -1.
  const root = new Int32Array(index.total).fill(-1);
  let clusteredDocs = 0;
  let largestCluster = 0;
  for (let g = 0; g < index.total; g++) {
    const r = uf.find(g);
    if (sizes[r]! >= 2) {
      root[g] = r;
      clusteredDocs++;
      largestCluster = Math.max(largestCluster, sizes[r]!);
    }
  }

  // Scan 1: keeper per cluster.
  const best = new Map<number, Candidate>();
  for (const t of index.tasks) {
    const base = index.offsets[t.file]!;
    await scanRows(signatures, t, (row, dv, off) => {
      const g = base + row;
      const r = root[g]!;
      if (r < 0) return;
      const c: Candidate = { index: g, bytes: rowField.bytes(dv, off), score: rowField.score(dv, off) };
      const cur = best.get(r);
      if (!cur || better(cfg.keep, c, cur)) best.set(r, c);
    });
  }
  const keeperOf = (g: number) => best.get(root[g]!)!.index;

  // Scan 2: keepers' signatures. Scan 3: each member's Jaccard with its keeper.
  const jac = new Map<number, number>();
  if (cfg.verify) {
    const fetcher = new ShingleFetcher(signatures, index);
    try {
      for (let g = 0; g < index.total; g++) {
        if (root[g]! < 0 || keeperOf(g) === g) continue;
        jac.set(g, jaccard(await fetcher.get(g), await fetcher.get(keeperOf(g))));
      }
    } finally {
      await fetcher.close();
    }
  } else {
    const keeperSig = new Map<number, Uint32Array>();
    for (const t of index.tasks) {
      const base = index.offsets[t.file]!;
      await scanRows(signatures, t, (row, dv, off) => {
        const g = base + row;
        if (root[g]! >= 0 && keeperOf(g) === g) keeperSig.set(root[g]!, rowField.sig(dv, off, t.k));
      });
    }
    for (const t of index.tasks) {
      const base = index.offsets[t.file]!;
      await scanRows(signatures, t, (row, dv, off) => {
        const g = base + row;
        const r = root[g]!;
        if (r >= 0 && keeperOf(g) !== g) jac.set(g, estimateJaccard(rowField.sig(dv, off, t.k), keeperSig.get(r)!));
      });
    }
  }

  // Scan 4: ids and URLs of clustered docs (names of clusters are their roots' ids).
  const ids = new Map<number, [string, string | null]>();
  for (const t of index.tasks) {
    const base = index.offsets[t.file]!;
    const n = await scanLines(
      t.idParts.map((p) => fileNamed(signatures, p)),
      (row, line) => {
        if (root[base + row]! >= 0) ids.set(base + row, JSON.parse(line) as [string, string | null]);
      },
    );
    if (n !== t.docs) throw new Error(`${signatures.stage}: file ${t.file} has ${n} ids, its summary says ${t.docs}`);
  }

  // Assignments, per input file in row order.
  const enc = new TextEncoder();
  let duplicates = 0;
  for (const t of index.tasks) {
    const base = index.offsets[t.file]!;
    const writer = new PartWriter(ctx, `assign-f${pad(t.file)}`, '.jsonl', 16 << 20);
    for (let row = 0; row < t.docs; row++) {
      const g = base + row;
      const r = root[g]!;
      if (r < 0) continue;
      const a: Assignment = { row, cluster: ids.get(r)![0], size: sizes[r]! };
      const k = keeperOf(g);
      if (k === g) a.kept = true;
      else {
        duplicates++;
        const [keptId, keptUrl] = ids.get(k)!;
        a.keptId = keptId;
        a.keptUrl = keptUrl;
        a.jaccard = jac.get(g)!;
      }
      await writer.write(enc.encode(JSON.stringify(a) + '\n'));
    }
    await writer.flush();
  }
  const stats: ClusterStats = { docs: index.total, clusters: best.size, clusteredDocs, duplicates, largestCluster };
  await ctx.writeFile('clusters.json', JSON.stringify(stats));
  return stats;
}
