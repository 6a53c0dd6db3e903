/**
 * The report's data: for each stage of a pipeline bound to a workdir, its status (the same
 * `stageStatus` that `sluice status` prints), the manifest's key figures, the timing of its
 * tasks, and the reports it wrote. It is what `index.html` renders, what `report.json` holds and
 * what `--compare` diffs; `--serve` rebuilds it as completion markers appear.
 */
import type { Json, Manifest, OperatorStats } from '../engine/types.ts';
import type { Runtime } from '../engine/runtime.ts';
import { stageStatus, type StageStatus } from '../engine/runner.ts';
import { storage } from '../engine/storage/index.ts';
import { readMarkerTotals, type MarkerTotals } from './timing.ts';
import { auditReport, stageReports, type ReportLink } from './links.ts';

/** Format tag of `report.json`. */
export const REPORT_FORMAT = 'sluice.report/1';

/** One operator's counts in a stage. */
export interface OperatorFigures {
  name: string;
  type: string;
  docsIn: number;
  docsOut: number;
  /** Drops per reason. */
  drops: Record<string, number>;
}

/** One stage as the report shows it. */
export interface StageReport {
  name: string;
  upstream: string[];
  status: StageStatus['status'];
  fingerprint: string;
  /** URI of `<workdir>/<stage>/<fingerprint>`. */
  dir: string;
  /** What the stage reads: its source or custom stage type, or 'stages'. */
  input: string;
  /** `docs` or `artifact` once the stage finished; null before. */
  output: 'docs' | 'artifact' | null;
  tasks: number | null;
  tasksDone: number;
  /** Docs read and written, and their UTF-8 text bytes (done: manifest; partial: tasks so far). */
  docsIn: number | null;
  docsOut: number | null;
  bytesIn: number | null;
  bytesOut: number | null;
  /** Bytes of the output files on storage (done stages). */
  bytes: number | null;
  rows: number | null;
  files: number | null;
  /** Wall time during which the stage's tasks ran (gaps between runs excluded); null when untimed. */
  seconds: number | null;
  /** Sum of the tasks' seconds (worker time). */
  taskSeconds: number | null;
  /** Docs the stage's filters dropped, and their share of the stage's docs in. */
  dropped: number;
  dropShare: number | null;
  operators: OperatorFigures[];
  /** Unreadable input records skipped, per reason. */
  skipped: Record<string, number>;
  /** The manifest's scalar `info` figures (a tokenizer's vocabulary, a trainer's loss…). */
  info: Record<string, string | number | boolean>;
  /** The stage's own one-paragraph summary (`info.summary`), when it has one. */
  summary: string | null;
  reports: ReportLink[];
  /** Fingerprints of older complete outputs (why a stage is stale). */
  older: string[];
  /** Slurm queue state, for stages submitted there and not done. */
  slurm: { queued: number; running: number; failed: number } | null;
}

/** The whole report. */
export interface ReportModel {
  format: typeof REPORT_FORMAT;
  pipeline: string;
  workdir: string;
  /** ISO time the model was built. */
  generated: string;
  stages: StageReport[];
  /** `<workdir>/audit.html` when present. */
  audit: ReportLink | null;
}

/** Cache of what cannot change: the timing of done stages (keyed by stage dir). */
export type ReportCache = Map<string, MarkerTotals>;

function inputKind(rt: Runtime, name: string): string {
  const s = rt.pipeline.stage(name);
  switch (s.input.kind) {
    case 'source':
      return s.input.source.type;
    case 'custom':
      return s.input.custom.type;
    case 'stages':
      return 'stages';
    default: {
      const never: never = s.input;
      throw new Error(`unknown stage input ${JSON.stringify(never)}`);
    }
  }
}

function operatorFigures(rt: Runtime, name: string, stats: Record<string, OperatorStats>): OperatorFigures[] {
  const declared = rt.pipeline.stage(name).operators;
  const types = new Map(declared.map((o) => [o.name, o.type]));
  // Declared order first, then any operator only the stats know (an expansion's inner steps).
  const names = [...declared.map((o) => o.name).filter((n) => stats[n]), ...Object.keys(stats).filter((n) => !types.has(n))];
  return names.map((n) => ({ name: n, type: types.get(n) ?? n, docsIn: stats[n]!.docsIn, docsOut: stats[n]!.docsOut, drops: { ...stats[n]!.drops } }));
}

