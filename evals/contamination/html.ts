/**
 * The contamination report as one self-contained HTML file: inline CSS and SVG charts (dirty
 * share per benchmark, score on all vs clean items, overlap-fraction histogram), the method card,
 * GPT-3's table and the dirty items with their n-grams and training-document provenance.
 * No scripts, fonts or images are fetched: the file opens offline.
 */
import { fmtScore, methodCard, overlapKinds, type ContaminationReport } from './report.ts';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = fmtScore;

/** Horizontal bars of dirty % per benchmark. */
function dirtyChart(r: ContaminationReport): string {
  const seen = new Set<string>();
  const rows = r.rows.filter((x) => (seen.has(x.benchmark) ? false : (seen.add(x.benchmark), true)));
  const w = 640, label = 180, barH = 22, gap = 8, top = 28;
  const h = top + rows.length * (barH + gap) + 24;
  const max = Math.max(1, ...rows.map((x) => x.dirtyPct));
  const scale = (w - label - 170) / max; // room for the value label
  const bars = rows
    .map((x, i) => {
      const y = top + i * (barH + gap);
      const bw = Math.max(1, x.dirtyPct * scale);
      return `<text x="${label - 8}" y="${y + 15}" text-anchor="end" class="lbl">${esc(x.benchmark)}</text><rect x="${label}" y="${y}" width="${bw.toFixed(1)}" height="${barH}" class="${x.dirtyPct > 1 ? 'bad' : 'ok'}"><title>${esc(x.benchmark)}: ${x.dirty} of ${x.total} dirty</title></rect><text x="${(label + bw + 6).toFixed(1)}" y="${y + 15}" class="val">${x.dirtyPct.toFixed(2)}% (${x.dirty}/${x.total})</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="dirty share per benchmark"><text x="0" y="16" class="ttl">Dirty items per benchmark (%)</text>${bars}</svg>`;
}

/** Grouped bars: score on all items vs clean items, per row with scores (higher-is-better metrics). */
function scoreChart(r: ContaminationReport): string {
  const rows = r.rows.filter((x) => x.scoreAll !== null && x.scoreClean !== null && x.higherIsBetter);
  if (!rows.length) return '';
  const w = 640, label = 240, barH = 11, gap = 10, top = 28;
  const h = top + rows.length * (2 * barH + gap) + 30;
  const scale = (w - label - 70) / Math.max(1e-9, ...rows.map((x) => Math.max(x.scoreAll!, x.scoreClean!)));
  const bars = rows
    .map((x, i) => {
      const y = top + i * (2 * barH + gap);
      const a = x.scoreAll! * scale, c = x.scoreClean! * scale;
      return `<text x="${label - 8}" y="${y + 15}" text-anchor="end" class="lbl">${esc(`${x.benchmark} · ${x.metric}`)}</text><rect x="${label}" y="${y}" width="${a.toFixed(1)}" height="${barH}" class="all"/><text x="${(label + a + 4).toFixed(1)}" y="${y + 9}" class="val">${fmt(x.scoreAll, 3)}</text><rect x="${label}" y="${y + barH}" width="${c.toFixed(1)}" height="${barH}" class="clean"/><text x="${(label + c + 4).toFixed(1)}" y="${y + barH + 9}" class="val">${fmt(x.scoreClean, 3)}</text>`;
    })
    .join('');
  const ly = h - 14;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="score on all vs clean items"><text x="0" y="16" class="ttl">Score on all items vs clean items</text>${bars}<rect x="${label}" y="${ly - 9}" width="10" height="10" class="all"/><text x="${label + 14}" y="${ly}" class="val">all</text><rect x="${label + 60}" y="${ly - 9}" width="10" height="10" class="clean"/><text x="${label + 74}" y="${ly}" class="val">clean</text></svg>`;
}

/** Histogram of the matched-n-gram fraction of every item with a match (10 bins). */
function fractionChart(r: ContaminationReport): string {
  const bins = new Array(10).fill(0) as number[];
  for (const b of r.benchmarks) for (const it of b.items) if (it.matched > 0) bins[Math.min(9, Math.floor(it.fraction * 10))]!++;
  const total = bins.reduce((s, x) => s + x, 0);
  if (!total) return '';
  const w = 640, h = 200, left = 40, bottom = 170, top = 30;
  const max = Math.max(...bins);
  const bw = (w - left - 20) / 10;
  const bars = bins
    .map((n, i) => {
      const bh = (n / max) * (bottom - top);
      const x = left + i * bw;
      return `<rect x="${(x + 2).toFixed(1)}" y="${(bottom - bh).toFixed(1)}" width="${(bw - 4).toFixed(1)}" height="${bh.toFixed(1)}" class="hist"><title>${i * 10}–${i * 10 + 10}%: ${n} items</title></rect><text x="${(x + bw / 2).toFixed(1)}" y="${(bottom - bh - 4).toFixed(1)}" text-anchor="middle" class="val">${n}</text><text x="${(x + bw / 2).toFixed(1)}" y="${bottom + 14}" text-anchor="middle" class="lbl">${i * 10}%</text>`;
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="overlap fraction histogram"><text x="0" y="16" class="ttl">Items with a match, by fraction of their n-grams matched (${total} items)</text><line x1="${left}" y1="${bottom}" x2="${w - 20}" y2="${bottom}" class="axis"/>${bars}</svg>`;
}

const CSS = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#1d232b;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde3ea;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
table{border-collapse:collapse;width:100%;margin:6px 0 12px}th,td{border:1px solid #dde3ea;padding:4px 7px;text-align:left;vertical-align:top}th{background:#f3f6f9}
td.n{text-align:right;font-variant-numeric:tabular-nums}.card td:first-child{width:190px;font-weight:600;background:#f8fafc}
code{font:12px ui-monospace,Menlo,Consolas,monospace;background:#f3f6f9;padding:1px 3px;border-radius:3px}
svg{display:block;margin:10px 0}svg .lbl{font-size:12px;fill:#3a4450}svg .val{font-size:11px;fill:#3a4450}svg .ttl{font-size:13px;font-weight:600;fill:#1d232b}
svg .ok{fill:#4c9a6a}svg .bad{fill:#c8553d}svg .all{fill:#8aa1b8}svg .clean{fill:#2f6f9f}svg .hist{fill:#7b6fa8}svg .axis{stroke:#9aa5b1}
.dirty{color:#c8553d;font-weight:600}.muted{color:#6b7785}.charts{display:flex;flex-wrap:wrap;gap:12px 28px}`;

/** Renders the report as a self-contained HTML page (up to `itemsPerBenchmark` dirty items each). */
export function reportHtml(r: ContaminationReport, itemsPerBenchmark = 25): string {
  const card = methodCard(r)
    .map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`)
    .join('');
  const rows = r.rows
    .map(
      (x) =>
        `<tr><td>${esc(x.benchmark)}</td><td>${esc(x.metric)}</td><td class="n">${x.ngram}</td><td class="n">${x.total}</td><td class="n${x.dirty ? ' dirty' : ''}">${x.dirty}</td><td class="n">${x.dirtyPct.toFixed(2)}%</td><td class="n">${fmt(x.scoreAll)}</td><td class="n">${fmt(x.scoreDirty)}</td><td class="n">${fmt(x.scoreClean)}</td><td class="n">${x.cleanPct.toFixed(2)}%</td><td class="n">${x.relDiff === null ? '—' : `${x.relDiff >= 0 ? '+' : ''}${(100 * x.relDiff).toFixed(2)}%`}</td></tr>`,
    )
    .join('');
  const items = r.benchmarks
    .map((b) => {
      const dirty = b.items.filter((i) => i.dirty);
      if (!dirty.length) return '';
      const trs = dirty
        .slice(0, itemsPerBenchmark)
        .map((it) => {
          const grams = it.ngrams.slice(0, 3).map((g) => `<code>${esc(g)}</code>`).join('<br>');
          const docs = it.sources
            .slice(0, 3)
            .map((s) => `${esc(s.id)}${s.url ? ` <span class="muted">${esc(s.url)}</span>` : ''} (${s.grams})`)
            .join('<br>');
          return `<tr><td>${esc(it.id)}</td><td class="n">${it.score.toFixed(2)}</td><td>${esc(it.field)}${it.answerNear ? ' <span class="muted">+ answer near</span>' : ''}</td><td class="n">${it.matched}/${it.grams}</td><td>${grams}</td><td>${docs}</td></tr>`;
        })
        .join('');
      const more = dirty.length > itemsPerBenchmark ? `<p class="muted">… and ${dirty.length - itemsPerBenchmark} more in the JSON report.</p>` : '';
      return `<h3>${esc(b.name)}: ${b.dirty} dirty of ${b.total}</h3>${overlapKinds(dirty).filter(Boolean).map((l) => `<p>${esc(l)}</p>`).join('')}<table><thead><tr><th>Item</th><th>Score</th><th>Field matched</th><th>Matched</th><th>Matched n-grams</th><th>Training docs (n-grams)</th></tr></thead><tbody>${trs}</tbody></table>${more}`;
    })
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(r.title)}</title><style>${CSS}</style></head>
<body><h1>${esc(r.title)}</h1><p class="muted">Benchmark items checked against the training corpus by ${r.method.ngram}-${esc(r.method.unit === 'words' ? 'word' : 'token')} overlap, GPT-3 style.</p>
<h2>Method</h2><table class="card"><tbody>${card}</tbody></table>
<h2>Per benchmark</h2><table><thead><tr><th>Benchmark</th><th>Metric (method)</th><th>N</th><th>Total</th><th>Dirty</th><th>Dirty %</th><th>Score (all)</th><th>Score (dirty)</th><th>Score (clean)</th><th>Clean %</th><th>Rel. diff clean vs all</th></tr></thead><tbody>${rows}</tbody></table>
<div class="charts">${dirtyChart(r)}${scoreChart(r)}${fractionChart(r)}</div>
<h2>Dirty items</h2>${items || '<p>No benchmark item overlaps the training corpus.</p>'}
</body></html>
`;
}
