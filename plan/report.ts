/**
 * The sweep's `report.html`: one self-contained page (no scripts, no external assets) with an
 * inline SVG chart of the runs and the fitted curves, the coefficients with their bootstrap
 * intervals, the compute-optimal frontier and the target prediction.
 */
import { allocateParametric, predictLoss } from './chinchilla.ts';
import { predictComputeLaw, type Interval } from './fit.ts';
import type { SweepAnalysis } from './analysis.ts';
import { fmtCount, fmtSci } from './format.ts';

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function niceStep(span: number, count: number): number {
  const raw = span / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3 ? 2 : m < 7 ? 5 : 10) * p;
}

/**
 * The chart: loss against training compute (log axis). Dots are runs (one colour per model
 * size, black ring = compute-efficient frontier); thin lines are L(N, D) along each size; the
 * solid line is L(N, D)'s compute-optimal frontier; the dashed line is the fitted L(C); a
 * diamond with an interval bar marks the target.
 */
export function renderChart(a: SweepAnalysis, width = 760, height = 460): string {
  const m = { l: 64, r: 20, t: 20, b: 48 };
  const runs = a.runs;
  if (runs.length === 0) return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="60"><text x="10" y="30">no runs</text></svg>`;
  const xsAll = runs.map((r) => Math.log10(r.flops));
  if (a.target && Number.isFinite(a.target.flops)) xsAll.push(Math.log10(a.target.flops));
  const x0 = Math.floor(Math.min(...xsAll) - 0.2);
  const x1 = Math.ceil(Math.max(...xsAll) + 0.2);
  const law = 'error' in a.parametricLaw ? null : { ...a.parametricLaw, source: '' };
  const claw = 'error' in a.computeLaw ? null : a.computeLaw;

  // Curves sampled along x.
  const samples = (lo: number, hi: number, f: (c: number) => number) => {
    const pts: Array<[number, number]> = [];
    for (let i = 0; i <= 120; i++) {
      const lx = lo + ((hi - lo) * i) / 120;
      const y = f(10 ** lx);
      if (Number.isFinite(y)) pts.push([lx, y]);
    }
    return pts;
  };
  const sizes = [...new Set(runs.map((r) => r.params))].sort((p, q) => p - q);
  const color = (n: number) => PALETTE[sizes.indexOf(n) % PALETTE.length]!;
  const curves: Array<{ pts: Array<[number, number]>; style: string }> = [];
  if (law) {
    for (const n of sizes) {
      const cs = runs.filter((r) => r.params === n).map((r) => Math.log10(r.flops));
      curves.push({ pts: samples(Math.min(...cs) - 0.5, Math.max(...cs) + 0.5, (c) => predictLoss(law, n, c / (6 * n))), style: `stroke="${color(n)}" stroke-width="1" opacity="0.7"` });
    }
    curves.push({ pts: samples(x0, x1, (c) => allocateParametric(law, c).loss), style: 'stroke="#000" stroke-width="2"' });
  }
  if (claw) curves.push({ pts: samples(x0, x1, (c) => predictComputeLaw(claw, c)), style: 'stroke="#555" stroke-width="2" stroke-dasharray="6 4"' });

  const ysAll = runs.map((r) => r.loss);
  if (a.target) for (const v of [a.target.lossParametric, a.target.lossCompute]) if (v !== null && Number.isFinite(v)) ysAll.push(v);
  if (a.target?.lossParametricCi) ysAll.push(a.target.lossParametricCi.lo, a.target.lossParametricCi.hi);
  if (a.target?.lossComputeCi) ysAll.push(a.target.lossComputeCi.lo, a.target.lossComputeCi.hi);
  let y0 = Math.min(...ysAll);
  let y1 = Math.max(...ysAll);
  const pad = (y1 - y0) * 0.08 || 0.1;
  y0 -= pad;
  y1 += pad;
  const W = width - m.l - m.r;
  const H = height - m.t - m.b;
  const X = (lx: number) => m.l + ((lx - x0) / (x1 - x0)) * W;
  const Y = (y: number) => m.t + (1 - (y - y0) / (y1 - y0)) * H;
  const clipY = (y: number) => Math.min(Math.max(y, y0), y1);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<defs><clipPath id="plot"><rect x="${m.l}" y="${m.t}" width="${W}" height="${H}"/></clipPath></defs>`);
  out.push(`<rect x="${m.l}" y="${m.t}" width="${W}" height="${H}" fill="#fff" stroke="#999"/>`);
  const xStep = Math.max(1, Math.ceil((x1 - x0) / 12));
  for (let e = x0; e <= x1; e += xStep) {
    out.push(`<line x1="${X(e)}" y1="${m.t}" x2="${X(e)}" y2="${m.t + H}" stroke="#eee"/>`);
    out.push(`<text x="${X(e)}" y="${m.t + H + 16}" text-anchor="middle">1e${e}</text>`);
  }
  const yStep = niceStep(y1 - y0, 6);
  for (let v = Math.ceil(y0 / yStep) * yStep; v <= y1; v += yStep) {
    out.push(`<line x1="${m.l}" y1="${Y(v).toFixed(1)}" x2="${m.l + W}" y2="${Y(v).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${m.l - 6}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end">${+v.toFixed(4)}</text>`);
  }
  out.push(`<text x="${m.l + W / 2}" y="${height - 10}" text-anchor="middle">training compute C = 6·N·D (FLOPs)</text>`);
  out.push(`<text transform="translate(16 ${m.t + H / 2}) rotate(-90)" text-anchor="middle">final loss (nats/token)</text>`);
  out.push('<g clip-path="url(#plot)" fill="none">');
  for (const c of curves) {
    if (c.pts.length < 2) continue;
    const d = c.pts.map(([lx, y], i) => `${i ? 'L' : 'M'}${X(lx).toFixed(1)} ${Y(clipY(y)).toFixed(1)}`).join('');
    out.push(`<path d="${d}" ${c.style}/>`);
  }
  out.push('</g>');
  const frontierSet = new Set<number>();
  {
    let best = Infinity;
    [...runs.keys()].sort((i, j) => runs[i]!.flops - runs[j]!.flops || runs[i]!.loss - runs[j]!.loss).forEach((i) => {
      if (runs[i]!.loss < best) {
        best = runs[i]!.loss;
        frontierSet.add(i);
      }
    });
  }
  runs.forEach((r, i) => {
    out.push(`<circle cx="${X(Math.log10(r.flops)).toFixed(1)}" cy="${Y(r.loss).toFixed(1)}" r="4.5" fill="${color(r.params)}" stroke="${frontierSet.has(i) ? '#000' : 'none'}" stroke-width="1.5"><title>${esc(`${r.name}: N ${fmtCount(r.params)}, D ${fmtCount(r.tokens)}, C ${fmtSci(r.flops)}, loss ${r.loss.toFixed(4)}`)}</title></circle>`);
  });
  if (a.target && Number.isFinite(a.target.flops)) {
    const tx = X(Math.log10(a.target.flops));
    const marks: Array<[number | null, Interval | null, string]> = [[a.target.lossParametric, a.target.lossParametricCi, '#000'], [a.target.lossCompute, a.target.lossComputeCi, '#555']];
    for (const [v, ci, col] of marks) {
      if (v === null || !Number.isFinite(v)) continue;
      if (ci) out.push(`<line x1="${tx}" y1="${Y(ci.lo).toFixed(1)}" x2="${tx}" y2="${Y(ci.hi).toFixed(1)}" stroke="${col}" stroke-width="1.5"/>`);
      const ty = Y(v);
      out.push(`<path d="M${tx} ${ty - 7}L${tx + 7} ${ty}L${tx} ${ty + 7}L${tx - 7} ${ty}Z" fill="#fff" stroke="${col}" stroke-width="2"><title>target: ${v.toFixed(4)}</title></path>`);
    }
  }
  // Legend.
  const legend: Array<[string, string]> = sizes.map((n) => [`<circle cx="8" cy="-4" r="4.5" fill="${color(n)}"/>`, `N = ${fmtCount(n)}`]);
  if (law) legend.push(['<line x1="0" y1="-4" x2="16" y2="-4" stroke="#000" stroke-width="2"/>', 'L(N, D) optimal frontier']);
  if (claw) legend.push(['<line x1="0" y1="-4" x2="16" y2="-4" stroke="#555" stroke-width="2" stroke-dasharray="6 4"/>', 'fitted L(C)']);
  if (a.target) legend.push(['<path d="M8 -11L15 -4L8 3L1 -4Z" fill="#fff" stroke="#000" stroke-width="2"/>', 'target']);
  legend.forEach(([sym, label], i) => {
    out.push(`<g transform="translate(${m.l + W - 170} ${m.t + 18 + i * 16})">${sym}<text x="22" y="0">${esc(label)}</text></g>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

function ciText(ci: Interval | undefined | null, digits = 4): string {
  return ci ? `[${fmt(ci.lo, digits)}, ${fmt(ci.hi, digits)}]` : '—';
}

function fmt(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0) ? fmtSci(v) : v.toPrecision(digits);
}

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

/** The full HTML page of a sweep. `title` defaults to "Scaling sweep". */
export function renderReport(a: SweepAnalysis, title = 'Scaling sweep'): string {
  const lvl = `${Math.round(a.bootstrap.level * 100)}%`;
  const parts: string[] = [];
  parts.push(`<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>body{font-family:sans-serif;max-width:900px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}.err{color:#b00}</style></head><body>`);
  parts.push(`<h1>${esc(title)}</h1>`);
  parts.push(`<p>${a.runs.length} runs; N = ${a.paramsKind === 'total' ? 'all parameters' : 'non-embedding parameters'}; C = 6·N·D. Intervals: ${lvl} percentile bootstrap over ${a.bootstrap.resamples} resamples of the runs (seed ${a.bootstrap.seed}).</p>`);
  parts.push(renderChart(a));
  for (const w of a.warnings ?? []) parts.push(`<p class="err">warning: ${esc(w)}</p>`);
  parts.push('<h2>Fitted laws</h2>');
  const p = a.parametricLaw;
  if ('error' in p) parts.push(`<p class="err">L(N, D) = E + A/N^α + B/D^β not fitted: ${esc(p.error)}</p>`);
  else {
    parts.push(`<p>L(N, D) = E + A/N^α + B/D^β — ${p.n} runs, RMSE ${fmt(p.rmse)}, R² ${p.r2.toFixed(4)}, ${p.iterations} LM iterations${p.converged ? '' : ' (not converged)'}.</p>`);
    parts.push(table(['coefficient', 'estimate', `${lvl} interval`], [
      ['E', fmt(p.E), ciText(p.ci.E)],
      ['A', fmt(p.A), ciText(p.ci.A)],
      ['B', fmt(p.B), ciText(p.ci.B)],
      ['α', fmt(p.alpha), ciText(p.ci.alpha)],
      ['β', fmt(p.beta), ciText(p.ci.beta)],
      ['N_opt ∝ C^a, a = β/(α+β)', fmt(p.exponentN), ciText(p.ci.exponentN)],
    ]));
  }
  const c = a.computeLaw;
  if ('error' in c) parts.push(`<p class="err">L(C) = a·C^−α + L∞ not fitted: ${esc(c.error)}</p>`);
  else {
    parts.push(`<p>L(C) = a·C^−α + L∞ — fitted on ${c.on === 'frontier' ? 'the compute-efficient frontier of the runs' : 'all runs (the frontier has too few points)'} (${c.n} points), RMSE ${fmt(c.rmse)}, R² ${c.r2.toFixed(4)}.</p>`);
    parts.push(table(['coefficient', 'estimate', `${lvl} interval`], [
      ['a', fmt(c.a), ciText(c.ci.a)],
      ['α', fmt(c.alpha), ciText(c.ci.alpha)],
      ['L∞', fmt(c.lInf), ciText(c.ci.lInf)],
    ]));
  }
  if (a.target) {
    const t = a.target;
    parts.push('<h2>Target run</h2>');
    parts.push(table(['N', 'D', 'C', 'L(N, D)', `${lvl} interval`, 'L(C)', `${lvl} interval`], [[
      Number.isFinite(t.params) ? fmtCount(t.params) : '—', Number.isFinite(t.tokens) ? fmtCount(t.tokens) : '—', fmtSci(t.flops),
      t.lossParametric === null ? '—' : fmt(t.lossParametric), ciText(t.lossParametricCi), t.lossCompute === null ? '—' : fmt(t.lossCompute), ciText(t.lossComputeCi),
    ]]));
  }
  if (a.frontier.length) {
    parts.push('<h2>Compute-optimal frontier of the fitted L(N, D)</h2>');
    parts.push(table(['C (FLOPs)', 'N', 'D', 'D/N', 'loss'], a.frontier.map((f) => [fmtSci(f.flops), fmtCount(f.params), fmtCount(f.tokens), (f.tokens / f.params).toFixed(1), fmt(f.loss)])));
  }
  parts.push('<h2>Runs</h2>');
  parts.push(table(['run', 'N', 'D', 'C', 'loss', 'train loss', 'val loss', 'steps', 'seconds'], a.runs.map((r) => [
    r.name, fmtCount(r.params), fmtCount(r.tokens), fmtSci(r.flops), r.loss.toFixed(4), r.trainLoss.toFixed(4), r.valLoss === null ? '—' : r.valLoss.toFixed(4), String(r.steps), r.seconds.toFixed(1),
  ])));
  parts.push('</body></html>');
  return parts.join('\n');
}
