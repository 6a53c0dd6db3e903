/**
 * The contamination report: per benchmark, GPT-3's table (appendix C, table C.1) — N, total,
 * dirty count and %, score on all, dirty and clean items, and the relative difference of clean
 * vs all — headed by a method card (normalisation, N, thresholds, rule, corpus fingerprint).
 * Rendered as JSON (this object), Markdown (`reportMarkdown`) and HTML (`./html.ts`).
 */
import type { Json } from '../../engine/types.ts';
import type { McResult } from '../multiple-choice.ts';
import { primaryMetric, subjectAverage } from '../multiple-choice.ts';
import { mean } from '../stats.ts';
import type { BenchmarkContamination, ContaminationMethod, CorpusInfo, ItemContamination, ScanResult } from './scan.ts';

/** One row of the GPT-3-style table: one benchmark under one scoring method. */
export interface ReportRow {
  benchmark: string;
  /** `acc (text)`, `acc (letter)`, `perplexity (cloze)`, … or `—` without scores. */
  metric: string;
  /** Whether a higher score is better (false for perplexity). */
  higherIsBetter: boolean;
  ngram: number;
  total: number;
  dirty: number;
  dirtyPct: number;
  clean: number;
  cleanPct: number;
  scoreAll: number | null;
  scoreDirty: number | null;
  scoreClean: number | null;
  /** (clean − all) / all. */
  relDiff: number | null;
  /** Items with no n-gram at all (too short); never flagged. */
  unindexed: number;
}

export interface ContaminationReport {
  format: 'sluice.contamination/1';
  title: string;
  method: ContaminationMethod;
  corpus: CorpusInfo;
  rows: ReportRow[];
  /** Per benchmark, the items with matches (dirty first, highest score first). */
  benchmarks: BenchmarkContamination[];
}

function subsetScore(r: McResult, metric: string, keep: (id: string) => boolean): number | null {
  const items = r.items.filter((s) => keep(s.id));
  if (items.length === 0) return null;
  switch (metric) {
    case 'acc':
      return mean(items.map((s) => s.acc));
    case 'acc_norm':
      return mean(items.map((s) => s.accNorm ?? NaN));
    case 'acc_subject_avg':
      return subjectAverage(items, (s) => s.acc).value;
    case 'perplexity':
      return Math.exp(-mean(items.map((s) => s.lls[0]!)));
    default:
      throw new Error(`contamination report: no per-item definition of metric '${metric}'`);
  }
}

/**
 * Builds the report from a scan and (optionally) the model's scores on the same benchmarks; each
 * scoring result (e.g. MMLU by text and by letter) gets its own row, its method named.
 */
export function contaminationReport(scan: ScanResult, results: McResult[] = [], title = 'Train–test contamination'): ContaminationReport {
  const rows: ReportRow[] = [];
  for (const b of scan.benchmarks) {
    const dirty = new Set(b.dirtyIds);
    const base = {
      benchmark: b.name,
      ngram: scan.method.ngrams[b.name] ?? (typeof scan.method.ngram === 'number' ? scan.method.ngram : 13),
      total: b.total,
      dirty: b.dirty,
      dirtyPct: b.total ? (100 * b.dirty) / b.total : 0,
      clean: b.total - b.dirty,
      cleanPct: b.total ? (100 * (b.total - b.dirty)) / b.total : 0,
      unindexed: b.unindexed,
    };
    const mine = results.filter((r) => r.benchmark === b.name);
    if (mine.length === 0) rows.push({ ...base, metric: '—', higherIsBetter: true, scoreAll: null, scoreDirty: null, scoreClean: null, relDiff: null });
    for (const r of mine) {
      const metric = primaryMetric(r);
      const all = subsetScore(r, metric, () => true);
      const clean = subsetScore(r, metric, (id) => !dirty.has(id));
      const scored = new Set(r.items.map((s) => s.id));
      rows.push({
        ...base,
        // Scores may cover a prefix (`limit`): the counts are then over the scored items.
        ...(r.items.length !== b.total ? { total: r.items.length, dirty: [...dirty].filter((id) => scored.has(id)).length } : {}),
        metric: `${metric} (${r.method}${r.fewshot ? `, ${r.fewshot}-shot` : ''})`,
        higherIsBetter: metric !== 'perplexity',
        scoreAll: all,
        scoreDirty: subsetScore(r, metric, (id) => dirty.has(id)),
        scoreClean: clean,
        relDiff: all !== null && clean !== null && all !== 0 ? (clean - all) / all : null,
      });
      const last = rows[rows.length - 1]!;
      last.clean = last.total - last.dirty;
      last.dirtyPct = last.total ? (100 * last.dirty) / last.total : 0;
      last.cleanPct = 100 - last.dirtyPct;
    }
  }
  const sortItems = (xs: ItemContamination[]) => [...xs].sort((a, b) => Number(b.dirty) - Number(a.dirty) || b.score - a.score || b.matched - a.matched || a.index - b.index);
  return {
    format: 'sluice.contamination/1',
    title,
    method: scan.method,
    corpus: scan.corpus,
    rows,
    benchmarks: scan.benchmarks.map((b) => ({ ...b, items: sortItems(b.items) })),
  };
}

/** The report as JSON data. */
export function reportJson(r: ContaminationReport): Json {
  return JSON.parse(JSON.stringify(r)) as Json;
}

