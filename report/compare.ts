/**
 * `sluice report --compare A B`: per stage what changed between two workdirs' runs — the
 * fingerprint, the docs in and out, and the drops of each operator per reason — as a terminal
 * table and a self-contained `compare.html`. It answers "what did my threshold change do".
 */
import { esc } from '../audit/html.ts';
import type { ReportModel, StageReport } from './model.ts';
import { badge, CSS } from './html.ts';
import { fmtCount, fmtSeconds } from './format.ts';

/** One reason's drops in A and B (0 where absent). */
export interface DropChange {
  operator: string;
  reason: string;
  a: number;
  b: number;
}

/** One stage compared. */
export interface StageChange {
  stage: string;
  /** null: the stage is absent from that workdir. */
  /** Docs in and out are null for artifact stages (a custom stage counts no docs). */
  a: Pick<StageReport, 'status' | 'fingerprint' | 'docsIn' | 'docsOut' | 'dropped' | 'seconds'> | null;
  b: Pick<StageReport, 'status' | 'fingerprint' | 'docsIn' | 'docsOut' | 'dropped' | 'seconds'> | null;
  fingerprintChanged: boolean;
  /** Every (operator, reason) with drops in A or B, changed ones first. */
  drops: DropChange[];
}

/** The comparison of two workdirs. */
export interface Comparison {
  a: { workdir: string; pipeline: string; generated: string };
  b: { workdir: string; pipeline: string; generated: string };
  stages: StageChange[];
}

function pick(s: StageReport | undefined): StageChange['a'] {
  if (!s) return null;
  const artifact = s.output === 'artifact';
  return { status: s.status, fingerprint: s.fingerprint, docsIn: artifact ? null : s.docsIn, docsOut: artifact ? null : s.docsOut, dropped: s.dropped, seconds: s.seconds };
}

/** Compares two reports stage by stage (B's order, then stages only A has). */
export function compareReports(a: ReportModel, b: ReportModel): Comparison {
  const names = [...b.stages.map((s) => s.name), ...a.stages.map((s) => s.name).filter((n) => !b.stages.some((s) => s.name === n))];
  const stages = names.map((name): StageChange => {
    const sa = a.stages.find((s) => s.name === name);
    const sb = b.stages.find((s) => s.name === name);
    const key = (o: string, r: string) => `${o}\u0000${r}`;
    const drops = new Map<string, DropChange>();
    for (const [side, s] of [['a', sa], ['b', sb]] as const) {
      for (const o of s?.operators ?? []) {
        for (const [r, n] of Object.entries(o.drops)) {
          const d = drops.get(key(o.name, r)) ?? { operator: o.name, reason: r, a: 0, b: 0 };
          d[side] += n;
          drops.set(key(o.name, r), d);
        }
      }
    }
    const list = [...drops.values()].sort((x, y) => Number(y.a !== y.b) - Number(x.a !== x.b) || Math.abs(y.b - y.a) - Math.abs(x.b - x.a) || (x.operator + x.reason < y.operator + y.reason ? -1 : 1));
    return { stage: name, a: pick(sa), b: pick(sb), fingerprintChanged: !!sa && !!sb && sa.fingerprint !== sb.fingerprint, drops: list };
  });
  return { a: { workdir: a.workdir, pipeline: a.pipeline, generated: a.generated }, b: { workdir: b.workdir, pipeline: b.pipeline, generated: b.generated }, stages };
}

function delta(a: number | null | undefined, b: number | null | undefined): string {
  if (a === null || a === undefined || b === null || b === undefined) return '';
  const d = b - a;
  return d === 0 ? '' : ` (${d > 0 ? '+' : '−'}${fmtCount(Math.abs(d))})`;
}

function pair(a: number | null | undefined, b: number | null | undefined): string {
  const f = (x: number | null | undefined) => (x === null || x === undefined ? '–' : fmtCount(x));
  return `${f(a)} → ${f(b)}${delta(a, b)}`;
}

