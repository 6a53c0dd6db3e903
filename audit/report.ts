/**
 * The filter audit of a stage: reads what the engine wrote next to a stage's output
 * (`manifest.json`, `_audit/drops-*.parquet`, `_audit/scores-*.parquet`, `_audit/samples-*.json`)
 * and builds, per operator: docs and bytes in/out, drops per reason with samples, a histogram of
 * every score with the thresholds marked, the kept docs closest to each threshold, and
 * `--what-if` answers ("minWords=100 would drop N more docs") recomputed from the recorded
 * scores with the same rules the filters apply (operators/filter/rules.ts).
 *
 * Memory is bounded by the number of (operator, score) pairs, not the number of docs: score
 * files are streamed twice (range, then histogram) with a fixed-size reservoir per score for
 * the histogram's range.
 */
import type { DropSample } from '../engine/audit.ts';
import type { Json, Manifest, OperatorSpec, OperatorStats } from '../engine/types.ts';
import { storage } from '../engine/storage/index.ts';
import { readParquetTables } from '../engine/parquet.ts';
import { overrideRules, passes, rulesFor, type ThresholdRule } from '../operators/filter/rules.ts';
// Loading the filters registers their threshold rules.
import '../operators/filter/index.ts';
import { mulberry32 } from '../engine/random.ts';
import { currentReason, currentReasonCounts } from './reasons.ts';

/** What the report needs to know about a stage (from `inspectPipeline`, or built by hand). */
export interface StageInput {
  name: string;
  /** The stage output directory `<workdir>/<stage>/<fingerprint>`. */
  dir: string;
  /** The stage's operator specs: their configs give the thresholds. */
  operators: OperatorSpec[];
  /** The manifest when the stage is complete (read from `dir` when absent). */
  manifest?: Manifest;
}

/** Report options. */
export interface AuditOptions {
  /** Histogram bins per score (default 30). */
  bins?: number;
  /** Kept docs listed per threshold, closest first (default 5). */
  nearThreshold?: number;
  /** `operator.configKey=value` expressions to evaluate (see `overrideRules`). */
  whatIf?: string[];
  /** Look up text prefixes of near-threshold docs in the stage output (default true). */
  texts?: boolean;
}

/** A threshold drawn on a histogram. */
export interface ThresholdMark {
  config: string;
  bound: 'min' | 'max';
  value: number;
  reason: string;
}

/** One histogram bin: [lo, hi) except the last, which includes hi; edge bins also hold outliers. */
export interface HistogramBin {
  lo: number;
  hi: number;
  kept: number;
  dropped: number;
}

/** A score's distribution over the docs an operator saw. */
export interface ScoreSummary {
  key: string;
  count: number;
  kept: number;
  dropped: number;
  min: number;
  max: number;
  mean: number;
  /** Values below `bins[0].lo` / above the last `hi` are counted in the edge bins. */
  bins: HistogramBin[];
  thresholds: ThresholdMark[];
}

/** A sample of a dropped doc, as the engine's reservoir kept it (engine/audit.ts). */
export type { DropSample };

/** Drops of one reason. */
export interface ReasonSummary {
  reason: string;
  docs: number;
  /** UTF-8 bytes of the dropped docs' text (0 for stages written before bytes were recorded). */
  bytes: number;
  /** Share of the operator's input. */
  share: number;
  /** Share of the operator's input bytes (0 when the input bytes are unknown). */
  byteShare: number;
  /** Dropped docs of this reason the reservoir saw (equals `docs` unless samples are partial). */
  seen: number;
  samples: DropSample[];
}

/** A kept doc close to a threshold. */
export interface NearSample {
  id: string;
  url: string | null;
  value: number;
  /** Text prefix, from the stage output. */
  text?: string;
  /** When a later operator of the stage dropped the doc: `operator: reason`. */
  droppedBy?: string;
}

/** The kept docs closest to one threshold. */
export interface NearThreshold {
  config: string;
  score: string;
  bound: 'min' | 'max';
  threshold: number;
  samples: NearSample[];
}