/** A score for a table: 4 decimals, or 4 significant digits in exponent form past 10^6 (cloze perplexities). */
export const fmtScore = (v: number | null, digits = 4) => (v === null || Number.isNaN(v) ? '—' : Math.abs(v) >= 1e6 ? v.toExponential(3) : v.toFixed(digits));
const fmt = fmtScore;
const pct = (v: number) => `${v.toFixed(2)}%`;
const signedPct = (v: number | null) => (v === null ? '—' : `${v >= 0 ? '+' : ''}${(100 * v).toFixed(2)}%`);
const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The method card as label/value pairs (shared by Markdown and HTML). */
export function methodCard(r: ContaminationReport): Array<[string, string]> {
  const m = r.method;
  return [
    ['normalisation', m.normalisation],
    ['n-gram', `${m.ngram === 'auto' ? 'auto (per benchmark: 5th percentile of item length, clipped to [8, 13], GPT-3 appendix C)' : `${m.ngram}`} ${m.unit}: ${Object.entries(m.ngrams).map(([b, n]) => `${b} ${n}`).join(', ')}`],
    ['fields indexed', `${m.fields}: each field on its own (question, each answer choice of at least N ${m.unit}, passage or context) and their concatenations (question+choices, question+answer)`],
    ['short fields', `questions, passages and concatenations shorter than N ${m.unit} (at least ${m.minLength}) are matched whole`],
    ['template n-grams', `n-grams shared by more than ${m.maxItems} benchmark items are left out of the index (${m.templateGrams.toLocaleString('en-US')} left out)`],
    ['boilerplate threshold', `n-grams found in more than ${m.maxDocs} training docs are ignored`],
    ['score', `per field, the IDF-weighted share of its n-grams found (weight ln(1 + D/(1 + df)) over the D training docs, after allenai/decon); an item's score is its best field's; dirty needs ≥ ${m.minIdfShare}`],
    ['answer proximity', m.answerWindow > 0 ? `a question match followed by the gold answer within ${m.answerWindow} ${m.unit} needs only half the minimum share (${m.minIdfShare / 2}) on the question` : 'off'],
    ['rule', m.ruleText],
    ['index', `${m.indexGrams.toLocaleString('en-US')} n-grams, ${(m.indexBytes / 2 ** 20).toFixed(1)} MiB`],
    ['corpus fingerprint', r.corpus.fingerprint],
    ['corpus scanned', `${r.corpus.docs.toLocaleString('en-US')} docs, ${(r.corpus.bytes / 1e6).toFixed(1)} MB, ${r.corpus.units.toLocaleString('en-US')} ${m.unit}`],
    ['sources', r.corpus.sources.join('; ') || '—'],
  ];
}

/** The GPT-3-style table as Markdown rows (header included). */
export function tableMarkdown(r: ContaminationReport): string {
  const head = '| Benchmark | Metric (method) | N | Total | Dirty | Dirty % | Score (all) | Score (dirty) | Score (clean) | Clean % | Rel. diff clean vs all |';
  const sep = '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|';
  const lines = r.rows.map((x) => `| ${mdCell(x.benchmark)} | ${mdCell(x.metric)} | ${x.ngram} | ${x.total} | ${x.dirty} | ${pct(x.dirtyPct)} | ${fmt(x.scoreAll)} | ${fmt(x.scoreDirty)} | ${fmt(x.scoreClean)} | ${pct(x.cleanPct)} | ${signedPct(x.relDiff)} |`);
  return [head, sep, ...lines].join('\n');
}

/**
 * What kind of overlap the dirty items are, from per-item provenance: verbatim duplicates (the
 * whole question+choices or question+answer rendering matched) vs a shared field (a question,
 * passage or choice matched, the rest not): MMLU dev vs test is mostly the second, items that
 * share a passage or question stem and differ in what they ask.
 */
export function overlapKinds(dirty: ItemContamination[]): string[] {
  if (!dirty.length) return [];
  const whole = dirty.filter((i) => i.fields.some((f) => f.field.includes('+') && f.matched === f.grams));
  const byField = new Map<string, number>();
  for (const i of dirty) if (!whole.includes(i)) byField.set(i.field, (byField.get(i.field) ?? 0) + 1);
  const parts = [...byField.entries()].sort((a, b) => b[1] - a[1]).map(([f, n]) => `${n} by ${f}`);
  return [`Of these, ${whole.length} are verbatim duplicates (a whole rendering matched) and ${dirty.length - whole.length} share a field only${parts.length ? ` (${parts.join(', ')})` : ''}.`, ''];
}

/** The whole report as Markdown: method card, table, and up to `itemsPerBenchmark` dirty items each. */
export function reportMarkdown(r: ContaminationReport, itemsPerBenchmark = 10): string {
  const out: string[] = [`# ${r.title}`, '', '## Method', ''];
  for (const [k, v] of methodCard(r)) out.push(`- **${k}**: ${v}`);
  out.push('', '## Per benchmark', '', tableMarkdown(r), '');
  for (const b of r.benchmarks) {
    const dirty = b.items.filter((i) => i.dirty);
    if (!dirty.length) continue;
    out.push(`### ${b.name}: ${b.dirty} dirty of ${b.total}`, '', ...overlapKinds(dirty), '| Item | Score | Field matched | Answer near | Matched n-grams | Example n-gram | Training docs |', '|---|--:|---|---|--:|---|---|');
    for (const it of dirty.slice(0, itemsPerBenchmark)) {
      const docs = it.sources.slice(0, 3).map((s) => (s.url ? `${s.id} (${s.url})` : s.id)).join(', ');
      out.push(`| ${mdCell(it.id)} | ${it.score.toFixed(2)} | ${mdCell(it.field)} | ${it.answerNear ? 'yes' : '—'} | ${it.matched}/${it.grams} | ${mdCell(it.ngrams[0] ?? '')} | ${mdCell(docs)} |`);
    }
    if (dirty.length > itemsPerBenchmark) out.push('', `… and ${dirty.length - itemsPerBenchmark} more (see the JSON report).`);
    out.push('');
  }
  return out.join('\n');
}
