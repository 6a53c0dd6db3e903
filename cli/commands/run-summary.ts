/**
 * The end-of-run summary `sluice run` prints: per stage its status and docs in → out, each
 * stage's own one-paragraph `info.summary` (a trainer's final loss, an eval's scores and
 * contamination table, …), the HTML reports the stages wrote, and the audit report, which it
 * writes to `<workdir>/audit.html` whenever a stage with filters ran, and the workdir's report
 * (`sluice report`), which it writes to `<workdir>/_report/index.html` after every run.
 */
import { writeFile } from 'node:fs/promises';
import { inspectPipeline, type StageInfo } from '../../engine/inspect.ts';
import { isRemote, storage } from '../../engine/storage/index.ts';
import { auditStage, type StageAuditReport } from '../../audit/report.ts';
import { renderHtml } from '../../audit/html.ts';
import type { RunSummary } from '../../engine/runner.ts';
import type { Json, SkipExample } from '../../engine/types.ts';

function n(x: number): string {
  return x.toLocaleString('en-US');
}

/** Total of a per-reason count. */
export function skipTotal(skipped: Record<string, number> | undefined): number {
  return Object.values(skipped ?? {}).reduce((a, b) => a + b, 0);
}

function detailText(d: Json): string {
  if (d && typeof d === 'object' && !Array.isArray(d)) {
    const o = d as Record<string, Json>;
    if (typeof o.error === 'string') {
      const far = typeof o.linesRead === 'number' ? ` (${n(o.linesRead)} lines read before it)` : '';
      return o.error + far;
    }
  }
  return d === null ? '' : JSON.stringify(d);
}

/**
 * Lines describing a stage's skipped input records, one per reason, most frequent first: the
 * count and the first example's input and error, so a truncated or unreadable file is named
 * in the summary and not only in the audit Parquet files.
 */
export function describeSkips(skipped: Record<string, number> | undefined, examples: Record<string, SkipExample[]> | undefined, indent = '    '): string[] {
  const out: string[] = [];
  for (const [reason, count] of Object.entries(skipped ?? {}).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
    const ex = examples?.[reason]?.[0];
    const what = ex ? `: ${ex.input}${detailText(ex.details) ? `: ${detailText(ex.details)}` : ''}` : '';
    out.push(`${indent}skipped ${reason} ×${n(count)}${count > 1 && ex ? ', first' : ''}${what}`);
  }
  return out;
}

/** Writes the audit HTML of every completed stage that has filter statistics; returns its URI or null. */
export async function writeAuditReport(stages: StageInfo[], pipeline: string, workdir: string): Promise<string | null> {
  const reports: StageAuditReport[] = [];
  for (const s of stages) {
    if (s.status !== 'done' || !s.manifest) continue;
    const ops = s.manifest.stats.operators ?? {};
    if (!Object.values(ops).some((o) => Object.keys(o.drops).length)) continue;
    reports.push(await auditStage({ name: s.name, dir: s.dir, operators: s.operators, manifest: s.manifest }));
  }
  if (!reports.length) return null;
  const html = renderHtml(reports, { pipeline, generated: new Date().toISOString() });
  const uri = storage.join(workdir, 'audit.html');
  if (isRemote(uri)) await storage.write(uri, html);
  else await writeFile(uri, html);
  return uri;
}

/** Renders the summary of a finished run (text for stderr). */
export async function renderRunSummary(file: string, run: RunSummary, workdir?: string): Promise<string> {
  const p = await inspectPipeline(file, { workdir });
  const lines: string[] = [];
  const ran = run.stages.filter((s) => s.status !== 'skipped').length;
  lines.push(ran ? `\n${p.name}: done in ${run.seconds.toFixed(1)} s: ${ran} stage(s) ran, ${run.stages.length - ran} up to date` : `\n${p.name}: nothing to do: all ${run.stages.length} stage(s) up to date`);
  const w = Math.max(5, ...run.stages.map((s) => s.stage.length));
  for (const s of run.stages) {
    const info = p.stages.find((x) => x.name === s.stage);
    const docs = info?.manifest?.output === 'docs' ? `${n(s.docsIn)} → ${n(s.docsOut)} docs` : '';
    const skips = skipTotal(s.skipped);
    const skipNote = skips ? `${docs ? ', ' : ''}${n(skips)} input record(s) skipped` : '';
    lines.push(`  ${s.stage.padEnd(w)}  ${s.status.padEnd(7)}  ${docs}${skipNote}`.trimEnd());
    lines.push(...describeSkips(s.skipped, s.skipExamples, ' '.repeat(w + 13)));
  }
  const reports: string[] = [];
  for (const s of p.stages) {
    const m = s.manifest;
    if (!m) continue;
    const summary = m.info?.summary;
    if (typeof summary === 'string' && summary.trim()) lines.push('', `${s.name}:`, ...summary.trimEnd().split('\n').map((l) => `  ${l}`));
    for (const f of m.files) if (f.path.endsWith('.html')) reports.push(storage.join(s.dir, f.path));
  }
  if (ran) {
    try {
      const audit = await writeAuditReport(p.stages, p.name, p.workdir);
      if (audit) reports.unshift(audit);
    } catch (e) {
      lines.push(`(audit report not written: ${(e as Error).message})`);
    }
  } else {
    const audit = storage.join(p.workdir, 'audit.html');
    if (await storage.exists(audit)) reports.unshift(audit);
  }
  try {
    // Imported here: the report's layout library loads only when a run ends.
    const { writeReport } = await import('../../report/site.ts');
    reports.push((await writeReport(file, { workdir })).index);
  } catch (e) {
    lines.push(`(report not written: ${(e as Error).message})`);
  }
  if (reports.length) lines.push('', 'Reports:', ...reports.map((r) => `  ${r}`));
  return lines.join('\n') + '\n';
}
