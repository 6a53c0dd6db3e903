/**
 * The expansion behind `dedup.exact` and `dedup.url`: documents with equal 128-bit keys form a
 * group and one of each group is kept. Stages (for `p.stage(name, …)`):
 *
 * 1. `<name>.hashes`: one task per input file; each document becomes an extsort record keyed
 *    `[hash × 4, rank × 2, file, row]`, partitioned by hash into `partitions` runs sets.
 *    `rank` encodes the keep rule (best first), so a group's first record *is* its keeper and
 *    grouping streams with no per-group buffering, whatever the group size.
 * 2. `<name>.groups`: one task per partition; merges that partition's runs and emits, for each
 *    non-keeper, a drop keyed `[file, row]` with the kept id and URL, sorted per input file.
 * 3. `<name>`: one task per input file; streams the file next to its merged drops.
 *
 * Documents without a key (e.g. no URL for `dedup.url`) are kept untouched. Output depends only
 * on the input files and the config, not on task or worker counts.
 */
import type { CustomStage, CustomTaskContext, Doc, Json, StageExpansion, StageRef } from '../../engine/types.ts';
import { mergeRunBatches } from './extsort.ts';
import { fileTasks, resourceOptions } from '../expansion.ts';
import { filesMatching, groupHex, hashedFileCount, outputRunSorter, pad, perFileRunSorter } from './parts.ts';
import { applyRowActions, type RowAction } from './rows.ts';

/** A document's group key and keeper rank (lower rank is kept; ties: input order). */
export interface GroupKey {
  /** 128-bit key as four u32 words. */
  hash: Uint32Array;
  /** Two u32 words, compared before input position (0,0 when the rule is input order). */
  rank: [number, number];
}