/** The comparison as a terminal table. */
export function renderCompareText(c: Comparison): string {
  const lines = [`A: ${c.a.workdir} (${c.a.pipeline}, ${c.a.generated})`, `B: ${c.b.workdir} (${c.b.pipeline}, ${c.b.generated})`, ''];
  const w = Math.max(5, ...c.stages.map((s) => s.stage.length));
  lines.push(`${'stage'.padEnd(w)}  ${'fingerprint A → B'.padEnd(38)}  ${'docs in A → B'.padEnd(24)}  docs out A → B`);
  for (const s of c.stages) {
    const fp = !s.a ? `(absent) → ${s.b!.fingerprint}` : !s.b ? `${s.a.fingerprint} → (absent)` : s.fingerprintChanged ? `${s.a.fingerprint} → ${s.b.fingerprint}` : `${s.a.fingerprint} (same)`;
    const st = s.a && s.b && s.a.status !== s.b.status ? `  [${s.a.status} → ${s.b.status}]` : s.b && s.b.status !== 'done' ? `  [${s.b.status}]` : '';
    lines.push(`${s.stage.padEnd(w)}  ${fp.padEnd(38)}  ${pair(s.a?.docsIn, s.b?.docsIn).padEnd(24)}  ${pair(s.a?.docsOut, s.b?.docsOut)}${st}`);
    for (const d of s.drops) if (d.a !== d.b) lines.push(`${''.padEnd(w)}    drops ${d.operator}: ${d.reason}  ${pair(d.a, d.b)}`);
  }
  const changed = c.stages.filter((s) => s.fingerprintChanged || !s.a || !s.b).length;
  lines.push('', `${changed} of ${c.stages.length} stage(s) differ in fingerprint or presence`);
  return lines.join('\n') + '\n';
}

/** The comparison as a self-contained HTML page. */
export function renderCompareHtml(c: Comparison): string {
  const h: string[] = [];
  const title = `Sluice comparison — ${c.a.pipeline === c.b.pipeline ? c.a.pipeline : `${c.a.pipeline} vs ${c.b.pipeline}`}`;
  h.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head><body><main>`);
  h.push(`<h1>${esc(title)}</h1>`);
  h.push(`<div class="muted">A: <code>${esc(c.a.workdir)}</code> (${esc(c.a.generated)})<br>B: <code>${esc(c.b.workdir)}</code> (${esc(c.b.generated)})</div>`);
  h.push('<div class="card"><table class="compare"><thead><tr><th>stage</th><th>status A → B</th><th>fingerprint A → B</th><th class="n">docs in A → B</th><th class="n">docs out A → B</th><th class="n">dropped A → B</th><th class="n">time A → B</th></tr></thead><tbody>');
  const cls = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null || a === b ? '' : b > a ? 'up' : 'down');
  for (const s of c.stages) {
    const st = `${s.a ? badge(s.a.status) : '<span class="muted">absent</span>'} → ${s.b ? badge(s.b.status) : '<span class="muted">absent</span>'}`;
    const fp = s.a && s.b && !s.fingerprintChanged ? `<code>${esc(s.a.fingerprint)}</code> <span class="muted">same</span>` : `<code>${esc(s.a?.fingerprint ?? '–')}</code> → <code>${esc(s.b?.fingerprint ?? '–')}</code>`;
    const time = `${s.a?.seconds != null ? fmtSeconds(s.a.seconds) : '–'} → ${s.b?.seconds != null ? fmtSeconds(s.b.seconds) : '–'}`;
    h.push(`<tr class="stage-row${s.fingerprintChanged ? ' changed' : ''}" data-stage="${esc(s.stage)}"><td><code>${esc(s.stage)}</code></td><td>${st}</td><td>${fp}</td><td class="n">${esc(pair(s.a?.docsIn, s.b?.docsIn))}</td><td class="n ${cls(s.a?.docsOut, s.b?.docsOut)}">${esc(pair(s.a?.docsOut, s.b?.docsOut))}</td><td class="n ${cls(s.a?.dropped, s.b?.dropped)}">${esc(pair(s.a?.dropped, s.b?.dropped))}</td><td class="n">${time}</td></tr>`);
    if (s.drops.length) {
      const rows = s.drops.map((d) => `<tr class="drop${d.a !== d.b ? ' changed' : ''}"><td><code>${esc(d.operator)}</code></td><td><code>${esc(d.reason)}</code></td><td class="n ${cls(d.a, d.b)}">${esc(pair(d.a, d.b))}</td></tr>`).join('');
      h.push(`<tr><td></td><td colspan="6"><table class="drops"><thead><tr><th>operator</th><th>reason</th><th class="n">drops A → B</th></tr></thead><tbody>${rows}</tbody></table></td></tr>`);
    }
  }
  h.push('</tbody></table></div></main></body></html>');
  return h.join('\n');
}
