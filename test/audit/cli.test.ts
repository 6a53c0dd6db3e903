import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, tempProject } from '../helpers/cli.ts';
import { writeAuditProject } from './fixtures.ts';

const CHROMIUM = '/usr/bin/chromium';
let dir = '';
let file = '';
before(async () => {
  dir = tempProject('sluice-audit-cli-');
  file = writeAuditProject(dir, 90);
  const r = await runCli(['run', file], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('sluice audit: text report of every completed stage with operators', async () => {
  const r = await runCli(['audit', file], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  for (const s of ['stage filtered', 'stage filtered100', 'stage thresholded']) assert.ok(r.stdout.includes(s), s);
  assert.match(r.stdout, /gopherQuality \[filter\.gopherQuality\]\s+in 90 docs/);
  assert.match(r.stdout, /score words\s+min \d+\s+mean [\d.,]+\s+max [\d,]+\s+threshold min 50/);
  assert.match(r.stdout, /drop log: .*_audit\/drops-00000\.parquet/);
});

test('sluice audit --json --what-if: structured report with the what-if answer', async () => {
  const r = await runCli(['audit', file, '--stage', 'filtered', '--json', '--what-if', 'gopherQuality.minWords=100'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { pipeline: string; stages: Array<{ stage: string; whatIf: Array<{ delta: number; droppedAfter: number }>; operators: Array<{ name: string }> }> };
  assert.equal(j.pipeline, 'audit-test');
  assert.deepEqual(j.stages.map((s) => s.stage), ['filtered']);
  const truth = await runCli(['audit', file, '--stage', 'filtered100', '--json'], { cwd: dir });
  const dropped100 = (JSON.parse(truth.stdout).stages[0].operators[0] as { dropped: number }).dropped;
  assert.equal(j.stages[0]!.whatIf[0]!.droppedAfter, dropped100);
  assert.ok(j.stages[0]!.whatIf[0]!.delta > 0);
  const text = await runCli(['audit', file, '--stage', 'filtered', '--what-if', 'gopherQuality.minWords=100'], { cwd: dir });
  assert.match(text.stdout, /what if gopherQuality\.minWords: 50 → 100: \d+ more docs dropped/);
});

test('sluice audit: usage errors exit 2 and name the problem', async () => {
  const bad = await runCli(['audit', file, '--what-if', 'minWords=3'], { cwd: dir });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /expected 'operator\.key=value'/);
  const stage = await runCli(['audit', file, '--stage', 'nope'], { cwd: dir });
  assert.equal(stage.code, 2);
  assert.match(stage.stderr, /no stage 'nope' \(stages: load, filtered/);
  const op = await runCli(['audit', file, '--what-if', 'ghost.minWords=3'], { cwd: dir });
  assert.equal(op.code, 2);
  assert.match(op.stderr, /no completed stage has an operator 'ghost'/);
});

test('sluice audit --html: one self-contained file whose charts and tables render in Chromium', { skip: existsSync(CHROMIUM) ? false : `skipped: ${CHROMIUM} is absent (Debian package chromium)` }, async (t) => {
  const html = join(dir, 'audit.html');
  const r = await runCli(['audit', file, '--html', html], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const src = readFileSync(html, 'utf8');
  assert.ok(!/<script|<link|src=|https?:\/\/(?!site\d\.example)[^"'\s<]+\.(css|js|png|svg)/i.test(src), 'no scripts or external resources');
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    for (const width of [1280, 800]) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      const requests: string[] = [];
      page.on('request', (q) => {
        if (!q.url().startsWith('file:')) requests.push(q.url());
      });
      await page.goto(`file://${html}`);
      // A string, not a function: tsx would inject its `__name` helper into the page.
      const m = (await page.evaluate(`(() => {
        const box = (sel) => [...document.querySelectorAll(sel)].map((e) => e.getBoundingClientRect());
        return {
          hists: box('svg.hist').filter((b) => b.width > 150 && b.height > 60).length,
          bars: document.querySelectorAll('svg.hist rect.bar').length,
          thresholds: document.querySelectorAll('svg.hist line.threshold').length,
          offAxis: document.querySelectorAll('svg.hist text.offaxis').length,
          funnels: box('svg.funnel').filter((b) => b.width > 200).length,
          reasonRows: document.querySelectorAll('table.reasons tr').length,
          countTables: document.querySelectorAll('table.counts').length,
          scrollWidth: document.documentElement.scrollWidth,
          clientWidth: document.documentElement.clientWidth,
          h1: document.querySelector('h1')?.textContent,
        };
      })()`)) as Record<string, number | string>;
      assert.equal(m.h1, 'Filter audit — audit-test');
      assert.ok((m.hists as number) >= 8, `histograms rendered: ${m.hists}`);
      assert.ok((m.bars as number) > 20, `bars: ${m.bars}`);
      assert.ok((m.thresholds as number) >= 3, `threshold lines: ${m.thresholds}`);
      assert.ok((m.thresholds as number) + (m.offAxis as number) >= 10, `thresholds marked: ${m.thresholds} + ${m.offAxis}`);
      assert.ok((m.funnels as number) >= 4, `funnels: ${m.funnels}`);
      assert.ok((m.reasonRows as number) >= 4, `reason rows: ${m.reasonRows}`);
      assert.ok((m.countTables as number) >= 5);
      assert.ok((m.scrollWidth as number) <= (m.clientWidth as number), `no horizontal scrolling at ${width}px: ${m.scrollWidth} > ${m.clientWidth}`);
      assert.deepEqual(requests, [], 'no network requests');
      const shot = join(tmpdir(), `sluice-audit-report-${width}.png`);
      await page.screenshot({ path: shot, fullPage: false });
      t.diagnostic(`screenshot: ${shot}`);
      await page.close();
    }
  } finally {
    await browser.close();
  }
});
