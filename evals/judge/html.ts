/**
 * judge.html: one model's judge result as a self-contained page (inline CSS, SVG and a few lines
 * of script for the filter; no external resource, works from file://). It shows the win rate and
 * the length-controlled win rate with 95% intervals (± 1.96 standard errors), a plot of the
 * length ratio against the judge's preference with the binned mean, and every instruction's pair
 * with the judge's preference and the GLM's length-controlled prediction, filterable by text and
 * by outcome.
 */
import { esc } from '../../engine/display.ts';
import { CSS } from '../../report/html.ts';
import type { AnnotationSet } from './annotations.ts';
import type { JudgeRow, JudgeSummary } from './report.ts';
import { isValidPreference, normalisePreference } from './winrate.ts';

/** The outcome classes of the filter. */
export type Outcome = 'model' | 'baseline' | 'draw' | 'unparsed';

/** A preference's outcome: model better (> 1.5), baseline better (< 1.5), draw, or no valid preference. */
export function outcome(p: number): Outcome {
  const q = normalisePreference(p);
  if (!isValidPreference(q)) return 'unparsed';
  return q > 1.5 ? 'model' : q < 1.5 ? 'baseline' : 'draw';
}

const COLOURS: Record<Outcome, string> = { model: '#2e8b57', baseline: '#b3261e', draw: '#c98a12', unparsed: '#8a9099' };

const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '–');

function interval(label: string, v: number, se: number, cls: string): string {
  const lo = Math.max(0, v - 1.96 * se);
  const hi = Math.min(100, v + 1.96 * se);
  return `<div class="card metric ${cls}"><div class="muted">${esc(label)}</div><div class="big" data-value="${v}">${f2(v)}%</div><div class="muted">95% interval ${f2(lo)} – ${f2(hi)} (± 1.96 × ${f2(se)})</div></div>`;
}

/** The length-vs-preference scatter: x = log₂(model length / baseline length), y = preference − 1. */
export function lengthPlot(rows: JudgeRow[]): string {
  const W = 760;
  const H = 300;
  const L = 48;
  const R = 16;
  const T = 14;
  const B = 40;
  const xr = (v: number) => L + ((Math.max(-4, Math.min(4, v)) + 4) / 8) * (W - L - R);
  const yr = (v: number) => T + (1 - v) * (H - T - B);
  const pts = rows
    .map((r) => ({ x: Math.log2(Math.max(1, r.modelLength) / Math.max(1, r.baselineLength)), y: normalisePreference(r.preference) - 1, o: outcome(r.preference) }))
    .filter((p) => p.o !== 'unparsed');
  const parts = [`<svg class="lenplot" viewBox="0 0 ${W} ${H}" role="img" aria-label="length ratio against the judge's preference" xmlns="http://www.w3.org/2000/svg">`];
  for (let k = -4; k <= 4; k++) parts.push(`<line x1="${xr(k)}" y1="${T}" x2="${xr(k)}" y2="${H - B}" stroke="#eceef2"/><text x="${xr(k)}" y="${H - B + 14}" font-size="10" text-anchor="middle" fill="#5f6672">${k === 0 ? '1×' : k > 0 ? `${2 ** k}×` : `1/${2 ** -k}`}</text>`);
  for (const v of [0, 0.5, 1]) parts.push(`<line x1="${L}" y1="${yr(v)}" x2="${W - R}" y2="${yr(v)}" stroke="${v === 0.5 ? '#c9ccd3' : '#eceef2'}"/><text x="${L - 6}" y="${yr(v) + 3}" font-size="10" text-anchor="end" fill="#5f6672">${v === 0 ? 'baseline' : v === 1 ? 'model' : 'tie'}</text>`);
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 6}" font-size="11" text-anchor="middle" fill="#39404c">model output length ÷ baseline output length (log scale, clipped at 16×)</text>`);
  for (const p of pts) parts.push(`<circle class="pt" cx="${xr(p.x).toFixed(1)}" cy="${yr(p.y).toFixed(1)}" r="2.4" fill="${COLOURS[p.o]}" fill-opacity="0.55"/>`);
  // Binned mean preference over 16 bins of the clipped log ratio.
  const bins = Array.from({ length: 16 }, () => ({ s: 0, n: 0 }));
  for (const p of pts) {
    const b = Math.min(15, Math.max(0, Math.floor(((Math.max(-4, Math.min(4, p.x)) + 4) / 8) * 16)));
    bins[b]!.s += p.y;
    bins[b]!.n++;
  }
  const line = bins.map((b, k) => (b.n ? `${xr(-4 + (k + 0.5) / 2).toFixed(1)},${yr(b.s / b.n).toFixed(1)}` : null)).filter(Boolean);
  if (line.length > 1) parts.push(`<polyline class="binned" points="${line.join(' ')}" fill="none" stroke="#2f6fd0" stroke-width="2"/>`);
  parts.push('</svg>');
  return parts.join('');
}

