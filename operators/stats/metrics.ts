/**
 * Per-document metrics and their per-group accumulation for `stats()` and `sluice stats`.
 *
 * Built-in metrics (names are the `metrics` option's and the Parquet `metric` column's):
 * - `docs`: 1 per document (its `sum` is the document count);
 * - `bytes`: UTF-8 bytes of the text (its quantiles are the length quantiles);
 * - `tokens`: length of the `tokens` column (documents without tokens are not counted in it);
 * - `words`: whitespace-separated words; `meanWordLength`: characters per word of the document;
 * - `punctuationLines`: share of the document's non-empty lines ending in `. ! ? " ' …` or
 *   their full-width forms (C4's line rule);
 * - `duplicateLines`: share of non-empty lines that repeat an earlier line of the same document
 *   (Gopher's repetition signal);
 * - `languageScore`: `meta.langScore` (written by `filter.language`), when present;
 * - `meta.<key>`: any numeric `meta` field; `meta.*` (the default) takes every numeric field found.
 *
 * Each (group, metric) keeps a count, sum, min, max and a {@link QuantileSketch}; merging two
 * accumulators adds them, so tasks combine without a second pass.
 */
import { QuantileSketch, type SketchJson } from './sketch.ts';
import type { Doc } from '../../engine/types.ts';

/** The built-in metrics. */
export const BUILTIN_METRICS = ['docs', 'bytes', 'tokens', 'words', 'meanWordLength', 'punctuationLines', 'duplicateLines', 'languageScore'] as const;
export type BuiltinMetric = (typeof BUILTIN_METRICS)[number];
/** A metric name: a built-in, `meta.<key>` or `meta.*`. */
export type MetricName = BuiltinMetric | `meta.${string}`;

/** Keys a document can be grouped by: `domain` (URL host, `www.` removed), `language` (`meta.lang`), `source`, or any meta key. */
export type GroupKeyName = 'domain' | 'language' | 'source' | (string & {});

const PUNCT_END = /[.!?"'…。！？”’)]$/u;
const enc = new TextEncoder();

/** Values of the built-in metrics for one document (absent when it does not apply). */
export function docMetrics(doc: Doc): Partial<Record<BuiltinMetric, number>> {
  const text = typeof doc.text === 'string' ? doc.text : '';
  const out: Partial<Record<BuiltinMetric, number>> = { docs: 1, bytes: enc.encode(text).length };
  if (doc.tokens) out.tokens = doc.tokens.length;
  const words = text.split(/\s+/u).filter(Boolean);
  out.words = words.length;
  if (words.length) out.meanWordLength = words.reduce((a, w) => a + [...w].length, 0) / words.length;
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length) {
    let punct = 0;
    let dup = 0;
    const seen = new Set<string>();
    for (const l of lines) {
      if (PUNCT_END.test(l)) punct++;
      if (seen.has(l)) dup++;
      else seen.add(l);
    }
    out.punctuationLines = punct / lines.length;
    out.duplicateLines = dup / lines.length;
  }
  const ls = doc.meta?.langScore;
  if (typeof ls === 'number' && Number.isFinite(ls)) out.languageScore = ls;
  return out;
}

