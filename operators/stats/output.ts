/**
 * The files of a stats result: `stats.parquet` (one row per group_by × group × metric, see
 * {@link StatsRow}; DuckDB: `SELECT * FROM 'stats.parquet' WHERE metric = 'bytes'`) and
 * `stats.html` (self-contained: no scripts, no external resources; an SVG histogram per metric
 * over all documents and a top-domains table).
 */
import * as arrow from 'apache-arrow';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTableParquet } from '../../engine/parquet.ts';
import { esc, fmtBytes, fmtInt } from '../../engine/display.ts';
import { QuantileSketch } from './sketch.ts';
import { statsRows, type StatsAccumulator, type StatsRow } from './metrics.ts';

const NUM_COLS = ['count', 'sum', 'mean', 'min', 'max', 'p01', 'p10', 'p25', 'p50', 'p75', 'p90', 'p99'] as const;

/** The rows as a Parquet file's bytes (utf8 group_by, group, metric; float64 numbers; NaN where a metric is empty). */
export async function statsParquet(rows: StatsRow[]): Promise<Uint8Array> {
  const cols: Record<string, arrow.Vector> = {
    group_by: arrow.vectorFromArray(rows.map((r) => r.group_by), new arrow.Utf8()),
    group: arrow.vectorFromArray(rows.map((r) => r.group), new arrow.Utf8()),
    metric: arrow.vectorFromArray(rows.map((r) => r.metric), new arrow.Utf8()),
  };
  for (const c of NUM_COLS) cols[c] = arrow.vectorFromArray(rows.map((r) => r[c]), new arrow.Float64());
  const dir = await mkdtemp(join(tmpdir(), 'sluice-stats-'));
  try {
    const path = join(dir, 'stats.parquet');
    await writeTableParquet(path, new arrow.Table(cols));
    return new Uint8Array(await readFile(path));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const fmt = (x: number) => (!Number.isFinite(x) ? '–' : Math.abs(x) >= 1000 || Number.isInteger(x) ? fmtInt(Math.round(x)) : x.toPrecision(3));

/** An SVG histogram of a sketch's buckets, regrouped into at most `bars` bars of equal log width. */
function histogram(s: QuantileSketch, title: string, bars = 30): string {
  const b = s.buckets().filter((x) => x[2] > 0);
  if (!b.length) return '';
  const groups: Array<[number, number, number]> = [];
  const per = Math.max(1, Math.ceil(b.length / bars));
  for (let i = 0; i < b.length; i += per) {
    const chunk = b.slice(i, i + per);
    groups.push([chunk[0]![0], chunk[chunk.length - 1]![1], chunk.reduce((a, x) => a + x[2], 0)]);
  }
  const W = 600;
  const H = 120;
  const bw = W / groups.length;
  const max = Math.max(...groups.map((g) => g[2]));
  const rects = groups
    .map((g, i) => {
      const h = Math.max(1, Math.round((H - 20) * (g[2] / max)));
      return `<rect x="${(i * bw + 1).toFixed(1)}" y="${H - 14 - h}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h}"><title>${esc(`${fmt(g[0])} – ${fmt(g[1])}: ${fmtInt(g[2])} docs`)}</title></rect>`;
    })
    .join('');
  return `<figure><figcaption>${esc(title)} <small>(${fmtInt(s.count)} docs; p50 ${esc(fmt(s.quantile(0.5)))}, p90 ${esc(fmt(s.quantile(0.9)))})</small></figcaption><svg class="hist" role="img" aria-label="${esc(`histogram of ${title}`)}" viewBox="0 0 ${W} ${H}" width="100%" height="${H}">${rects}<text x="0" y="${H - 2}">${esc(fmt(groups[0]![0]))}</text><text x="${W}" y="${H - 2}" text-anchor="end">${esc(fmt(groups[groups.length - 1]![1]))}</text></svg></figure>`;
}

/** `stats.html`: totals, one histogram per metric over all documents, and the top `topN` domains (when grouped by domain) by docs. */
export function statsHtml(a: StatsAccumulator, title: string, topN = 50): string {
  const all = a.groups.get('*')?.get('*') ?? new Map<string, QuantileSketch>();
  const docs = all.get('docs')?.count ?? 0;
  const bytes = all.get('bytes')?.sum ?? 0;
  const tokens = all.get('tokens')?.sum ?? 0;
  const h: string[] = [];
  h.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>
body{font:14px system-ui,sans-serif;margin:1.5em;max-width:1100px;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.hist rect{fill:#4a7fb5}.hist text{font-size:11px;fill:#555}figure{margin:1em 0;max-width:640px}.grid{display:flex;flex-wrap:wrap;gap:0 2em}</style></head><body>`);
  h.push(`<h1>${esc(title)}</h1><p id="totals">${fmtInt(docs)} docs · ${esc(fmtBytes(bytes))} · ${fmtInt(tokens)} tokens</p>`);
  h.push(`<h2>Distributions</h2><div class="grid">`);
  for (const [name, s] of [...all.entries()].sort((x, y) => x[0].localeCompare(y[0]))) if (name !== 'docs') h.push(histogram(s, name));
  h.push(`</div>`);
  const domains = a.groups.get('domain');
  if (domains) {
    const rows = [...domains.entries()].map(([d, m]) => ({ d, docs: m.get('docs')?.count ?? 0, bytes: m.get('bytes')?.sum ?? 0, tokens: m.get('tokens')?.sum ?? 0, p50: m.get('bytes')?.quantile(0.5) ?? NaN, punct: m.get('punctuationLines')?.mean() ?? NaN, dup: m.get('duplicateLines')?.mean() ?? NaN }));
    rows.sort((x, y) => y.docs - x.docs || x.d.localeCompare(y.d));
    h.push(`<h2>Top domains</h2><table id="domains"><tr><th>domain</th><th class="n">docs</th><th class="n">share</th><th class="n">bytes</th><th class="n">tokens</th><th class="n">median bytes</th><th class="n">punct. lines</th><th class="n">dup. lines</th></tr>`);
    for (const r of rows.slice(0, topN)) {
      h.push(`<tr><td>${esc(r.d)}</td><td class="n">${fmtInt(r.docs)}</td><td class="n">${docs ? ((100 * r.docs) / docs).toFixed(1) : '0'}%</td><td class="n">${esc(fmtBytes(r.bytes))}</td><td class="n">${fmtInt(r.tokens)}</td><td class="n">${esc(fmt(r.p50))}</td><td class="n">${Number.isFinite(r.punct) ? (100 * r.punct).toFixed(1) + '%' : '–'}</td><td class="n">${Number.isFinite(r.dup) ? (100 * r.dup).toFixed(1) + '%' : '–'}</td></tr>`);
    }
    h.push(`</table>${rows.length > topN ? `<p>${fmtInt(rows.length - topN)} more domains in stats.parquet.</p>` : ''}`);
  }
  h.push(`<p><small>Quantiles from DDSketch, relative error ≤ ${(a.alpha * 100).toFixed(2)}%.</small></p></body></html>`);
  return h.join('\n');
}

export { statsRows };
