/**
 * The trainer stage's report: a self-contained HTML page with the loss curve as inline SVG
 * (training loss per step, validation loss as points), the model and run configuration, and the
 * final figures. No scripts, no external assets.
 */
import type { MetricsRecord, TrainResult } from './api.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** An SVG line chart of train loss (line) and validation loss (points) against step. */
export function lossCurveSvg(records: MetricsRecord[], width = 720, height = 360): string {
  const train = records.filter((r): r is Extract<MetricsRecord, { kind: 'train' }> => r.kind === 'train' && Number.isFinite(r.loss));
  const val = records.filter((r): r is Extract<MetricsRecord, { kind: 'val' }> => r.kind === 'val' && Number.isFinite(r.valLoss));
  const pad = { l: 56, r: 16, t: 16, b: 40 };
  const all = [...train.map((r) => r.loss), ...val.map((r) => r.valLoss)];
  if (!all.length) return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><text x="20" y="30">no metrics yet</text></svg>`;
  const steps = [...train.map((r) => r.step), ...val.map((r) => r.step)];
  const x0 = Math.min(0, ...steps);
  const x1 = Math.max(1, ...steps);
  let y0 = Math.min(...all);
  let y1 = Math.max(...all);
  if (y1 - y0 < 1e-6) {
    y0 -= 0.5;
    y1 += 0.5;
  }
  const margin = (y1 - y0) * 0.05;
  y0 -= margin;
  y1 += margin;
  const W = width - pad.l - pad.r;
  const H = height - pad.t - pad.b;
  const sx = (s: number) => pad.l + ((s - x0) / (x1 - x0)) * W;
  const sy = (v: number) => pad.t + (1 - (v - y0) / (y1 - y0)) * H;
  // Keep the path short on long runs: at most ~2 points per pixel column.
  const stride = Math.max(1, Math.floor(train.length / (2 * W)));
  const pts = train.filter((_, i) => i % stride === 0 || i === train.length - 1).map((r) => `${sx(r.step).toFixed(1)},${sy(r.loss).toFixed(1)}`);
  const ticks = 5;
  const parts: string[] = [];
  for (let i = 0; i <= ticks; i++) {
    const v = y0 + ((y1 - y0) * i) / ticks;
    const y = sy(v).toFixed(1);
    parts.push(`<line x1="${pad.l}" x2="${pad.l + W}" y1="${y}" y2="${y}" stroke="#eee"/><text x="${pad.l - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${v.toFixed(2)}</text>`);
    const s = x0 + ((x1 - x0) * i) / ticks;
    parts.push(`<text x="${sx(s).toFixed(1)}" y="${pad.t + H + 16}" text-anchor="middle">${Math.round(s)}</text>`);
  }
  const valDots = val.map((r) => `<circle cx="${sx(r.step).toFixed(1)}" cy="${sy(r.valLoss).toFixed(1)}" r="3.5" fill="#d62728"><title>step ${r.step}: val ${r.valLoss.toFixed(4)}</title></circle>`).join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11" role="img" aria-label="loss curve">`,
    ...parts,
    `<rect x="${pad.l}" y="${pad.t}" width="${W}" height="${H}" fill="none" stroke="#999"/>`,
    pts.length ? `<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${pts.join(' ')}"/>` : '',
    valDots,
    `<text x="${pad.l + W / 2}" y="${height - 6}" text-anchor="middle">step</text>`,
    `<text x="14" y="${pad.t + H / 2}" text-anchor="middle" transform="rotate(-90 14 ${pad.t + H / 2})">loss (nats/token)</text>`,
    `<g transform="translate(${pad.l + W - 150},${pad.t + 10})"><line x1="0" x2="18" y1="0" y2="0" stroke="#1f77b4" stroke-width="2"/><text x="24" y="0" dominant-baseline="middle">train</text><circle cx="80" cy="0" r="3.5" fill="#d62728"/><text x="88" y="0" dominant-baseline="middle">validation</text></g>`,
    `</svg>`,
  ].join('');
}

/** The full report page. */
export function renderReport(result: TrainResult, records: MetricsRecord[], title = 'Sluice training report'): string {
  const rows: Array<[string, string]> = [
    ['backend', result.backend],
    ['model', `${result.model.layers} layers, d_model ${result.model.dModel}, ${result.model.heads} heads, context ${result.model.contextLength}, vocabulary ${result.model.vocabSize}, ${result.model.positions} positions, ${result.model.tiedHead ? 'tied' : 'separate'} head`],
    ['parameters', `${result.params.total.toLocaleString('en')} total, ${result.params.nonEmbedding.toLocaleString('en')} non-embedding`],
    ['steps', String(result.steps) + (result.resumedFromStep ? ` (resumed from ${result.resumedFromStep})` : '')],
    ['tokens seen', result.tokensSeen.toLocaleString('en')],
    ['final train loss', result.finalLoss.toFixed(4)],
    ['validation loss', result.valLoss === null ? '—' : result.valLoss.toFixed(4)],
    ['throughput', `${result.tokensPerSecond.toFixed(0)} tokens/s`],
    ['FLOPs per token', result.flopsPerToken.toExponential(3)],
    ['total FLOPs', result.totalFlops.toExponential(3)],
    ['MFU', `${(100 * result.mfu).toFixed(1)}% of a measured ${(result.peakFlops / 1e9).toFixed(1)} GFLOP/s matmul peak`],
    ['wall time (this process)', `${result.seconds.toFixed(1)} s`],
  ];
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:800px}table{border-collapse:collapse}td{padding:3px 10px;border-bottom:1px solid #eee}td:first-child{color:#555}</style></head>
<body><h1>${esc(title)}</h1>
${lossCurveSvg(records)}
<table>${rows.map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('')}</table>
<p>Checkpoint: <code>${esc(result.checkpoint)}</code></p>
</body></html>
`;
}