/** The audit of one operator of the stage. */
export interface OperatorAudit {
  name: string;
  type: string;
  version: string;
  config: Json;
  docsIn: number;
  docsOut: number;
  bytesIn: number;
  bytesOut: number;
  dropped: number;
  reasons: ReasonSummary[];
  scores: ScoreSummary[];
  nearThreshold: NearThreshold[];
}

/** The answer to one `--what-if`. */
export interface WhatIfResult {
  expr: string;
  operator: string;
  key: string;
  from: number | null;
  to: number | null;
  /** Docs with recorded scores (the operator's input). */
  docs: number;
  droppedBefore: number;
  droppedAfter: number;
  /** droppedAfter − droppedBefore: positive means more docs dropped. */
  delta: number;
  newlyDropped: number;
  newlyKept: number;
  /** Drops per reason under the new threshold. */
  reasonsAfter: Record<string, number>;
  note: string;
}

/** The audit of one stage. */
export interface StageAuditReport {
  stage: string;
  dir: string;
  fingerprint?: string;
  rows?: number;
  operators: OperatorAudit[];
  skipped: Record<string, number>;
  /** The full drop log (query with DuckDB / pyarrow) and the score log. */
  dropLog: string[];
  scoreLog: string[];
  whatIf: WhatIfResult[];
}

const RESERVOIR = 4096;

interface Acc {
  count: number;
  kept: number;
  min: number;
  max: number;
  sum: number;
  sample: number[];
  seen: number;
  bins?: HistogramBin[];
}

/** Parses `operator.key=value` (the key may itself contain dots, e.g. `topNgrams.2`). */
export function parseWhatIf(expr: string): { operator: string; key: string; value: string } {
  const m = /^([^.=\s]+)\.([^=\s]+)=(.+)$/.exec(expr.trim());
  if (!m) throw new Error(`--what-if '${expr}': expected 'operator.key=value', e.g. 'gopherQuality.minWords=100'`);
  return { operator: m[1]!, key: m[2]!, value: m[3]!.trim() };
}

/** Finds the operator a what-if names: by instance name, type, or type without `filter.`. */
export function findOperator(ops: OperatorSpec[], name: string): OperatorSpec | undefined {
  return ops.find((o) => o.name === name) ?? ops.find((o) => o.type === name) ?? ops.find((o) => o.type === `filter.${name}`);
}

async function listAudit(dir: string, prefix: string, ext: string): Promise<string[]> {
  const base = storage.join(dir, '_audit');
  let entries: Array<{ uri: string }> = [];
  try {
    entries = await storage.list(base);
  } catch {
    return [];
  }
  return entries
    .map((e) => e.uri)
    .filter((u) => {
      const f = u.slice(u.lastIndexOf('/') + 1);
      return f.startsWith(prefix) && f.endsWith(ext);
    })
    .sort();
}

async function readManifest(dir: string): Promise<Manifest | undefined> {
  const uri = storage.join(dir, 'manifest.json');
  if (!(await storage.exists(uri))) return undefined;
  return JSON.parse(await storage.readText(uri)) as Manifest;
}

type ScoreRow = { operator: string; key: string; id: string; url: string | null; value: number; kept: boolean };

async function* scoreRows(files: string[]): AsyncIterable<ScoreRow> {
  for (const f of files) {
    for await (const t of readParquetTables(f, { batchSize: 8192 })) {
      const op = t.getChild('operator')!;
      const key = t.getChild('key')!;
      const id = t.getChild('id')!;
      const url = t.getChild('url');
      const value = t.getChild('value')!;
      const kept = t.getChild('kept')!;
      for (let i = 0; i < t.numRows; i++) {
        yield { operator: String(op.get(i)), key: String(key.get(i)), id: String(id.get(i)), url: (url?.get(i) as string | null) ?? null, value: Number(value.get(i)), kept: Boolean(kept.get(i)) };
      }
    }
  }
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i]!;
}

/**
 * Bin edges covering the bulk of the values (0.5%–99.5%) and the thresholds near them; a
 * threshold far outside the data (e.g. `maxWords` 100,000 on 300-word docs) is left off the
 * axis, so the histogram keeps its resolution (the chart marks it at the edge instead).
 */