const SCRIPT = `
const q=document.getElementById('q'),sel=document.getElementById('outcome'),count=document.getElementById('shown');
function apply(){const t=q.value.trim().toLowerCase(),o=sel.value;let n=0;
for(const tr of document.querySelectorAll('tr.pair')){const ok=(!t||tr.dataset.text.includes(t))&&(o==='all'||tr.dataset.outcome===o);tr.hidden=!ok;const d=tr.nextElementSibling;if(d&&d.classList.contains('outputs'))d.hidden=!ok||!tr.classList.contains('open');if(ok)n++;}
count.textContent=String(n);}
q.addEventListener('input',apply);sel.addEventListener('change',apply);
for(const tr of document.querySelectorAll('tr.pair'))tr.addEventListener('click',()=>{tr.classList.toggle('open');const d=tr.nextElementSibling;if(d)d.hidden=!tr.classList.contains('open');});
apply();`;

/** The whole judge.html document. */
export function judgeHtml(result: { summary: JudgeSummary; rows: JudgeRow[] }, set: AnnotationSet): string {
  const { summary: s, rows } = result;
  const outputs = new Map(set.annotations.map((a) => [a.index, a]));
  const counts: Record<Outcome, number> = { model: 0, baseline: 0, draw: 0, unparsed: 0 };
  for (const r of rows) counts[outcome(r.preference)]++;
  const body = rows
    .map((r) => {
      const o = outcome(r.preference);
      const a = outputs.get(r.index)!;
      const pref = Number.isNaN(r.preference) ? 'unparsed' : r.preference.toFixed(3);
      return `<tr class="pair" data-outcome="${o}" data-text="${esc(`${r.instruction}\n${a.output1}\n${a.output2}`.toLowerCase())}"><td class="n">${r.index}</td><td>${esc(r.instruction.length > 160 ? `${r.instruction.slice(0, 160)}…` : r.instruction)}<div class="muted">${esc(r.dataset)}</div></td><td class="n">${r.baselineLength}</td><td class="n">${r.modelLength}</td><td class="n"><span class="badge" style="color:${COLOURS[o]};border-color:${COLOURS[o]}">${esc(o === 'model' ? 'model' : o === 'baseline' ? 'baseline' : o)}</span> ${pref}</td><td class="n">${(100 * r.lcPreference).toFixed(1)}%</td></tr>
<tr class="outputs" hidden><td></td><td colspan="5"><div class="pairgrid"><div><h4>${esc(s.baseline)} (baseline, output_1)</h4><pre>${esc(a.output1)}</pre></div><div><h4>${esc(s.model)} (model, output_2)</h4><pre>${esc(a.output2)}</pre></div></div></td></tr>`;
    })
    .join('\n');
  const weights = Object.entries(s.weights).map(([k, v]) => `<div>${esc(k)}: <b>${v.toFixed(4)}</b></div>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Judge: ${esc(s.model)} vs ${esc(s.baseline)}</title>
<style>${CSS}
.metrics{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:10px}.big{font-size:28px;font-weight:700;font-variant-numeric:tabular-nums}
svg.lenplot{width:100%;max-width:760px;height:auto}tr.pair{cursor:pointer}tr.pair:hover{background:#f3f5f8}
.pairgrid{display:grid;grid-template-columns:1fr 1fr;gap:12px}.pairgrid pre{white-space:pre-wrap;font-size:12px;background:#f8f8fa;border:1px solid #eee;border-radius:4px;padding:6px 8px;max-height:420px;overflow:auto}
h4{margin:0 0 4px;font-size:12px}.filters{display:flex;gap:10px;align-items:center;margin:6px 0}.filters input{flex:1;padding:5px 8px}
</style></head><body><main>
<h1>Judge: ${esc(s.model)} <span class="muted">vs ${esc(s.baseline)}</span></h1>
<div class="muted">${s.n} judged pairs · ${counts.unparsed} without a valid preference · GLM ${esc(s.glm)}${s.gamed.length ? ` · λ = ${s.lambda} towards ${s.gamed.length} gamed baseline set(s)` : ''}${s.skipped.length ? ` · ${s.skipped.length} malformed record(s) skipped` : ''}</div>
<div class="metrics">
${interval('win rate (AlpacaEval)', s.win_rate, s.standard_error, 'winrate')}
${interval('length-controlled win rate', s.length_controlled_winrate, s.lc_standard_error, 'lc')}
<div class="card"><div class="muted">outcomes</div><div>model better <b>${counts.model}</b> · baseline better <b>${counts.baseline}</b> · draws <b>${counts.draw}</b></div><div class="muted">discrete win rate ${f2(s.discrete_win_rate)}%</div><div class="kv">${weights}</div></div>
</div>
<h2>Length against preference</h2>
<div class="card">${lengthPlot(rows)}<div class="muted">Each dot is one instruction: green model better, red baseline better, amber draw; the blue line is the mean preference per length bin.</div></div>
<h2>Pairs</h2>
<div class="card"><div class="filters"><input id="q" type="search" placeholder="filter by text in the instruction or either output"><select id="outcome"><option value="all">all outcomes</option><option value="model">model better</option><option value="baseline">baseline better</option><option value="draw">draws</option><option value="unparsed">no valid preference</option></select><span class="muted"><span id="shown">${rows.length}</span> shown</span></div>
<table class="pairs"><thead><tr><th class="n">#</th><th>instruction (click a row for both outputs)</th><th class="n">baseline chars</th><th class="n">model chars</th><th class="n">judge preference</th><th class="n">LC prediction</th></tr></thead><tbody>
${body}
</tbody></table></div>
</main><script>${SCRIPT}</script></body></html>
`;
}
