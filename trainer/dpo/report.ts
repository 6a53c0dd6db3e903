/**
 * The DPO stage's report: a self-contained HTML page with two inline-SVG charts side by side, the
 * preference loss and the reward margin (training steps as a line, held-out evaluations as
 * points), the held-out reward accuracy before and after, and the run's figures. No scripts.
 */
import type { DpoResult } from './api.ts';
import type { DpoMetricsRecord } from './metrics.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A chart's data: a line (per training step) and points (held-out evaluations). */
export interface ChartSeries {
  label: string;
  line: Array<[number, number]>;
  points: Array<[number, number]>;
}

/** An SVG line chart of `s` against step; `aria-label` is `s.label`. */
export function seriesChartSvg(s: ChartSeries, width = 440, height = 300): string {
  const line = s.line.filter(([, v]) => Number.isFinite(v));
  const points = s.points.filter(([, v]) => Number.isFinite(v));
  const all = [...line, ...points];
  if (!all.length) return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${esc(s.label)}"><text x="20" y="30">no metrics yet</text></svg>`;
  const pad = { l: 56, r: 12, t: 22, b: 36 };
  const x0 = Math.min(0, ...all.map(([x]) => x));
  const x1 = Math.max(1, ...all.map(([x]) => x));
  let y0 = Math.min(...all.map(([, y]) => y));
  let y1 = Math.max(...all.map(([, y]) => y));
  if (y1 - y0 < 1e-6) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const m = (y1 - y0) * 0.05;
  y0 -= m;
  y1 += m;
  const W = width - pad.l - pad.r;
  const H = height - pad.t - pad.b;
  const sx = (x: number) => pad.l + ((x - x0) / (x1 - x0)) * W;
  const sy = (y: number) => pad.t + (1 - (y - y0) / (y1 - y0)) * H;
  const stride = Math.max(1, Math.floor(line.length / (2 * W)));
  const pts = line.filter((_, i) => i % stride === 0 || i === line.length - 1).map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = y0 + ((y1 - y0) * i) / 4;
    const y = sy(v).toFixed(1);
    parts.push(`<line x1="${pad.l}" x2="${pad.l + W}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${pad.l - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${v.toFixed(3)}</text>`);
    const st = x0 + ((x1 - x0) * i) / 4;
    parts.push(`<text x="${sx(st).toFixed(1)}" y="${pad.t + H + 16}" text-anchor="middle">${Math.round(st)}</text>`);
  }
  const dots = points.map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3.5" fill="#d62728"><title>step ${x}: held-out ${y.toFixed(4)}</title></circle>`).join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11" role="img" aria-label="${esc(s.label)}">`,
    `<text x="${pad.l}" y="14" font-weight="bold">${esc(s.label)}</text>`,
    ...parts,
    `<rect x="${pad.l}" y="${pad.t}" width="${W}" height="${H}" fill="none" stroke="#999"/>`,
    pts.length ? `<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${pts.join(' ')}"/>` : '',
    dots,
    `<text x="${pad.l + W / 2}" y="${height - 4}" text-anchor="middle">step</text>`,
    `<g transform="translate(${pad.l + W - 150},${pad.t + 10})"><line x1="0" x2="18" y1="0" y2="0" stroke="#1f77b4" stroke-width="2"/><text x="24" y="0" dominant-baseline="middle">train</text><circle cx="70" cy="0" r="3.5" fill="#d62728"/><text x="78" y="0" dominant-baseline="middle">held-out</text></g>`,
    `</svg>`,
  ].join('');
}

/** The loss and reward-margin charts of a run's records, side by side. */
export function dpoChartsHtml(records: DpoMetricsRecord[]): string {
  const train = records.filter((r): r is Extract<DpoMetricsRecord, { kind: 'dpo' }> => r.kind === 'dpo');
  const evals = records.filter((r): r is Extract<DpoMetricsRecord, { kind: 'dpo-eval' }> => r.kind === 'dpo-eval');
  const loss = seriesChartSvg({ label: 'loss', line: train.map((r) => [r.step, r.loss]), points: evals.map((r) => [r.step, r.loss]) });
  const margin = seriesChartSvg({ label: 'reward margin', line: train.map((r) => [r.step, r.rewardMargin]), points: evals.map((r) => [r.step, r.rewardMargin]) });
  return `<div style="display:flex;gap:12px;flex-wrap:wrap">${loss}${margin}</div>`;
}

/** The full report page. */
export function renderDpoReport(r: DpoResult, records: DpoMetricsRecord[], title = 'Sluice DPO report'): string {
  const f = (x: number | undefined | null, d = 4) => (x === undefined || x === null || !Number.isFinite(x) ? '—' : x.toFixed(d));
  const rows: Array<[string, string]> = [
    ['backend', r.backend],
    ['loss', `${r.loss}, β ${r.beta}`],
    ['parameters', r.params.total.toLocaleString('en')],
    ['steps', String(r.steps) + (r.resumedFromStep ? ` (resumed from ${r.resumedFromStep})` : '')],
    ['pairs trained on', r.pairs.toLocaleString('en')],
    ['final train loss', f(r.finalLoss)],
    ['held-out reward accuracy', `${f(r.before?.rewardAccuracy, 3)} before → ${f(r.after?.rewardAccuracy, 3)} after`],
    ['held-out reward margin', `${f(r.before?.rewardMargin)} before → ${f(r.after?.rewardMargin)} after`],
    ['held-out loss', `${f(r.before?.loss)} before → ${f(r.after?.loss)} after`],
    ['throughput', `${r.tokensPerSecond.toFixed(0)} tokens/s (padded sequence positions)`],
    ['wall time (this process)', `${r.seconds.toFixed(1)} s`],
  ];
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:960px}table{border-collapse:collapse}td{padding:3px 10px;border-bottom:1px solid #eee}td:first-child{color:#555}</style></head>
<body><h1>${esc(title)}</h1>
${dpoChartsHtml(records)}
<table>${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</table>
<p>Checkpoint: <code>${esc(r.checkpoint)}</code></p>
</body></html>
`;
}