function makeBins(acc: Acc, marks: ThresholdMark[], n: number): HistogramBin[] {
  const s = [...acc.sample].sort((a, b) => a - b);
  let lo = quantile(s, 0.005);
  let hi = quantile(s, 0.995);
  const span = hi > lo ? hi - lo : Math.max(1, Math.abs(hi));
  for (const m of marks) {
    if (m.value >= lo - span && m.value <= hi + span) {
      lo = Math.min(lo, m.value);
      hi = Math.max(hi, m.value);
    }
  }
  if (!(hi > lo)) hi = lo + 1;
  const integral = s.every((v) => Number.isInteger(v)) && marks.every((m) => Number.isInteger(m.value));
  let width = (hi - lo) / n;
  if (integral) {
    width = Math.max(1, Math.ceil(width));
    n = Math.max(1, Math.ceil((hi - lo + 1) / width));
  }
  const bins: HistogramBin[] = [];
  for (let i = 0; i < n; i++) bins.push({ lo: lo + i * width, hi: lo + (i + 1) * width, kept: 0, dropped: 0 });
  return bins;
}

function binIndex(bins: HistogramBin[], v: number): number {
  const lo = bins[0]!.lo;
  const w = bins[0]!.hi - lo;
  const i = Math.floor((v - lo) / w);
  return Math.max(0, Math.min(bins.length - 1, i));
}

/** Rules of an operator spec (undefined for operators without threshold rules); `info`: its stage's manifest info. */
function specRules(spec: OperatorSpec, info?: Readonly<Record<string, unknown>>): ThresholdRule[] | undefined {
  try {
    return rulesFor(spec.type, spec.config, info);
  } catch {
    return undefined;
  }
}

