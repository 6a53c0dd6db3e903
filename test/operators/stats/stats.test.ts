/**
 * `stats()` as a pipeline stage (Parquet read by DuckDB, stats.html rendered in Chromium) and
 * `sluice stats` comparing a filter's input and output per domain.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { run } from '../../../engine/runner.ts';
import { docMetrics, groupOf } from '../../../operators/stats/metrics.ts';
import { stats } from '../../../operators/stats/stage.ts';
import type { Doc, Manifest } from '../../../engine/types.ts';
import { SLUICE, tempProject } from '../../helpers/cli.ts';
import { runMain } from '../../helpers/main.ts';

const CHROMIUM = '/usr/bin/chromium';
const DOMAINS = ['alpha.example', 'beta.example', 'gamma.example', 'delta.example'];

/** Doc i: domain i % 4 (with and without www.), 2 + (i * 7) % 30 lines, some repeated, lang en/de, meta.quality. */
function fixtureDoc(i: number): Doc {
  const lines: string[] = [];
  const n = 2 + ((i * 7) % 30);
  for (let k = 0; k < n; k++) lines.push(k % 5 === 4 ? lines[0]! : `Line ${k} of doc ${i} has ${'word '.repeat(1 + ((i + k) % 9))}here${k % 3 ? '.' : ''}`);
  return { id: `d${i}`, text: lines.join('\n'), meta: { url: `https://${i % 8 < 4 ? 'www.' : ''}${DOMAINS[i % 4]}/p/${i}`, lang: i % 3 ? 'en' : 'de', quality: (i % 10) / 10 } };
}

const DOCS = Array.from({ length: 240 }, (_, i) => fixtureDoc(i));
const MIN_WORDS = 60;
const kept = (d: Doc) => d.text.split(/\s+/).filter(Boolean).length >= MIN_WORDS;

