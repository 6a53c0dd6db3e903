/**
 * A workdir's state as `--compare` reads it, with no pipeline file: the `report.json` that
 * `sluice run` and `sluice report` write to `<workdir>/_report/`, or, for a workdir without
 * one, its complete outputs found on storage (per stage the most recently finished fingerprint).
 */
import type { Manifest } from '../engine/types.ts';
import { storage } from '../engine/storage/index.ts';
import { REPORT_FORMAT, type ReportModel, type StageReport } from './model.ts';
import { defaultReportDir } from './site.ts';
import { readMarkerTotals, type MarkerTotals } from './timing.ts';
import { auditReport, stageReports } from './links.ts';

/** Reads `<workdir>/_report/report.json`, else reconstructs the state from the manifests. */
export async function loadSnapshot(workdir: string): Promise<ReportModel & { source: 'report.json' | 'manifests' }> {
  const uri = storage.join(defaultReportDir(workdir), 'report.json');
  if (await storage.exists(uri)) {
    const m = await storage.readJson<ReportModel>(uri);
    if (m.format !== REPORT_FORMAT) throw new Error(`${uri}: not a Sluice report (format ${JSON.stringify(m.format)}, expected ${REPORT_FORMAT})`);
    return { ...m, source: 'report.json' };
  }
  return { ...(await scanWorkdir(workdir)), source: 'manifests' };
}

interface Found {
  name: string;
  fingerprint: string;
  dir: string;
  manifest: Manifest;
  totals: MarkerTotals;
  /** When the output was finished (ms since the epoch; 0 when unknown). */
  finished: number;
  started: number;
}

async function scanWorkdir(workdir: string): Promise<ReportModel> {
  const entries = await storage.list(workdir).catch(() => []);
  const base = workdir.replace(/\/+$/, '') + '/';
  const byStage = new Map<string, Found>();
  let pipeline = '';
  for (const e of entries) {
    const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*)\/([0-9a-f]{16})\/manifest\.json$/.exec(e.uri.startsWith(base) ? e.uri.slice(base.length) : '');
    if (!m) continue;
    // The pattern has two groups that always take part in a match.
    const name = m[1]!;
    const fingerprint = m[2]!;
    const dir = storage.join(workdir, name, fingerprint);
    const manifest = await storage.readJson<Manifest>(e.uri);
    const totals = await readMarkerTotals(dir, fingerprint);
    const finished = totals.end ?? (Number(e.version) || 0);
    const prev = byStage.get(name);
    if (!prev || finished > prev.finished) byStage.set(name, { name, fingerprint, dir, manifest, totals, finished, started: totals.start ?? finished });
    pipeline ||= manifest.pipeline;
  }
  if (!byStage.size) throw new Error(`${workdir}: no complete stage output (no <stage>/<fingerprint>/manifest.json) and no ${REPORT_FORMAT} report in ${defaultReportDir(workdir)}`);
  const found = [...byStage.values()].sort((a, b) => a.started - b.started || (a.name < b.name ? -1 : 1));
  const stages: StageReport[] = [];
  for (const f of found) stages.push(await fromManifest(workdir, f));
  return { format: REPORT_FORMAT, pipeline, workdir, generated: new Date().toISOString(), stages, audit: await auditReport(workdir) };
}

async function fromManifest(workdir: string, f: Found): Promise<StageReport> {
  const stats = f.manifest.stats;
  const operators = Object.entries(stats.operators ?? {}).map(([name, s]) => ({ name, type: name, docsIn: s.docsIn, docsOut: s.docsOut, drops: { ...s.drops } }));
  const dropped = operators.reduce((a, o) => a + Object.values(o.drops).reduce((x, y) => x + y, 0), 0);
  const docsIn = Number(stats.docsIn ?? 0);
  return {
    name: f.name,
    upstream: [],
    status: 'done',
    fingerprint: f.fingerprint,
    dir: f.dir,
    input: '',
    output: f.manifest.output,
    tasks: f.manifest.tasks,
    tasksDone: f.manifest.tasks,
    docsIn,
    docsOut: Number(stats.docsOut ?? 0),
    bytesIn: Number(stats.bytesIn ?? 0),
    bytesOut: Number(stats.bytesOut ?? 0),
    bytes: f.manifest.bytes,
    rows: f.manifest.rows,
    files: f.manifest.files.length,
    seconds: f.totals.busySeconds,
    taskSeconds: f.totals.taskSeconds,
    dropped,
    dropShare: docsIn && operators.length ? dropped / docsIn : null,
    operators,
    skipped: { ...(stats.skipped ?? {}) },
    info: {},
    summary: null,
    reports: await stageReports(workdir, f.dir, f.manifest.files.map((x) => x.path)),
    older: [],
    slurm: null,
  };
}