function scalarInfo(info: Record<string, Json> | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(info ?? {})) {
    if (k === 'summary') continue;
    if (typeof v === 'number' || typeof v === 'boolean' || (typeof v === 'string' && v.length <= 120)) out[k] = v;
  }
  return out;
}

async function olderOutputs(rt: Runtime, name: string, fingerprint: string): Promise<string[]> {
  const root = rt.stageRoot(name);
  const fps: string[] = [];
  for (const e of await storage.list(root).catch(() => [])) {
    const m = /\/([0-9a-f]{16})\/manifest\.json$/.exec(e.uri);
    if (m && m[1] !== fingerprint && e.uri === storage.join(root, m[1]!, 'manifest.json')) fps.push(m[1]!);
  }
  return fps;
}

/** Builds the report of one stage. */
export async function stageReport(rt: Runtime, name: string, cache?: ReportCache): Promise<StageReport> {
  const st = await stageStatus(rt, name);
  const manifest: Manifest | null = st.status === 'done' ? await rt.manifest(name) : null;
  let totals: MarkerTotals | null = null;
  if (st.status === 'done' || st.status === 'partial') {
    totals = cache?.get(st.dir) ?? (await readMarkerTotals(st.dir, st.fingerprint));
    if (st.status === 'done') cache?.set(st.dir, totals);
  }
  const stats = manifest?.stats;
  const opStats = stats?.operators ?? totals?.operators ?? {};
  const operators = operatorFigures(rt, name, opStats);
  const dropped = operators.reduce((a, o) => a + Object.values(o.drops).reduce((x, y) => x + y, 0), 0);
  const docsIn = stats ? Number(stats.docsIn ?? 0) : (totals?.docsIn ?? null);
  const files = manifest ? manifest.files.map((f) => f.path) : (totals?.files ?? []);
  const summary = manifest?.info?.summary;
  return {
    name,
    upstream: st.upstream,
    status: st.status,
    fingerprint: st.fingerprint,
    dir: st.dir,
    input: inputKind(rt, name),
    output: manifest?.output ?? null,
    tasks: st.tasks,
    tasksDone: st.tasksDone,
    docsIn,
    docsOut: stats ? Number(stats.docsOut ?? 0) : (totals?.docsOut ?? null),
    bytesIn: stats ? Number(stats.bytesIn ?? 0) : (totals?.bytesIn ?? null),
    bytesOut: stats ? Number(stats.bytesOut ?? 0) : (totals?.bytesOut ?? null),
    bytes: manifest?.bytes ?? null,
    rows: manifest?.rows ?? null,
    files: manifest ? manifest.files.length : null,
    seconds: totals?.busySeconds ?? null,
    taskSeconds: totals?.taskSeconds ?? null,
    dropped,
    dropShare: docsIn && operators.length ? dropped / docsIn : null,
    operators,
    skipped: { ...(stats?.skipped ?? totals?.skipped ?? {}) },
    info: scalarInfo(manifest?.info),
    summary: typeof summary === 'string' && summary.trim() ? summary.trimEnd() : null,
    reports: await stageReports(rt.workdir, st.dir, files),
    older: st.status === 'stale' ? await olderOutputs(rt, name, st.fingerprint) : [],
    slurm: st.slurm && st.status !== 'done' ? { queued: st.slurm.queued, running: st.slurm.running, failed: st.slurm.failed } : null,
  };
}

/** Builds the report of every stage of an opened pipeline, in declaration order. */
export async function buildReport(rt: Runtime, cache?: ReportCache): Promise<ReportModel> {
  const stages: StageReport[] = [];
  for (const s of rt.pipeline.stages) stages.push(await stageReport(rt, s.name, cache));
  return { format: REPORT_FORMAT, pipeline: rt.pipeline.name, workdir: rt.workdir, generated: new Date().toISOString(), stages, audit: await auditReport(rt.workdir) };
}