let dir = '';
let file = '';
let statsDir = '';
before(async () => {
  dir = tempProject('sluice-stats-');
  mkdirSync(join(dir, 'data'));
  for (let f = 0; f < 3; f++) {
    const part = DOCS.filter((_, i) => i % 3 === f);
    writeFileSync(join(dir, 'data', `p${f}.jsonl`), part.map((d) => JSON.stringify({ id: d.id, text: d.text, url: d.meta.url, lang: d.meta.lang, quality: d.meta.quality })).join('\n') + '\n');
  }
  file = join(dir, 'pipeline.ts');
  writeFileSync(
    file,
    `import { pipeline, read, filter, stats } from ${JSON.stringify(SLUICE)};
export default pipeline({ name: 'st', workdir: ${JSON.stringify(join(dir, 'runs'))} }, (p) => {
  const raw = p.stage('raw', read.jsonl(${JSON.stringify(join(dir, 'data'))} + '/*.jsonl'));
  const long = p.stage('long', raw, [filter.where('minWords', (d) => d.text.split(/\\s+/).filter(Boolean).length >= ${MIN_WORDS} ? true : { drop: 'short' }, {})]);
  p.stage('stats', long, stats({ groupBy: ['domain', 'language'] }));
});
`,
  );
  const r = await run(file, { workers: 2, progress: 'none' });
  statsDir = r.stages.find((s) => s.stage === 'stats')!.dir;
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('stats.parquet: DuckDB reads per-domain docs, bytes, words, line shares and meta fields that match a direct count; quantiles within 1%', async () => {
  const m = JSON.parse(readFileSync(join(statsDir, 'manifest.json'), 'utf8')) as Manifest;
  assert.deepEqual(m.files.map((f) => f.path).sort(), ['stats.html', 'stats.json', 'stats.parquet']);
  const long = DOCS.filter(kept);
  assert.ok(long.length > 20 && long.length < DOCS.length, `${long.length} kept`);
  assert.equal((m.info!.stats as { docs: number }).docs, long.length);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const pq = join(statsDir, 'stats.parquet');
  const q = async (sql: string) => (await conn.runAndReadAll(sql)).getRowObjects();
  const byDomain = await q(`SELECT "group" AS g, count::INTEGER AS n, sum::BIGINT AS s, p50 FROM read_parquet('${pq}') WHERE group_by = 'domain' AND metric = 'bytes' ORDER BY g`);
  for (const row of byDomain) {
    const docs = long.filter((d) => groupOf(d, 'domain') === row.g);
    assert.ok(DOMAINS.includes(String(row.g)), `www. is folded: ${row.g}`);
    assert.equal(row.n, docs.length);
    assert.equal(Number(row.s), docs.reduce((a, d) => a + Buffer.byteLength(d.text), 0));
    const sorted = docs.map((d) => Buffer.byteLength(d.text)).sort((a, b) => a - b);
    const exact = sorted[Math.floor(0.5 * (sorted.length - 1))]!;
    assert.ok(Math.abs(Number(row.p50) - exact) <= 0.01 * exact, `${row.g}: p50 ${row.p50} vs ${exact}`);
  }
  assert.equal(byDomain.length, 4);
  const metrics = (await q(`SELECT DISTINCT metric FROM read_parquet('${pq}') WHERE group_by = '*' ORDER BY metric`)).map((r) => r.metric);
  assert.deepEqual(metrics, ['bytes', 'docs', 'duplicateLines', 'meanWordLength', 'meta.quality', 'punctuationLines', 'words']);
  const en = long.filter((d) => d.meta.lang === 'en');
  const [lang] = await q(`SELECT count::INTEGER AS n, sum AS s FROM read_parquet('${pq}') WHERE group_by = 'language' AND "group" = 'en' AND metric = 'duplicateLines'`);
  assert.equal(lang!.n, en.length);
  assert.ok(Math.abs(Number(lang!.s) - en.reduce((a, d) => a + docMetrics(d).duplicateLines!, 0)) < 1e-9);
  const [qual] = await q(`SELECT mean, max FROM read_parquet('${pq}') WHERE group_by = '*' AND metric = 'meta.quality'`);
  assert.ok(Math.abs(Number(qual!.mean) - long.reduce((a, d) => a + (d.meta.quality as number), 0) / long.length) < 1e-9);
  const [punct] = await q(`SELECT sum FROM read_parquet('${pq}') WHERE group_by = '*' AND metric = 'punctuationLines'`);
  assert.ok(Math.abs(Number(punct!.sum) - long.reduce((a, d) => a + docMetrics(d).punctuationLines!, 0)) < 1e-9);
  conn.closeSync();
});

test('docMetrics: words, mean word length, punctuation and duplicate line shares', () => {
  const m = docMetrics({ id: 'x', text: 'Hello there.\nno end\nHello there.\n\nWhy?', meta: { langScore: 0.9 } });
  assert.equal(m.words, 7);
  assert.equal(m.punctuationLines, 3 / 4);
  assert.equal(m.duplicateLines, 1 / 4);
  assert.equal(m.languageScore, 0.9);
  assert.equal(m.meanWordLength, ('Hello' + 'there.' + 'no' + 'end' + 'Hello' + 'there.' + 'Why?').length / 7);
  assert.throws(() => stats({ metrics: ['nope' as 'docs'] }), /must be one of/);
});

test('stats.html renders its histograms and top-domains table in Chromium, with no scripts or network', { skip: existsSync(CHROMIUM) ? false : `skipped: ${CHROMIUM} is absent` }, async () => {
  const html = join(statsDir, 'stats.html');
  assert.ok(!/<script|<link|src=/i.test(readFileSync(html, 'utf8')));
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(`file://${html}`);
    const hist = await page.$$eval('svg.hist', (svgs) => svgs.map((s) => ({ bars: s.querySelectorAll('rect').length, w: s.getBoundingClientRect().width, h: s.getBoundingClientRect().height, label: s.getAttribute('aria-label') })));
    assert.ok(hist.length >= 5, `${hist.length} histograms`);
    for (const h of hist) assert.ok(h.bars >= 1 && h.w > 100 && h.h > 50, JSON.stringify(h));
    assert.ok(hist.some((h) => h.label === 'histogram of bytes'));
    const rows = await page.$$eval('#domains tr', (trs) => trs.slice(1).map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    assert.equal(rows.length, 4);
    const long = DOCS.filter(kept);
    const counts = DOMAINS.map((d) => [d, long.filter((x) => groupOf(x, 'domain') === d).length] as const).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    assert.deepEqual(rows.map((r) => [r[0], Number(r[1]!.replace(/,/g, ''))]), counts.map(([d, n]) => [d, n]));
    assert.match((await page.textContent('#totals'))!, new RegExp(`^${long.length} docs`));
    assert.deepEqual(requests, []);
  } finally {
    await browser.close();
  }
});

test('sluice stats --stage S compares S with its input per domain (text and --json); two --stage name both', async () => {
  const js = await runMain(['stats', file, '--stage', 'long', '--by', 'domain', '--json'], dir);
  assert.equal(js.code, 0, js.stderr);
  const c = JSON.parse(js.stdout) as { by: string; stages: string[]; groups: Array<{ group: string; a: { docs: number; bytes: number }; b: { docs: number; bytes: number }; keptDocs: number }> };
  assert.deepEqual(c.stages, ['raw', 'long']);
  assert.equal(c.groups[0]!.group, '*');
  assert.equal(c.groups[0]!.a.docs, DOCS.length);
  assert.equal(c.groups[0]!.b.docs, DOCS.filter(kept).length);
  for (const d of DOMAINS) {
    const g = c.groups.find((x) => x.group === d)!;
    const all = DOCS.filter((x) => groupOf(x, 'domain') === d);
    assert.equal(g.a.docs, all.length);
    assert.equal(g.b.docs, all.filter(kept).length);
    assert.equal(g.b.bytes, all.filter(kept).reduce((a, x) => a + Buffer.byteLength(x.text), 0));
    assert.equal(g.keptDocs, g.b.docs / g.a.docs);
  }
  const txt = await runMain(['stats', file, '--stage', 'raw', '--stage', 'long', '--by', 'language'], dir);
  assert.equal(txt.code, 0, txt.stderr);
  const lines = txt.stdout.trim().split('\n');
  assert.match(lines[0]!, /^language\s+docs raw\s+docs long\s+kept\s+bytes raw/);
  assert.match(lines[1]!, new RegExp(`^\\(all\\)\\s+${DOCS.length}\\s+${DOCS.filter(kept).length}\\s`));
  assert.equal(lines.length, 4, txt.stdout);
  const bad = await runMain(['stats', file, '--stage', 'raw'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /reads a source, not a stage/);
  const art = await runMain(['stats', file, '--stage', 'long', '--stage', 'stats'], dir);
  assert.notEqual(art.code, 0);
  assert.match(art.stderr, /artifact stage/);
});
