/**
 * The report's main page as one self-contained HTML document: inline CSS and SVG, no external
 * resource, so it works from file:// with no network. The static page has no script; the page
 * `--serve` sends carries a few lines that poll the server and reload when the state changes.
 */
import { esc } from '../audit/html.ts';
import type { ReportModel, StageReport } from './model.ts';
import type { ReportLink } from './links.ts';
import { dagSvg, STATUS_COLOURS } from './svg.ts';
import { fmtBytesShort, fmtCount, fmtRate, fmtSeconds, fmtShare } from './format.ts';

/** How the page addresses files and whether it refreshes itself. */
export interface PageOptions {
  /** The href of a report file (relative for the static site, a server path for `--serve`). */
  href(link: ReportLink): string;
  /** `--serve`: poll `stateUrl` every `pollMs` and reload when its text differs from `version`. */
  live?: { stateUrl: string; version: string; pollMs: number };
}

/** Shared CSS of the report pages. */
export const CSS = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d2330;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:20px 24px 60px}
h1{font-size:22px;margin:0 0 2px}h2{font-size:17px;margin:26px 0 8px}h3{font-size:15px;margin:0 0 6px}
.muted{color:#5f6672;font-size:12px}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;overflow-wrap:anywhere}
.card{background:#fff;border:1px solid #e3e6eb;border-radius:8px;padding:12px 14px;margin:10px 0}
.dagbox{overflow:auto;text-align:center}svg.dag{max-width:100%;height:auto}
svg.dag text{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif}svg.dag .name{font-size:13px;font-weight:600;fill:#1d2330}
svg.dag .st{font-size:11px;font-weight:600}svg.dag .fig{font-size:12px;fill:#39404c}svg.dag a:hover rect{filter:brightness(.96)}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eceef2;vertical-align:top}
th{font-weight:600;color:#5f6672;font-size:11px;text-transform:uppercase;letter-spacing:.02em}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:11px;font-weight:600;border:1px solid}
.legend .badge{margin-right:6px}
ul.reports{margin:4px 0;padding-left:18px}
.stage{scroll-margin-top:12px}.stage h3 code{font-size:14px}
.kv{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:4px 14px;margin:6px 0}
.kv div{font-size:12px}.kv b{font-weight:600;font-variant-numeric:tabular-nums}
pre.summary{white-space:pre-wrap;background:#f8f8fa;border:1px solid #eee;border-radius:4px;padding:6px 8px;font-size:12px;margin:6px 0}
.live{color:#2f6fd0;font-weight:600}
.up{color:#b3261e}.down{color:#2e8b57}
`;

/** A status badge. */
export function badge(status: StageReport['status']): string {
  const c = STATUS_COLOURS[status];
  return `<span class="badge status-${status}" style="background:${c.fill};border-color:${c.stroke};color:${c.stroke}">${status}</span>`;
}

function link(l: ReportLink, opts: PageOptions): string {
  return `<a class="report" href="${esc(opts.href(l) + (l.anchor ? `#${encodeURIComponent(l.anchor)}` : ''))}">${esc(l.title)}</a>`;
}

function stageLinks(s: StageReport, model: ReportModel): ReportLink[] {
  const audit = model.audit && s.operators.some((o) => Object.keys(o.drops).length) && s.status === 'done' ? [{ ...model.audit, title: 'audit', anchor: `stage-${s.name}` }] : [];
  return [...audit, ...s.reports];
}

function throughput(s: StageReport): string {
  if (s.seconds === null || !(s.seconds > 0)) return '–';
  if (s.docsIn) return `${fmtRate(s.docsIn, s.seconds, 'docs')}<br><span class="muted">${fmtRate(s.bytesIn ?? 0, s.seconds, 'bytes')}</span>`;
  if (s.docsOut) return fmtRate(s.docsOut, s.seconds, 'docs');
  return '–';
}

function stagesTable(model: ReportModel, opts: PageOptions): string {
  const h: string[] = [];
  h.push('<table class="stages"><thead><tr><th>stage</th><th>status</th><th>fingerprint</th><th class="n">tasks</th><th class="n">time</th><th class="n">throughput</th><th class="n">docs in → out</th><th class="n">dropped</th><th class="n">output</th><th>reports</th></tr></thead><tbody>');
  for (const s of model.stages) {
    const tasks = s.tasks === null ? '–' : s.status === 'done' ? fmtCount(s.tasks) : `${fmtCount(s.tasksDone)}/${fmtCount(s.tasks)}`;
    const time = s.seconds === null ? '–' : `${fmtSeconds(s.seconds)}${s.taskSeconds !== null && s.taskSeconds > s.seconds * 1.05 ? `<br><span class="muted">${fmtSeconds(s.taskSeconds)} task time</span>` : ''}`;
    const docs = (s.docsIn === null && s.docsOut === null) || (!s.docsIn && !s.docsOut) ? '–' : `${s.docsIn ? fmtCount(s.docsIn) : '–'} → ${fmtCount(s.docsOut ?? 0)}`;
    const dropped = s.dropShare === null ? '–' : `${fmtCount(s.dropped)} <span class="muted">(${fmtShare(s.dropShare)})</span>`;
    const output = s.bytes !== null ? `${fmtBytesShort(s.bytes)}<br><span class="muted">${fmtCount(s.files ?? 0)} file(s)</span>` : '–';
    const links = stageLinks(s, model).map((l) => link(l, opts)).join('<br>') || '';
    h.push(`<tr class="stage-row" data-stage="${esc(s.name)}" data-status="${s.status}"><td><a href="#stage-${esc(s.name)}"><code>${esc(s.name)}</code></a><div class="muted">${esc(s.input)}</div></td><td>${badge(s.status)}</td><td><code>${esc(s.fingerprint)}</code></td><td class="n">${tasks}</td><td class="n">${time}</td><td class="n">${throughput(s)}</td><td class="n">${docs}</td><td class="n">${dropped}</td><td class="n">${output}</td><td>${links}</td></tr>`);
  }
  h.push('</tbody></table>');
  return h.join('\n');
}

function figure(k: string, v: string): string {
  return `<div>${esc(k)}: <b>${v}</b></div>`;
}

function stageSection(s: StageReport, model: ReportModel, opts: PageOptions): string {
  const h: string[] = [];
  h.push(`<section class="card stage" id="stage-${esc(s.name)}"><h3><code>${esc(s.name)}</code> ${badge(s.status)}</h3>`);
  h.push(`<div class="muted">fingerprint <code>${esc(s.fingerprint)}</code> · <code>${esc(s.dir)}</code>${s.upstream.length ? ` · reads ${s.upstream.map((u) => `<a href="#stage-${esc(u)}"><code>${esc(u)}</code></a>`).join(', ')}` : ''}</div>`);
  const kv: string[] = [];
  if (s.tasks !== null) kv.push(figure('tasks', s.status === 'done' ? fmtCount(s.tasks) : `${fmtCount(s.tasksDone)} of ${fmtCount(s.tasks)} complete`));
  if (s.docsIn) kv.push(figure('docs in', fmtCount(s.docsIn)));
  if (s.docsOut !== null && (s.docsOut || s.output !== 'artifact')) kv.push(figure('docs out', fmtCount(s.docsOut)));
  if (s.bytesIn) kv.push(figure('text in', fmtBytesShort(s.bytesIn)));
  if (s.bytesOut) kv.push(figure('text out', fmtBytesShort(s.bytesOut)));
  if (s.rows !== null) kv.push(figure('rows', fmtCount(s.rows)));
  if (s.bytes !== null) kv.push(figure('output size', `${fmtBytesShort(s.bytes)} in ${fmtCount(s.files ?? 0)} file(s)`));
  if (s.seconds !== null) kv.push(figure('time', fmtSeconds(s.seconds)));
  if (s.taskSeconds !== null) kv.push(figure('task time', fmtSeconds(s.taskSeconds)));
  for (const [k, v] of Object.entries(s.skipped)) kv.push(figure(`skipped (${k})`, fmtCount(v)));
  for (const [k, v] of Object.entries(s.info)) kv.push(figure(k, esc(typeof v === 'number' ? (Number.isInteger(v) ? fmtCount(v) : String(Number(v.toPrecision(5)))) : String(v))));
  if (s.slurm) kv.push(figure('slurm', `${s.slurm.queued} queued, ${s.slurm.running} running, ${s.slurm.failed} failed/cancelled`));
  if (kv.length) h.push(`<div class="kv">${kv.join('')}</div>`);
  if (s.status === 'stale') h.push(`<div class="muted">The output at the current fingerprint is missing${s.older.length ? `; older complete output(s): ${s.older.map((f) => `<code>${esc(f)}</code>`).join(', ')}` : ''}. A run recomputes it.</div>`);
  if (s.status === 'pending') h.push('<div class="muted">Not run yet at this fingerprint.</div>');
  if (s.summary) h.push(`<pre class="summary">${esc(s.summary)}</pre>`);
  const ops = s.operators.filter((o) => o.docsIn || Object.keys(o.drops).length);
  if (ops.length) {
    h.push('<table class="ops"><thead><tr><th>operator</th><th class="n">docs in</th><th class="n">docs out</th><th>drops per reason</th></tr></thead><tbody>');
    for (const o of ops) {
      const reasons = Object.entries(o.drops).sort((a, b) => b[1] - a[1]).map(([r, n]) => `<code>${esc(r)}</code> ${fmtCount(n)}`).join(' · ');
      h.push(`<tr><td><code>${esc(o.name)}</code>${o.type !== o.name ? ` <span class="muted">${esc(o.type)}</span>` : ''}</td><td class="n">${fmtCount(o.docsIn)}</td><td class="n">${fmtCount(o.docsOut)}</td><td>${reasons || '<span class="muted">none</span>'}</td></tr>`);
    }
    h.push('</tbody></table>');
  }
  const links = stageLinks(s, model);
  if (links.length) h.push(`<div>Reports: ${links.map((l) => link(l, opts)).join(' · ')}</div>`);
  h.push('</section>');
  return h.join('\n');
}

function liveScript(live: NonNullable<PageOptions['live']>): string {
  // Polls the server; on a new state, reloads (keeping the scroll position, which browsers restore).
  return `<script>(function(){var v=${JSON.stringify(live.version)};function poll(){fetch(${JSON.stringify(live.stateUrl)},{cache:'no-store'}).then(function(r){return r.text()}).then(function(t){if(t.trim()!==v){location.reload()}else{setTimeout(poll,${live.pollMs})}}).catch(function(){setTimeout(poll,${live.pollMs * 4})})}setTimeout(poll,${live.pollMs})})();</script>`;
}

/** Renders the main page (`index.html`) of a report. */
export async function renderReportPage(model: ReportModel, opts: PageOptions): Promise<string> {
  const h: string[] = [];
  const title = `Sluice report — ${model.pipeline}`;
  h.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head><body><main>`);
  h.push(`<h1>${esc(title)}</h1>`);
  const counts = (['done', 'partial', 'stale', 'pending'] as const).map((st) => [st, model.stages.filter((s) => s.status === st).length] as const).filter(([, n]) => n);
  h.push(`<div class="muted">workdir <code>${esc(model.workdir)}</code> · ${model.stages.length} stage(s): ${counts.map(([st, n]) => `${n} ${st}`).join(', ')} · generated ${esc(model.generated)}${opts.live ? ' · <span class="live">live: refreshes as tasks complete</span>' : ''}</div>`);
  const all: ReportLink[] = [...(model.audit ? [model.audit] : []), ...model.stages.flatMap((s) => s.reports)];
  h.push('<h2>Reports</h2>');
  h.push(all.length ? `<ul class="reports">${all.map((l) => `<li>${link(l, opts)} <span class="muted mono">${esc(l.path)}</span></li>`).join('')}</ul>` : '<div class="muted">No stage has written a report yet.</div>');
  h.push('<h2>Pipeline</h2>');
  h.push(`<div class="card dagbox"><div class="legend muted" style="text-align:left;margin-bottom:6px">${(['done', 'partial', 'stale', 'pending'] as const).map(badge).join('')}</div>${await dagSvg(model.stages)}</div>`);
  h.push('<h2>Stages</h2>');
  h.push(`<div class="card">${stagesTable(model, opts)}<div class="muted">time: wall time during which the stage's tasks ran (pauses between an interrupted run and its resume excluded); task time: the tasks' seconds summed; throughput: docs (and text bytes) in per second of time.</div></div>`);
  h.push('<h2>Key figures per stage</h2>');
  for (const s of model.stages) h.push(stageSection(s, model, opts));
  h.push('</main>');
  if (opts.live) h.push(liveScript(opts.live));
  h.push('</body></html>');
  return h.join('\n');
}
