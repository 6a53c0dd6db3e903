/**
 * `dedup.minhash` as a stage expansion. `p.stage('dedup', clean, dedup.minhash({...}))` declares:
 *
 * 1. `dedup.signatures`: one task per input file → band records (sorted runs), row records.
 * 2. `dedup.buckets`: one task per `bandsPerTask` bands → merged runs → union-find forest.
 * 3. `dedup.clusters`: one task → clusters, keepers, per-file assignments.
 * 4. `dedup`: one task per input file → the kept documents (cluster keepers annotated with
 *    `meta.dedupCluster` / `meta.dedupClusterSize`); every removed document is an audit drop
 *    `dedup.nearDuplicate` scored with its Jaccard to the kept one and naming the cluster, the kept
 *    id and URL.
 *
 * Every output is a function of the input files and the config only (documents are numbered by
 * file order and row; ties resolve by that number), so any worker or task count gives the same
 * result.
 */
import type { Json, StageExpansion } from '../../../engine/types.ts';
import { filesMatching, lines, pad, streamFiles } from '../parts.ts';
import { applyRowActions, type RowAction } from '../rows.ts';
import { clusterTask } from './cluster-task.ts';
import { parseMinhashConfig, type MinHashConfig } from './config.ts';
import type { Assignment } from './layout.ts';
import { bucketTask, bucketTaskCount } from './lsh-buckets.ts';
import { signatureTask } from './signature-task.ts';
import { toJson } from '../../../engine/json.ts';
import { fileTasks, resourceOptions, stageMaker } from '../../expansion.ts';

export const MINHASH_VERSION = '1';


/** Turns the clusters stage's assignment lines (row order) into row actions. */
export async function* assignmentActions(assignments: AsyncIterable<string>): AsyncGenerator<RowAction> {
  for await (const l of assignments) {
    if (!l) continue;
    const a = JSON.parse(l) as Assignment;
    if (a.kept) yield { row: a.row, kind: 'annotate', meta: { dedupCluster: a.cluster, dedupClusterSize: a.size } };
    else {
      const details: Record<string, Json> = { cluster: a.cluster, clusterSize: a.size, keptId: a.keptId ?? null, keptUrl: a.keptUrl ?? null };
      yield { row: a.row, kind: 'drop', reason: 'dedup.nearDuplicate', score: a.jaccard, details };
    }
  }
}

/**
 * MinHash-LSH near-duplicate removal. Defaults: `ngram: 5, bands: 14, rows: 8, seed: 1`
 * (LSH threshold ≈ (1/14)^(1/8) = 0.72; a pair at Jaccard 0.8 is found with probability 0.92),
 * `verify: false`, `threshold: 0.8` (for `verify`), `keep: 'first'` (input order; or `longest`,
 * or `score` = highest `meta[scoreKey]`, default key `quality.score`), `bandsPerTask: 1`,
 * `bufferMB: 64` per task sort buffer, `fanIn: 64`.
 */
export function minhash(options: Partial<MinHashConfig> = {}): StageExpansion {
  const cfg = parseMinhashConfig(options);
  const auditName = cfg.name ?? 'dedup.minhash';
  const config = toJson(cfg);
  const custom = stageMaker(MINHASH_VERSION, config);
  return {
    kind: 'expansion',
    type: 'dedup.minhash',
    name: auditName,
    version: MINHASH_VERSION,
    config,
    expand(p, name, inputs, options) {
      if (inputs.length !== 1) throw new Error(`dedup.minhash: stage '${name}' needs exactly one input stage, got ${inputs.length}`);
      const src = inputs[0]!;
      const res = resourceOptions(options);
      const sigs = p.stage(`${name}.signatures`, custom('dedup.minhash.signatures', `${name}.signatures`, [src], 'artifact', fileTasks, (ctx) => signatureTask(ctx, cfg)), undefined, res);
      const buckets = p.stage(
        `${name}.buckets`,
        custom('dedup.minhash.buckets', `${name}.buckets`, [sigs], 'artifact', () => bucketTaskCount(cfg), async (ctx) => {
          const s = await bucketTask(ctx, cfg, ctx.inputs[0]!);
          ctx.log(`bands ${s.bands.join(',')}: ${s.records} records, ${s.candidateBuckets} candidate buckets, ${s.unions} unions`);
        }),
        undefined,
        res,
      );
      const clusters = p.stage(
        `${name}.clusters`,
        custom('dedup.minhash.clusters', `${name}.clusters`, [sigs, buckets], 'artifact', () => 1, async (ctx) => {
          const s = await clusterTask(ctx, cfg, ctx.inputs[0]!, ctx.inputs[1]!);
          ctx.setInfo({ ...s });
        }),
        undefined,
        res,
      );
      return p.stage(
        name,
        custom('dedup.minhash.filter', name, [src, clusters], 'docs', fileTasks, async (ctx) => {
          const [input, cl] = ctx.inputs;
          const file = input!.files()[ctx.index];
          const docs = file === undefined ? (async function* () {})() : input!.readDocs([file]);
          const assign = lines(streamFiles(filesMatching(cl!, new RegExp(`^assign-f${pad(ctx.index)}-p\\d+\\.jsonl$`))));
          await ctx.writeDocs(`part-${pad(ctx.index)}.parquet`, applyRowActions(ctx, auditName, docs, assignmentActions(assign)));
        }),
        undefined,
        res,
      );
    },
  };
}
