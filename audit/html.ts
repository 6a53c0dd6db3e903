/**
 * The audit as one self-contained HTML file: inline CSS and SVG charts, no script, no network.
 * Laid out for reading without horizontal scrolling: one column up to 1,100 px, histograms in a
 * grid that wraps, long URLs and texts broken anywhere.
 */
import type { OperatorAudit, ScoreSummary, StageAuditReport } from './report.ts';
import { fmtBytes, fmtInt, fmtNum, whatIfLine } from './text.ts';

export { esc } from '../engine/display.ts';
import { esc } from '../engine/display.ts';

const KEPT = '#3b7dd8';
const DROPPED = '#e0663a';
const THRESH = '#222';

/** An SVG histogram of one score: stacked kept/dropped bars, thresholds as dashed lines. */
export function histogramSvg(s: ScoreSummary): string {
  const W = 480;
  const H = 200;
  const m = { l: 44, r: 26, t: 22, b: 34 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const bins = s.bins;
  const lo = bins[0]!.lo;
  const hi = bins[bins.length - 1]!.hi;
  const maxCount = Math.max(1, ...bins.map((b) => b.kept + b.dropped));
  const x = (v: number) => m.l + ((v - lo) / (hi - lo)) * pw;
  const y = (c: number) => m.t + ph - (c / maxCount) * ph;
  const parts: string[] = [];
  parts.push(`<svg class="hist" viewBox="0 0 ${W} ${H}" role="img" aria-label="histogram of ${esc(s.key)}" xmlns="http://www.w3.org/2000/svg">`);
  parts.push(`<title>${esc(s.key)}: ${fmtInt(s.count)} docs</title>`);
  parts.push(`<line x1="${m.l}" y1="${m.t + ph}" x2="${m.l + pw}" y2="${m.t + ph}" stroke="#999"/>`);
  parts.push(`<line x1="${m.l}" y1="${m.t}" x2="${m.l}" y2="${m.t + ph}" stroke="#999"/>`);
  parts.push(`<text x="${m.l - 4}" y="${m.t + 4}" text-anchor="end" class="ax">${fmtInt(maxCount)}</text>`);
  parts.push(`<text x="${m.l - 4}" y="${m.t + ph}" text-anchor="end" class="ax">0</text>`);
  for (const b of bins) {
    const x0 = x(b.lo) + 0.5;
    const w = Math.max(0.5, x(b.hi) - x(b.lo) - 1);
    if (b.kept) parts.push(`<rect class="bar kept" x="${x0.toFixed(1)}" y="${y(b.kept).toFixed(1)}" width="${w.toFixed(1)}" height="${(m.t + ph - y(b.kept)).toFixed(1)}" fill="${KEPT}"><title>[${fmtNum(b.lo)}, ${fmtNum(b.hi)}): ${fmtInt(b.kept)} kept</title></rect>`);
    if (b.dropped) {
      const top = y(b.kept + b.dropped);
      parts.push(`<rect class="bar dropped" x="${x0.toFixed(1)}" y="${top.toFixed(1)}" width="${w.toFixed(1)}" height="${(y(b.kept) - top).toFixed(1)}" fill="${DROPPED}"><title>[${fmtNum(b.lo)}, ${fmtNum(b.hi)}): ${fmtInt(b.dropped)} dropped</title></rect>`);
    }
  }
  const ticks = 4;
  for (let i = 0; i <= ticks; i++) {
    const v = lo + ((hi - lo) * i) / ticks;
    parts.push(`<text x="${x(v).toFixed(1)}" y="${m.t + ph + 14}" text-anchor="middle" class="ax">${esc(fmtNum(v))}</text>`);
  }
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 4}" text-anchor="middle" class="ax lbl">${esc(s.key)}</text>`);
  for (const t of s.thresholds) {
    const label = `${t.bound} ${fmtNum(t.value)}`;
    if (t.value < lo || t.value > hi) {
      // Off the axis: marked at the edge with an arrow pointing to where it is.
      const left = t.value < lo;
      parts.push(`<text x="${left ? m.l + 4 : m.l + pw - 4}" y="${m.t + 6}" text-anchor="${left ? 'start' : 'end'}" class="ax th offaxis">${esc(left ? `← ${label}` : `${label} →`)}</text>`);
      continue;
    }
    const tx = x(t.value);
    parts.push(`<line class="threshold" x1="${tx.toFixed(1)}" y1="${m.t - 4}" x2="${tx.toFixed(1)}" y2="${m.t + ph}" stroke="${THRESH}" stroke-width="1.5" stroke-dasharray="4 3"/>`);
    const anchor = tx > m.l + pw * 0.7 ? 'end' : 'start';
    parts.push(`<text x="${(tx + (anchor === 'end' ? -4 : 4)).toFixed(1)}" y="${m.t + 6}" text-anchor="${anchor}" class="ax th">${esc(label)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

/** Horizontal bars: docs entering each operator of a stage, kept vs dropped. */
export function funnelSvg(ops: OperatorAudit[]): string {
  const rowH = 26;
  const W = 640;
  const labelW = 170;
  const H = ops.length * rowH + 8;
  const max = Math.max(1, ...ops.map((o) => o.docsIn));
  const parts = [`<svg class="funnel" viewBox="0 0 ${W} ${H}" role="img" aria-label="docs per operator" xmlns="http://www.w3.org/2000/svg">`];
  ops.forEach((o, i) => {
    const y0 = 4 + i * rowH;
    const wk = ((W - labelW - 90) * o.docsOut) / max;
    const wd = ((W - labelW - 90) * Math.max(0, o.docsIn - o.docsOut)) / max;
    parts.push(`<text x="${labelW - 6}" y="${y0 + 15}" text-anchor="end" class="ax">${esc(o.name.length > 26 ? o.name.slice(0, 25) + '…' : o.name)}</text>`);
    parts.push(`<rect x="${labelW}" y="${y0 + 3}" width="${wk.toFixed(1)}" height="${rowH - 8}" fill="${KEPT}"/>`);
    parts.push(`<rect x="${(labelW + wk).toFixed(1)}" y="${y0 + 3}" width="${wd.toFixed(1)}" height="${rowH - 8}" fill="${DROPPED}"/>`);
    parts.push(`<text x="${(labelW + wk + wd + 6).toFixed(1)}" y="${y0 + 15}" class="ax">${fmtInt(o.docsOut)} / ${fmtInt(o.docsIn)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

const CSS = `
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f;margin:0;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:20px 24px 60px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:19px;margin:28px 0 8px;border-bottom:2px solid #d8dde5;padding-bottom:4px}
h3{font-size:16px;margin:22px 0 8px}h4{font-size:14px;margin:14px 0 6px;color:#444}
.card{background:#fff;border:1px solid #e1e4ea;border-radius:8px;padding:14px 16px;margin:12px 0}
table{border-collapse:collapse;width:100%;table-layout:auto}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eceef2;vertical-align:top;overflow-wrap:anywhere}
th{font-weight:600;color:#555;font-size:12px;text-transform:uppercase;letter-spacing:.02em}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:12px}
.grid figure{margin:0;background:#fff;border:1px solid #eceef2;border-radius:6px;padding:6px}
figcaption{font-size:12px;color:#555;padding:0 4px 2px}
svg{width:100%;height:auto;display:block}
svg .ax{font-size:10px;fill:#555}svg .lbl{font-size:11px;fill:#333}svg .th{font-size:10px;fill:#111;font-weight:600}
.share{display:inline-block;height:8px;background:${DROPPED};border-radius:2px;vertical-align:middle;margin-right:6px}
.muted{color:#666;font-size:12px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;overflow-wrap:anywhere}
pre.sample{white-space:pre-wrap;overflow-wrap:anywhere;background:#f8f8fa;border:1px solid #eee;border-radius:4px;padding:6px 8px;margin:4px 0 10px;font-size:12px;max-height:9em;overflow:auto}
details{margin:6px 0}summary{cursor:pointer;color:#2456a6}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;vertical-align:middle}
.whatif{background:#fff8e6;border:1px solid #f0d68a;border-radius:6px;padding:8px 12px;margin:8px 0}
`;

function operatorSection(op: OperatorAudit): string {
  const h: string[] = [];
  h.push(`<section class="card operator" id="op-${esc(op.name)}">`);
  h.push(`<h3>${esc(op.name)} <span class="muted">${esc(op.type)}${op.version ? ` v${esc(op.version)}` : ''}</span></h3>`);
  h.push(
    `<table class="counts"><tr><th class="n">docs in</th><th class="n">kept</th><th class="n">dropped</th><th class="n">bytes in</th><th class="n">bytes kept</th></tr>` +
      `<tr><td class="n">${fmtInt(op.docsIn)}</td><td class="n">${fmtInt(op.docsOut)}</td><td class="n">${fmtInt(op.dropped)}${op.docsIn ? ` (${((100 * op.dropped) / op.docsIn).toFixed(1)}%)` : ''}</td><td class="n">${fmtBytes(op.bytesIn)}</td><td class="n">${fmtBytes(op.bytesOut)}</td></tr></table>`,
  );
  if (op.reasons.length) {
    h.push('<h4>Drops per reason</h4><table class="reasons"><tr><th>reason</th><th class="n">docs</th><th>share of input</th><th class="n">bytes</th><th class="n">share of bytes</th></tr>');
    for (const r of op.reasons) {
      h.push(`<tr><td><code>${esc(r.reason)}</code></td><td class="n">${fmtInt(r.docs)}</td><td><span class="share" style="width:${Math.max(1, Math.round(200 * r.share))}px"></span>${(100 * r.share).toFixed(1)}%</td><td class="n">${fmtBytes(r.bytes)}</td><td class="n">${op.bytesIn ? `${(100 * r.byteShare).toFixed(1)}%` : '–'}</td></tr>`);
    }
    h.push('</table>');
  }
  if (op.scores.length) {
    h.push(`<h4>Scores <span class="legend muted"><span style="background:${KEPT}"></span>kept<span style="background:${DROPPED}"></span>dropped<span style="background:none;border-top:2px dashed #222;height:0"></span>threshold</span></h4>`);
    h.push('<div class="grid">');
    for (const s of op.scores) {
      h.push(`<figure><figcaption><b>${esc(s.key)}</b> · ${fmtInt(s.count)} docs · min ${esc(fmtNum(s.min))} · mean ${esc(fmtNum(s.mean))} · max ${esc(fmtNum(s.max))}</figcaption>${histogramSvg(s)}</figure>`);
    }
    h.push('</div>');
  }
  if (op.nearThreshold.length) {
    h.push('<h4>Kept docs closest to each threshold</h4><table class="near"><tr><th>threshold</th><th class="n">value</th><th>doc</th></tr>');
    for (const n of op.nearThreshold) {
      n.samples.forEach((s, i) => {
        const head = i === 0 ? `<td rowspan="${n.samples.length}"><code>${esc(n.config)}</code><br><span class="muted">${esc(n.score)} ${n.bound === 'min' ? '≥' : '≤'} ${esc(fmtNum(n.threshold))}</span></td>` : '';
        const text =
          s.text !== undefined
            ? `<div class="muted">${esc(s.text.slice(0, 200))}${s.text.length > 200 ? '…' : ''}</div>`
            : s.droppedBy
              ? `<div class="muted">kept here, then dropped by ${esc(s.droppedBy)}</div>`
              : '';
        h.push(`<tr>${head}<td class="n">${esc(fmtNum(s.value))}</td><td><span class="mono">${esc(s.url ?? s.id)}</span>${text}</td></tr>`);
      });
    }
    h.push('</table>');
  }
  const withSamples = op.reasons.filter((r) => r.samples.length);
  if (withSamples.length) {
    h.push('<h4>Samples of dropped docs</h4>');
    for (const r of withSamples) {
      h.push(`<details><summary><code>${esc(r.reason)}</code> — ${r.samples.length} of ${fmtInt(r.seen)} sampled</summary>`);
      for (const s of r.samples) {
        h.push(`<div class="mono">${esc(s.url ?? s.id)}${s.score !== null ? ` · score ${esc(fmtNum(s.score))}` : ''}</div><pre class="sample">${esc(s.text)}</pre>`);
      }
      h.push('</details>');
    }
  }
  h.push('</section>');
  return h.join('\n');
}

/** Renders stage audits as one self-contained HTML document. */
export function renderHtml(reports: StageAuditReport[], opts: { pipeline?: string; generated?: string } = {}): string {
  const h: string[] = [];
  const title = `Filter audit${opts.pipeline ? ` — ${opts.pipeline}` : ''}`;
  h.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${CSS}</style></head><body><main>`);
  h.push(`<h1>${esc(title)}</h1>`);
  if (opts.generated) h.push(`<div class="muted">generated ${esc(opts.generated)} by sluice audit</div>`);
  for (const r of reports) {
    h.push(`<h2 id="stage-${esc(r.stage)}">Stage <code>${esc(r.stage)}</code></h2>`);
    h.push(`<div class="muted">${r.fingerprint ? `fingerprint <code>${esc(r.fingerprint)}</code> · ` : ''}${r.rows !== undefined ? `${fmtInt(r.rows)} docs out` : 'incomplete (no manifest)'} · <code>${esc(r.dir)}</code></div>`);
    if (r.operators.length) h.push(`<div class="card"><h4>Docs through the operators</h4>${funnelSvg(r.operators)}</div>`);
    for (const w of r.whatIf) h.push(`<div class="whatif"><b>What if</b> ${esc(whatIfLine(w))}<div class="muted">${esc(w.note)}</div></div>`);
    for (const op of r.operators) h.push(operatorSection(op));
    const skipped = Object.entries(r.skipped);
    if (skipped.length) {
      h.push('<div class="card"><h4>Skipped input records</h4><table><tr><th>reason</th><th class="n">records</th></tr>');
      for (const [k, n] of skipped) h.push(`<tr><td><code>${esc(k)}</code></td><td class="n">${fmtInt(n)}</td></tr>`);
      h.push('</table></div>');
    }
    if (r.dropLog.length) {
      const glob = `${r.dir}/_audit/drops-*.parquet`;
      h.push(`<div class="card"><h4>Full drop log</h4><p>${r.dropLog.length} Parquet file(s): <code>${esc(glob)}</code> (columns operator, id, url, reason, score, details). With DuckDB:</p><pre class="sample">SELECT operator, reason, count(*) FROM '${esc(glob)}' GROUP BY ALL ORDER BY 3 DESC;</pre></div>`);
    }
  }
  h.push('</main></body></html>');
  return h.join('\n');
}