/** Builds the audit report of one stage. */
export async function auditStage(stage: StageInput, options: AuditOptions = {}): Promise<StageAuditReport> {
  const nBins = options.bins ?? 30;
  const nNear = options.nearThreshold ?? 5;
  const manifest = stage.manifest ?? (await readManifest(stage.dir));
  const dropFiles = await listAudit(stage.dir, 'drops-', '.parquet');
  const scoreFiles = await listAudit(stage.dir, 'scores-', '.parquet');
  const sampleFiles = await listAudit(stage.dir, 'samples-', '.json');

  // Samples, merged over tasks in task order.
  const samples = new Map<string, Map<string, { seen: number; samples: DropSample[] }>>();
  for (const f of sampleFiles) {
    const j = JSON.parse(await storage.readText(f)) as Record<string, Record<string, { seen: number; samples: DropSample[] }>>;
    for (const [op, byReason] of Object.entries(j)) {
      const m = samples.get(op) ?? samples.set(op, new Map()).get(op)!;
      for (const [old, r] of Object.entries(byReason)) {
        const reason = currentReason(old);
        const cur = m.get(reason) ?? { seen: 0, samples: [] };
        cur.seen += r.seen;
        for (const s of r.samples) if (cur.samples.length < 10) cur.samples.push({ ...s, reason: currentReason(s.reason) });
        m.set(reason, cur);
      }
    }
  }

  // Drop counts: the manifest's, else counted from the drop log (a partial stage); reasons by
  // their current names (audit/reasons.ts).
  let opStats: Record<string, OperatorStats> | undefined = manifest?.stats.operators
    ? Object.fromEntries(Object.entries(manifest.stats.operators).map(([op, st]) => [op, { ...st, drops: currentReasonCounts(st.drops)!, dropBytes: currentReasonCounts(st.dropBytes) }]))
    : undefined;
  if (!opStats) {
    opStats = {};
    for (const f of dropFiles) {
      for await (const t of readParquetTables(f, { columns: ['operator', 'reason', 'bytes'] })) {
        const op = t.getChild('operator')!;
        const reason = t.getChild('reason')!;
        const bytes = t.getChild('bytes');
        for (let i = 0; i < t.numRows; i++) {
          const s = (opStats[String(op.get(i))] ??= { docsIn: 0, docsOut: 0, bytesIn: 0, bytesOut: 0, drops: {}, dropBytes: {} });
          const r = currentReason(String(reason.get(i)));
          s.drops[r] = (s.drops[r] ?? 0) + 1;
          s.dropBytes![r] = (s.dropBytes![r] ?? 0) + Number(bytes?.get(i) ?? 0);
        }
      }
    }
  }

  const specs = new Map(stage.operators.map((o) => [o.name, o]));
  const rulesOf = new Map<string, ThresholdRule[] | undefined>();
  for (const o of stage.operators) rulesOf.set(o.name, specRules(o, manifest?.info));
  const marksFor = (op: string, key: string): ThresholdMark[] =>
    (rulesOf.get(op) ?? []).filter((r) => r.score === key && r.threshold !== null && !r.fixed).map((r) => ({ config: r.config, bound: r.bound, value: r.threshold!, reason: r.reason }));

  // Pass 1: ranges and reservoirs.
  const accs = new Map<string, Acc>();
  const random = mulberry32(0x5eed);
  const skipKey = (op: string, key: string) => key === 'score' && (rulesOf.get(op)?.length ?? 0) > 0;
  for await (const r of scoreRows(scoreFiles)) {
    if (skipKey(r.operator, r.key) || !Number.isFinite(r.value)) continue;
    const k = `${r.operator}\u0000${r.key}`;
    let a = accs.get(k);
    if (!a) accs.set(k, (a = { count: 0, kept: 0, min: Infinity, max: -Infinity, sum: 0, sample: [], seen: 0 }));
    a.count++;
    if (r.kept) a.kept++;
    a.min = Math.min(a.min, r.value);
    a.max = Math.max(a.max, r.value);
    a.sum += r.value;
    a.seen++;
    if (a.sample.length < RESERVOIR) a.sample.push(r.value);
    else {
      const j = Math.floor(random() * a.seen);
      if (j < RESERVOIR) a.sample[j] = r.value;
    }
  }
  for (const [k, a] of accs) {
    const [op, key] = k.split('\u0000') as [string, string];
    a.bins = makeBins(a, marksFor(op, key), nBins);
  }

  // What-ifs: parse and resolve before pass 2.
  interface WhatIfState {
    res: WhatIfResult;
    op: string;
    before: ThresholdRule[];
    after: ThresholdRule[];
  }
  const whatIfs: WhatIfState[] = [];
  for (const expr of options.whatIf ?? []) {
    const w = parseWhatIf(expr);
    const spec = findOperator(stage.operators, w.operator);
    if (!spec) throw new Error(`--what-if '${expr}': stage '${stage.name}' has no operator '${w.operator}' (it has: ${stage.operators.map((o) => o.name).join(', ')})`);
    const rules = rulesOf.get(spec.name);
    if (!rules) throw new Error(`--what-if '${expr}': operator '${spec.name}' (${spec.type}) has no threshold rules`);
    let after: ThresholdRule[];
    try {
      after = overrideRules(rules, w.key, w.value);
    } catch (e) {
      throw new Error(`--what-if '${expr}': ${(e as Error).message}`);
    }
    const from = rules.find((r) => r.config === w.key)!.threshold;
    const to = after.find((r) => r.config === w.key)!.threshold;
    whatIfs.push({
      op: spec.name,
      before: rules,
      after,
      res: { expr, operator: spec.name, key: w.key, from, to, docs: 0, droppedBefore: 0, droppedAfter: 0, delta: 0, newlyDropped: 0, newlyKept: 0, reasonsAfter: {}, note: '' },
    });
  }

  // Near-threshold candidates: per rule, the kept docs closest to the threshold on the kept side.
  const near = new Map<string, { rule: ThresholdRule; best: Array<NearSample & { d: number }> }>();
  for (const [op, rules] of rulesOf) {
    for (const r of rules ?? []) if (r.threshold !== null && !r.fixed) near.set(`${op}\u0000${r.config}`, { rule: r, best: [] });
  }

  // Pass 2: bins, near-threshold docs, what-ifs (rows of one doc and operator are consecutive).
  let groupOp = '';
  let groupId = '';
  let group: Record<string, number> = {};
  const flush = (): void => {
    if (!groupOp) return;
    for (const w of whatIfs) {
      if (w.op !== groupOp) continue;
      w.res.docs++;
      const b = w.before.find((r) => !passes(r, group[r.score]));
      const a = w.after.find((r) => !passes(r, group[r.score]));
      if (b) w.res.droppedBefore++;
      if (a) {
        w.res.droppedAfter++;
        w.res.reasonsAfter[a.reason] = (w.res.reasonsAfter[a.reason] ?? 0) + 1;
      }
      if (a && !b) w.res.newlyDropped++;
      if (b && !a) w.res.newlyKept++;
    }
  };
  for await (const r of scoreRows(scoreFiles)) {
    if (r.operator !== groupOp || r.id !== groupId) {
      flush();
      groupOp = r.operator;
      groupId = r.id;
      group = {};
    }
    group[r.key] = r.value;
    if (skipKey(r.operator, r.key) || !Number.isFinite(r.value)) continue;
    const a = accs.get(`${r.operator}\u0000${r.key}`)!;
    const bin = a.bins![binIndex(a.bins!, r.value)]!;
    if (r.kept) bin.kept++;
    else bin.dropped++;
    if (!r.kept) continue;
    for (const rule of rulesOf.get(r.operator) ?? []) {
      if (rule.score !== r.key || rule.threshold === null || rule.fixed || !passes(rule, r.value)) continue;
      const n = near.get(`${r.operator}\u0000${rule.config}`)!;
      const d = Math.abs(r.value - rule.threshold);
      if (n.best.length < nNear || d < n.best[n.best.length - 1]!.d) {
        n.best.push({ id: r.id, url: r.url, value: r.value, d });
        n.best.sort((x, y) => x.d - y.d);
        if (n.best.length > nNear) n.best.pop();
      }
    }
  }
  flush();
  for (const w of whatIfs) {
    w.res.delta = w.res.droppedAfter - w.res.droppedBefore;
    w.res.note =
      'Counted over the docs this operator saw in this run. Docs it would newly keep would then meet the operators after it in the stage; ' +
      'docs dropped before it are not counted.';
  }

  // Text prefixes of near-threshold docs, from the stage output.
  const wanted = new Map<string, NearSample[]>();
  for (const n of near.values()) for (const s of n.best) (wanted.get(s.id) ?? wanted.set(s.id, []).get(s.id)!).push(s);
  if ((options.texts ?? true) && wanted.size && manifest?.output !== 'artifact') {
    const files = (manifest?.files ?? []).filter((f) => f.path.endsWith('.parquet')).map((f) => storage.join(stage.dir, f.path));
    let left = wanted.size;
    for (const f of files) {
      if (!left) break;
      for await (const t of readParquetTables(f, { columns: ['id', 'text'], batchSize: 2048 })) {
        const id = t.getChild('id')!;
        const text = t.getChild('text')!;
        for (let i = 0; i < t.numRows && left; i++) {
          const list = wanted.get(String(id.get(i)));
          if (!list || list[0]!.text !== undefined) continue;
          const prefix = String(text.get(i) ?? '').slice(0, 400);
          for (const s of list) s.text = prefix;
          left--;
        }
        if (!left) break;
      }
    }
    // Not in the output: a later operator of the stage dropped it; say which and why.
    for (const f of dropFiles) {
      if (!left) break;
      for await (const t of readParquetTables(f, { columns: ['operator', 'id', 'reason'], batchSize: 8192 })) {
        const op = t.getChild('operator')!;
        const id = t.getChild('id')!;
        const reason = t.getChild('reason')!;
        for (let i = 0; i < t.numRows && left; i++) {
          const list = wanted.get(String(id.get(i)));
          if (!list || list[0]!.text !== undefined || list[0]!.droppedBy !== undefined) continue;
          for (const s of list) s.droppedBy = `${String(op.get(i))}: ${currentReason(String(reason.get(i)))}`;
          left--;
        }
      }
    }
  }

  // Assemble per operator, in stage order, then any operator only the audit files know.
  const names = [...stage.operators.map((o) => o.name)];
  for (const n of Object.keys(opStats)) if (!names.includes(n)) names.push(n);
  for (const k of accs.keys()) {
    const n = k.split('\u0000')[0]!;
    if (!names.includes(n)) names.push(n);
  }
  // A stage of a single custom step (a dedup expansion's filter stage) audits under its
  // operator's name (`dedup.minhash`), not the stage's: the audit rows are that step's.
  const only = stage.operators.length === 1 ? stage.operators[0] : undefined;
  const operators: OperatorAudit[] = [];
  for (const name of names) {
    const spec = specs.get(name) ?? only;
    const st = opStats[name];
    const scoreKeys = [...accs.keys()].filter((k) => k.startsWith(`${name}\u0000`));
    if (!st && !scoreKeys.length) continue;
    const dropped = st ? Object.values(st.drops).reduce((a, b) => a + b, 0) : 0;
    const docsIn = st?.docsIn ?? 0;
    const reasons: ReasonSummary[] = Object.entries(st?.drops ?? {})
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .map(([reason, docs]) => {
        const s = samples.get(name)?.get(reason);
        const bytes = st?.dropBytes?.[reason] ?? 0;
        const bytesIn = st?.bytesIn ?? 0;
        return { reason, docs, bytes, share: docsIn ? docs / docsIn : 0, byteShare: bytesIn ? bytes / bytesIn : 0, seen: s?.seen ?? 0, samples: s?.samples ?? [] };
      });
    const ruleOrder = (rulesOf.get(name) ?? []).map((r) => r.score);
    const scores: ScoreSummary[] = scoreKeys
      .map((k) => {
        const key = k.split('\u0000')[1]!;
        const a = accs.get(k)!;
        return { key, count: a.count, kept: a.kept, dropped: a.count - a.kept, min: a.min, max: a.max, mean: a.sum / a.count, bins: a.bins!, thresholds: marksFor(name, key) };
      })
      .sort((x, y) => {
        const ix = ruleOrder.indexOf(x.key);
        const iy = ruleOrder.indexOf(y.key);
        return (ix < 0 ? 1e9 : ix) - (iy < 0 ? 1e9 : iy) || (x.key < y.key ? -1 : 1);
      });
    const nearThreshold: NearThreshold[] = [];
    for (const [k, n] of near) {
      if (!k.startsWith(`${name}\u0000`) || !n.best.length) continue;
      // Only thresholds that bind: the rule dropped docs, or kept docs sit within a tenth of
      // the histogram's width of it (a maxWords of 100,000 over 300-word docs is not "near").
      const hist = accs.get(`${name}\u0000${n.rule.score}`)?.bins;
      const width = hist ? hist[hist.length - 1]!.hi - hist[0]!.lo : 0;
      const binds = (st?.drops[n.rule.reason] ?? 0) > 0 || Math.abs(n.best[0]!.value - n.rule.threshold!) <= 0.1 * width;
      if (!binds) continue;
      nearThreshold.push({ config: n.rule.config, score: n.rule.score, bound: n.rule.bound, threshold: n.rule.threshold!, samples: n.best.map(({ d: _d, ...s }) => s) });
    }
    operators.push({
      name,
      type: spec?.type ?? '(unknown)',
      version: spec?.version ?? '',
      config: spec?.config ?? null,
      docsIn,
      docsOut: st?.docsOut ?? 0,
      bytesIn: st?.bytesIn ?? 0,
      bytesOut: st?.bytesOut ?? 0,
      dropped,
      reasons,
      scores,
      nearThreshold,
    });
  }

  return {
    stage: stage.name,
    dir: stage.dir,
    fingerprint: manifest?.fingerprint,
    rows: manifest?.rows,
    operators,
    skipped: manifest?.stats.skipped ?? {},
    dropLog: dropFiles,
    scoreLog: scoreFiles,
    whatIf: whatIfs.map((w) => w.res),
  };
}
