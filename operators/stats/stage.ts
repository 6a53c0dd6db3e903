/**
 * `stats({ groupBy, metrics })`: per-group corpus statistics as a pipeline stage, after
 * datatrove's stats blocks and `dolma analyze`:
 *
 * ```ts
 * p.stage('stats', filtered, stats({ groupBy: ['domain', 'language'] }));
 * ```
 *
 * Two stages: `<name>.partials`, one task per input file, each accumulating its file's metrics
 * (metrics.ts) into a JSON partial; `<name>`, one task that merges the partials (sketch counts
 * add, so no second pass over the data) and writes `stats.parquet`, `stats.html` and
 * `stats.json` (the merged sketches). Each `groupBy` key is a grouping of its own; group_by `*`
 * (group `*`) is the whole input. The result depends on the data, not on task or worker counts.
 */
import { z } from 'zod';
import { parseConfig } from '../../engine/operator.ts';
import { toJson } from '../../engine/json.ts';
import type { CustomStage, CustomTaskContext, StageExpansion, StageRef } from '../../engine/types.ts';
import { fileTasks, resourceOptions } from '../expansion.ts';
import { BUILTIN_METRICS, StatsAccumulator, type GroupKeyName, type MetricName } from './metrics.ts';
import { DEFAULT_ALPHA } from './sketch.ts';
import { statsHtml, statsParquet, statsRows } from './output.ts';

/** Options of {@link stats}. */
export interface StatsOptions {
  /** Groupings, each separate: `domain`, `language`, `source` or a meta key (default `['domain']`). */
  groupBy?: GroupKeyName[];
  /** Metrics (metrics.ts): built-ins, `meta.<key>`, `meta.*` (default: every built-in and `meta.*`). */
  metrics?: MetricName[];
  /** Relative accuracy of the quantile sketches (default 0.01 = 1%). */
  alpha?: number;
  /** Rows of the top-domains table in stats.html (default 50). */
  topDomains?: number;
}

const schema = z
  .object({
    groupBy: z.array(z.string().min(1)).default(['domain']),
    metrics: z
      .array(z.string().refine((m) => (BUILTIN_METRICS as readonly string[]).includes(m) || /^meta\.(\*|[^*]+)$/.test(m), { message: `must be one of ${BUILTIN_METRICS.join(', ')}, meta.<key> or meta.*` }))
      .min(1)
      .default([...BUILTIN_METRICS, 'meta.*']),
    alpha: z.number().gt(0).lt(0.5).default(DEFAULT_ALPHA),
    topDomains: z.number().int().min(1).default(50),
  })
  .strict();

/** The validated options of {@link stats}, defaults filled in. */
export type StatsConfig = z.output<typeof schema>;

/** Accumulates every doc of the given files of a dataset. */
export async function accumulate(ds: { readDocs(files?: string[]): AsyncIterable<import('../../engine/types.ts').Doc[]> }, c: Pick<StatsConfig, 'groupBy' | 'metrics' | 'alpha'>, files?: string[], onBatch?: (n: number) => void): Promise<StatsAccumulator> {
  const acc = new StatsAccumulator(c.groupBy, c.metrics as MetricName[], c.alpha);
  for await (const batch of ds.readDocs(files)) {
    for (const d of batch) acc.add(d);
    onBatch?.(batch.length);
  }
  return acc;
}

const pad = (i: number) => String(i).padStart(5, '0');

/** Declares the stats stages (see the module comment). Defaults: groupBy `['domain']`, all metrics, alpha 0.01. */
export function stats(options: StatsOptions = {}): StageExpansion {
  const c = parseConfig('stats', schema, options);
  const config = toJson(c);
  const custom = (name: string, type: string, inputs: StageRef[], taskCount: CustomStage['taskCount'], run: (ctx: CustomTaskContext) => Promise<void>): CustomStage => ({
    kind: 'custom',
    type,
    name,
    version: '1',
    config,
    inputs,
    output: 'artifact',
    taskCount,
    run,
  });
  return {
    kind: 'expansion',
    type: 'stats',
    name: 'stats',
    version: '1',
    config,
    expand(p, name, inputs, opts) {
      if (inputs.length !== 1) throw new Error(`stats: stage '${name}' needs exactly one input stage, got ${inputs.length}`);
      const res = resourceOptions(opts);
      const partials = p.stage(
        `${name}.partials`,
        custom(`${name}.partials`, 'stats.partials', [inputs[0]!], fileTasks, async (ctx) => {
          const ds = ctx.inputs[0]!;
          const file = ds.files()[ctx.index];
          const acc = file === undefined ? new StatsAccumulator(c.groupBy, c.metrics as MetricName[], c.alpha) : await accumulate(ds, c, [file], (n) => ctx.progress.add(n, 0));
          await ctx.writeFile(`partial-${pad(ctx.index)}.json`, JSON.stringify(acc.toJSON()), 1);
        }),
        undefined,
        res,
      );
      return p.stage(
        name,
        custom(name, 'stats.merge', [partials], () => 1, async (ctx) => {
          const parts = ctx.inputs[0]!;
          const acc = new StatsAccumulator(c.groupBy, c.metrics as MetricName[], c.alpha);
          for (const uri of parts.files().filter((f) => /partial-\d+\.json$/.test(f)).sort()) {
            acc.merge(StatsAccumulator.fromJSON(JSON.parse(await ctx.storage.readText(uri))));
          }
          const rows = statsRows(acc);
          await ctx.writeFile('stats.json', JSON.stringify(acc.toJSON()), 1);
          await ctx.writeFile('stats.parquet', await statsParquet(rows), rows.length);
          await ctx.writeFile('stats.html', statsHtml(acc, `${ctx.pipeline} / ${inputs[0]!.name}: statistics`, c.topDomains), 1);
          const all = acc.groups.get('*')?.get('*');
          ctx.setInfo({ stats: { docs: all?.get('docs')?.count ?? 0, bytes: all?.get('bytes')?.sum ?? 0, tokens: all?.get('tokens')?.sum ?? 0, rows: rows.length, groups: Object.fromEntries(c.groupBy.map((k) => [k, acc.groups.get(k)?.size ?? 0])) } });
        }),
        undefined,
        res,
      );
    },
  };
}