export interface HashGroupsSpec {
  type: string;
  /** Audit operator name. */
  name: string;
  version: string;
  config: Json;
  /** Audit reason of a drop, e.g. `dedup.exactDuplicate`. */
  reason: string;
  /** The key of a doc, or null to keep it without grouping. */
  keyOf(doc: Doc): GroupKey | null;
  partitions: number;
  bufferMB: number;
  fanIn: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Encodes a non-negative number below 2^53 as [hi, lo] u32 words. */
export function split53(x: number): [number, number] {
  return [Math.floor(x / 4294967296) >>> 0, x >>> 0];
}

/** Rank words for "larger is better" (e.g. length, date in ms): larger values sort first. */
export function descending(x: number): [number, number] {
  if (!Number.isFinite(x)) return [0xffffffff, 0xffffffff];
  const shifted = Math.min(Math.max(x + 2 ** 52, 0), 2 ** 53 - 2);
  return split53(2 ** 53 - 2 - shifted);
}


async function hashesTask(ctx: CustomTaskContext, spec: HashGroupsSpec): Promise<void> {
  const input = ctx.inputs[0]!;
  const file = ctx.index;
  const uri = input.files()[file];
  const sorter = outputRunSorter(ctx, { keyWords: 8, partitions: spec.partitions, bufferMB: spec.bufferMB });
  const key = new Uint32Array(8);
  let row = 0;
  let keyed = 0;
  if (uri !== undefined) {
    for await (const batch of input.readDocs([uri])) {
      for (const doc of batch) {
        const k = spec.keyOf(doc);
        if (k) {
          key.set(k.hash, 0);
          key[4] = k.rank[0];
          key[5] = k.rank[1];
          key[6] = file;
          key[7] = row;
          await sorter.add(k.hash[0]! % spec.partitions, key, enc.encode(JSON.stringify([doc.id, doc.meta?.url ?? null])));
          keyed++;
        }
        row++;
      }
      ctx.progress.add(batch.length, 0);
    }
  }
  await sorter.finish();
  await ctx.writeFile(`hash-t${pad(file)}.json`, JSON.stringify({ file, docs: row, keyed, runs: sorter.runs }), row);
}

async function groupsTask(ctx: CustomTaskContext, spec: HashGroupsSpec): Promise<void> {
  const hashes = ctx.inputs[0]!;
  const part = ctx.index;
  const runs = filesMatching(hashes, new RegExp(`^run-t\\d+-s\\d+-p${pad(part, 4)}\\.run$`));
  // Drops sorted by [file, row], spilled straight as each input file's runs.
  const drops = perFileRunSorter(ctx, `drops-g${pad(part, 4)}`, { keyWords: 2, files: hashedFileCount(hashes), bufferMB: spec.bufferMB });
  let cur: Uint32Array | null = null;
  let keeper: [string, string | null] = ['', null];
  let groups = 0;
  let dropped = 0;
  for await (const batch of mergeRunBatches(runs, { keyWords: 8, fanIn: spec.fanIn, tmpDir: ctx.tmpDir })) for (const rec of batch) {
    const k = rec.key;
    if (!cur || k[0] !== cur[0] || k[1] !== cur[1] || k[2] !== cur[2] || k[3] !== cur[3]) {
      cur = k.slice(0, 4);
      keeper = JSON.parse(dec.decode(rec.payload)) as [string, string | null];
      groups++;
      continue;
    }
    dropped++;
    const details = { group: groupHex(cur[0]!, cur[1]!), keptId: keeper[0], keptUrl: keeper[1] };
    await drops.add(k[6]!, [k[6]!, k[7]!], enc.encode(JSON.stringify(details)));
  }
  await drops.finish();
  await ctx.writeFile(`groups-g${pad(part, 4)}.json`, JSON.stringify({ partition: part, groups, dropped }));
  ctx.setInfo({ [`partition${part}`]: { groups, dropped } });
}

async function* dropActions(runs: string[], fanIn: number, tmpDir: string, reason: string): AsyncGenerator<RowAction> {
  for await (const batch of mergeRunBatches(runs, { keyWords: 2, fanIn, tmpDir })) {
    for (const rec of batch) yield { row: rec.key[1]!, kind: 'drop', reason, details: JSON.parse(dec.decode(rec.payload)) as Record<string, Json> };
  }
}

/** Builds the expansion for a spec. */
export function hashGroups(spec: HashGroupsSpec): StageExpansion {
  const custom = (name: string, type: string, inputs: StageRef[], output: 'docs' | 'artifact', taskCount: CustomStage['taskCount'], run: (ctx: CustomTaskContext) => Promise<void>): CustomStage => ({
    kind: 'custom',
    type,
    name,
    version: spec.version,
    config: spec.config,
    inputs,
    output,
    taskCount,
    run,
  });
  return {
    kind: 'expansion',
    type: spec.type,
    name: spec.name,
    version: spec.version,
    config: spec.config,
    expand(p, name, inputs, options) {
      if (inputs.length !== 1) throw new Error(`${spec.type}: stage '${name}' needs exactly one input stage, got ${inputs.length}`);
      const src = inputs[0]!;
      const res = resourceOptions(options);
      const hashes = p.stage(`${name}.hashes`, custom(`${name}.hashes`, `${spec.type}.hashes`, [src], 'artifact', fileTasks, (ctx) => hashesTask(ctx, spec)), undefined, res);
      const groups = p.stage(`${name}.groups`, custom(`${name}.groups`, `${spec.type}.groups`, [hashes], 'artifact', () => spec.partitions, (ctx) => groupsTask(ctx, spec)), undefined, res);
      return p.stage(
        name,
        custom(name, `${spec.type}.filter`, [src, groups], 'docs', fileTasks, async (ctx) => {
          const [input, g] = ctx.inputs;
          const file = input!.files()[ctx.index];
          const docs = file === undefined ? (async function* () {})() : input!.readDocs([file]);
          const runs = filesMatching(g!, new RegExp(`^drops-g\\d+-f${pad(ctx.index)}-p\\d+\\.run$`));
          await ctx.writeDocs(`part-${pad(ctx.index)}.parquet`, applyRowActions(ctx, spec.name, docs, dropActions(runs, spec.fanIn, ctx.tmpDir, spec.reason)));
        }),
        undefined,
        res,
      );
    },
  };
}
