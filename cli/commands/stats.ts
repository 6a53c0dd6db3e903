/** `sluice stats`: two stages' statistics side by side, per group (what a filter did per domain). */
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { parse } from '../args.ts';
import { openRuntime } from '../../engine/runner.ts';
import { accumulate } from '../../operators/stats/stage.ts';
import { BUILTIN_METRICS, type MetricName, type StatsAccumulator } from '../../operators/stats/metrics.ts';
import { DEFAULT_ALPHA } from '../../operators/stats/sketch.ts';
import { fmtBytes, fmtInt } from '../../audit/text.ts';

/** One stage's figures for one group. */
export interface GroupFigures {
  docs: number;
  bytes: number;
  tokens: number;
  words: number;
  medianBytes: number | null;
  p90Bytes: number | null;
  meanWordLength: number | null;
  punctuationLines: number | null;
  duplicateLines: number | null;
  languageScore: number | null;
}

/** `sluice stats --json`: the two stages and, per group, each one's figures and the share kept. */
export interface StatsComparison {
  by: string;
  stages: [string, string];
  groups: Array<{ group: string; a: GroupFigures; b: GroupFigures; keptDocs: number | null; keptBytes: number | null }>;
}

const num = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? null : x);

function figures(acc: StatsAccumulator, by: string, group: string): GroupFigures {
  const m = acc.groups.get(by)?.get(group);
  const s = (k: string) => m?.get(k);
  return {
    docs: s('docs')?.count ?? 0,
    bytes: s('bytes')?.sum ?? 0,
    tokens: s('tokens')?.sum ?? 0,
    words: s('words')?.sum ?? 0,
    medianBytes: num(s('bytes')?.quantile(0.5)),
    p90Bytes: num(s('bytes')?.quantile(0.9)),
    meanWordLength: num(s('meanWordLength')?.mean()),
    punctuationLines: num(s('punctuationLines')?.mean()),
    duplicateLines: num(s('duplicateLines')?.mean()),
    languageScore: num(s('languageScore')?.mean()),
  };
}

/** Compares two accumulators grouped by `by`: every group of either, sorted by docs of the first (the `*` total first). */
export function compareStats(a: StatsAccumulator, b: StatsAccumulator, by: string, stages: [string, string]): StatsComparison {
  const names = new Set([...(a.groups.get(by)?.keys() ?? []), ...(b.groups.get(by)?.keys() ?? [])]);
  const groups = [...names].map((g) => {
    const fa = figures(a, by, g);
    const fb = figures(b, by, g);
    return { group: g, a: fa, b: fb, keptDocs: fa.docs ? fb.docs / fa.docs : null, keptBytes: fa.bytes ? fb.bytes / fa.bytes : null };
  });
  groups.sort((x, y) => y.a.docs - x.a.docs || y.b.docs - x.b.docs || x.group.localeCompare(y.group));
  const total = { group: '*', a: figures(a, '*', '*'), b: figures(b, '*', '*'), keptDocs: 0 as number | null, keptBytes: 0 as number | null };
  total.keptDocs = total.a.docs ? total.b.docs / total.a.docs : null;
  total.keptBytes = total.a.bytes ? total.b.bytes / total.a.bytes : null;
  return { by, stages, groups: [total, ...groups] };
}

const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
const med = (x: number | null) => (x === null ? '–' : fmtInt(Math.round(x)));

/** Text table of a comparison (at most `top` groups after the total). */
export function renderComparison(c: StatsComparison, top: number): string {
  const [A, B] = c.stages;
  const head = [c.by, `docs ${A}`, `docs ${B}`, 'kept', `bytes ${A}`, `bytes ${B}`, 'kept', `tokens ${A}`, `tokens ${B}`, `median B ${A}`, `median B ${B}`, `punct ${A}`, `punct ${B}`, `dup ${A}`, `dup ${B}`];
  const rows = c.groups.slice(0, top + 1).map((g) => [
    g.group === '*' ? '(all)' : g.group,
    fmtInt(g.a.docs),
    fmtInt(g.b.docs),
    pct(g.keptDocs),
    fmtBytes(g.a.bytes),
    fmtBytes(g.b.bytes),
    pct(g.keptBytes),
    fmtInt(g.a.tokens),
    fmtInt(g.b.tokens),
    med(g.a.medianBytes),
    med(g.b.medianBytes),
    pct(g.a.punctuationLines),
    pct(g.b.punctuationLines),
    pct(g.a.duplicateLines),
    pct(g.b.duplicateLines),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join('  ');
  const more = c.groups.length - 1 - top;
  return [line(head), ...rows.map(line), ...(more > 0 ? [`… ${fmtInt(more)} more groups (--top N, or --json for all)`] : [])].join('\n') + '\n';
}

/** The `sluice stats` sub-command. */
export const statsCommand: Command = {
  usage: `sluice stats <pipeline.ts> --stage S [--stage B] [--by domain] [--workdir W] [--top N] [--json]

Reads two completed stages and shows, per group, each one's docs, bytes, tokens, median length
in bytes, share of lines ending in punctuation and duplicate-line share, with the share of docs
and bytes the second kept. One --stage S compares S's input (its first upstream stage) with S;
two compare the first with the second. The first row, (all), is the whole stage.

Quantiles come from a DDSketch (relative error 1%). For the full table as Parquet and an HTML
report inside a pipeline, use the stats() stage (docs/mixtures-and-stats.md).

Options:
  --stage S      the stage (repeat once to name both)
  --by K         group by domain (default), language, source or a meta key
  --top N        groups shown in the text table (default 30)
  --workdir W    override the pipeline's workdir
  --json         print the comparison as JSON (every group)

Examples:
  sluice stats pipelines/quickstart.ts --stage filtered
  sluice stats p.ts --stage raw --stage deduped --by language --json`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      stage: { type: 'string', multiple: true },
      by: { type: 'string' },
      top: { type: 'string' },
      workdir: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length !== 1) throw new UsageError('expected exactly one pipeline file');
    const stagesArg = values.stage ?? [];
    if (stagesArg.length < 1 || stagesArg.length > 2) throw new UsageError('give --stage S (compares S with its input) or --stage A --stage B');
    const top = values.top === undefined ? 30 : Number(values.top);
    if (!Number.isInteger(top) || top < 1) throw new UsageError(`--top must be a positive integer, got '${values.top}'`);
    const by = values.by ?? 'domain';
    const rt = await openRuntime(positionals[0]!, values.workdir);
    let pair: [string, string];
    if (stagesArg.length === 2) pair = [stagesArg[0]!, stagesArg[1]!];
    else {
      const s = rt.pipeline.stage(stagesArg[0]!);
      const input = s.input.kind === 'stages' ? s.input.refs[0]?.name : s.input.kind === 'custom' ? s.input.custom.inputs[0]?.name : undefined;
      if (!input) throw new UsageError(`stage '${s.name}' reads a source, not a stage: name the other stage with a second --stage`);
      pair = [input, s.name];
    }
    const accs: StatsAccumulator[] = [];
    for (const name of pair) {
      const ds = await rt.dataset(name);
      if (ds.manifest.output !== 'docs') throw new Error(`stage '${name}' is an artifact stage (no documents to count)`);
      accs.push(await accumulate(ds, { groupBy: [by], metrics: [...BUILTIN_METRICS] as MetricName[], alpha: DEFAULT_ALPHA }));
    }
    const cmp = compareStats(accs[0]!, accs[1]!, by, pair);
    process.stdout.write(values.json ? JSON.stringify(cmp, null, 1) + '\n' : renderComparison(cmp, top));
    return 0;
  },
};