/** A document's group under `key` (`(none)` when it has no value). */
export function groupOf(doc: Doc, key: GroupKeyName): string {
  const meta = doc.meta ?? {};
  switch (key) {
    case 'domain': {
      const u = meta.url;
      if (typeof u !== 'string') return '(none)';
      try {
        return new URL(u).hostname.replace(/^www\./, '') || '(none)';
      } catch {
        return '(invalid url)';
      }
    }
    case 'language': {
      const l = meta.lang ?? meta.language;
      return typeof l === 'string' && l ? l : '(none)';
    }
    case 'source': {
      // A mixture's source stage, else the input file of `meta.source` (`file#offset` / `file:line`).
      if (typeof meta.mixSource === 'string') return meta.mixSource;
      const s = meta.source;
      return typeof s === 'string' ? s.replace(/(#\d+|:\d+)$/, '') : '(none)';
    }
    default: {
      const v = meta[key];
      return v === undefined || v === null ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v);
    }
  }
}

/** One (group, metric) accumulator in JSON form. */
export interface MetricJson {
  sketch: SketchJson;
}

/** Accumulated metrics of every group: `groups[groupBy][group][metric]`; `groupBy` `*` holds the whole input under group `*`. */
export class StatsAccumulator {
  readonly groups = new Map<string, Map<string, Map<string, QuantileSketch>>>();

  /**
   * `groupBy`: the keys to group by (each a separate grouping; `*` = all documents is always
   * present). `metrics`: which to compute. `alpha`: the sketches' relative accuracy.
   */
  constructor(
    readonly groupBy: GroupKeyName[],
    readonly metrics: MetricName[],
    readonly alpha: number,
  ) {}

  private metricsOf(doc: Doc): Array<[string, number]> {
    const builtin = docMetrics(doc);
    const out: Array<[string, number]> = [];
    for (const m of this.metrics) {
      if (m === 'meta.*') {
        for (const [k, v] of Object.entries(doc.meta ?? {})) if (typeof v === 'number' && Number.isFinite(v) && !this.metrics.includes(`meta.${k}`)) out.push([`meta.${k}`, v]);
      } else if (m.startsWith('meta.')) {
        const v = (doc.meta ?? {})[m.slice(5)];
        if (typeof v === 'number' && Number.isFinite(v)) out.push([m, v]);
      } else {
        const v = builtin[m as BuiltinMetric];
        if (v !== undefined) out.push([m, v]);
      }
    }
    return out;
  }

  /** Adds one document to `*` and to its group under every `groupBy` key. */
  add(doc: Doc): void {
    const values = this.metricsOf(doc);
    this.addTo('*', '*', values);
    for (const k of this.groupBy) this.addTo(k, groupOf(doc, k), values);
  }

  private addTo(by: string, group: string, values: Array<[string, number]>): void {
    let g = this.groups.get(by);
    if (!g) this.groups.set(by, (g = new Map()));
    let m = g.get(group);
    if (!m) g.set(group, (m = new Map()));
    for (const [name, v] of values) {
      let s = m.get(name);
      if (!s) m.set(name, (s = new QuantileSketch(this.alpha)));
      s.add(v);
    }
  }

  /** Adds another accumulator (same options) into this one. */
  merge(o: StatsAccumulator): void {
    for (const [by, g] of o.groups) {
      for (const [group, m] of g) {
        for (const [name, s] of m) {
          let gg = this.groups.get(by);
          if (!gg) this.groups.set(by, (gg = new Map()));
          let mm = gg.get(group);
          if (!mm) gg.set(group, (mm = new Map()));
          const mine = mm.get(name);
          if (mine) mine.merge(s);
          else {
            const copy = new QuantileSketch(this.alpha);
            copy.merge(s);
            mm.set(name, copy);
          }
        }
      }
    }
  }

  /** JSON form (`{ groupBy, metrics, alpha, groups: { by: { group: { metric: sketch } } } }`), keys sorted. */
  toJSON(): { groupBy: string[]; metrics: string[]; alpha: number; groups: Record<string, Record<string, Record<string, SketchJson>>> } {
    const groups: Record<string, Record<string, Record<string, SketchJson>>> = {};
    for (const by of [...this.groups.keys()].sort()) {
      const g = this.groups.get(by)!;
      const o: Record<string, Record<string, SketchJson>> = (groups[by] = {});
      for (const group of [...g.keys()].sort()) {
        const m = g.get(group)!;
        o[group] = Object.fromEntries([...m.keys()].sort().map((k) => [k, m.get(k)!.toJSON()]));
      }
    }
    return { groupBy: this.groupBy, metrics: this.metrics, alpha: this.alpha, groups };
  }

  /** Rebuilds an accumulator from its JSON form. */
  static fromJSON(j: ReturnType<StatsAccumulator['toJSON']>): StatsAccumulator {
    const a = new StatsAccumulator(j.groupBy, j.metrics as MetricName[], j.alpha);
    for (const [by, g] of Object.entries(j.groups)) {
      const gm = new Map<string, Map<string, QuantileSketch>>();
      for (const [group, m] of Object.entries(g)) gm.set(group, new Map(Object.entries(m).map(([k, s]) => [k, QuantileSketch.fromJSON(s)])));
      a.groups.set(by, gm);
    }
    return a;
  }
}

/** Quantiles reported per (group, metric). */
export const QUANTILES = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99] as const;

/** One row of the stats table (and of `stats.parquet`). */
export interface StatsRow {
  group_by: string;
  group: string;
  metric: string;
  /** Documents with a value for the metric. */
  count: number;
  sum: number;
  mean: number;
  min: number;
  max: number;
  p01: number;
  p10: number;
  p25: number;
  p50: number;
  p75: number;
  p90: number;
  p99: number;
}

/** Flattens an accumulator into rows: group_by, group, metric, count, sum, mean, min, max and quantiles. */
export function statsRows(a: StatsAccumulator): StatsRow[] {
  const rows: StatsRow[] = [];
  const j = a.toJSON();
  for (const [by, g] of Object.entries(j.groups)) {
    for (const [group, m] of Object.entries(g)) {
      for (const [metric, sj] of Object.entries(m)) {
        const s = QuantileSketch.fromJSON(sj);
        const [p01, p10, p25, p50, p75, p90, p99] = QUANTILES.map((q) => s.quantile(q)) as [number, number, number, number, number, number, number];
        rows.push({ group_by: by, group, metric, count: s.count, sum: s.sum, mean: s.mean(), min: s.min, max: s.max, p01, p10, p25, p50, p75, p90, p99 });
      }
    }
  }
  return rows;
}
