import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBenchmark } from '../../operators/read/benchmarks.ts';
import { buildIndex, ContaminationScanner, contaminationReport, reportHtml, itemTexts } from '../../evals/contamination/index.ts';
import { scoreBenchmark } from '../../evals/multiple-choice.ts';
import { BigramScorer } from './helpers/bigram-scorer.ts';
import { dataPath, needData } from '../helpers/data.ts';

const CHROMIUM = '/usr/bin/chromium';

let cached: ReturnType<typeof buildReport> | undefined;
/** The fixture report, built once for both tests. */
function sampleReport() {
  return (cached ??= buildReport());
}

async function buildReport() {
  const arc = await loadBenchmark(dataPath('mc-eval/llm-foundry/arc_challenge.jsonl'));
  const piqa = await loadBenchmark(dataPath('mc-eval/llm-foundry/piqa.jsonl'));
  const scan = new ContaminationScanner(buildIndex([arc, piqa]));
  // Training data: tinyshakespeare speeches, 40 leaked ARC items and the first 300 PIQA items (reformatted).
  const speeches = readFileSync(dataPath('tinyshakespeare/input.txt'), 'utf8').split(/\n\n+/).slice(0, 2000);
  speeches.forEach((t, i) => scan.scanText(`ts:${i}`, t, `https://corpus.example/ts/${i}`));
  arc.items.slice(0, 400).forEach((it, i) => i % 10 === 0 && scan.scanText(`leak:arc:${i}`, itemTexts(it, 'both').join(' — '), `https://forum.example/q/${i}`));
  piqa.items.slice(0, 300).forEach((it, i) => scan.scanText(`leak:piqa:${i}`, itemTexts(it, 'both').join('\n'), `https://howto.example/${i}`));
  scan.addSource('tinyshakespeare speeches + planted leaks');
  const m = new BigramScorer(readFileSync(dataPath('tinyshakespeare/input.txt'), 'utf8'), 2048);
  const scores = [await scoreBenchmark(m, arc, { limit: 400 }), await scoreBenchmark(m, arc, { limit: 400, method: 'letter' }), await scoreBenchmark(m, piqa, { limit: 400 })];
  return contaminationReport(scan.result(), scores, 'Contamination report (test fixture)');
}

test('HTML report: self-contained, GPT-3 table with scores on all vs clean, inline SVG charts', { skip: needData('mc-eval') || needData('tinyshakespeare') }, async () => {
  const r = await sampleReport();
  const arcRows = r.rows.filter((x) => x.benchmark === 'arc_challenge');
  assert.deepEqual(arcRows.map((x) => x.metric), ['acc (text)', 'acc (letter)']);
  assert.equal(arcRows[0]!.total, 400);
  assert.equal(arcRows[0]!.dirty, 40);
  assert.equal(r.rows.find((x) => x.benchmark === 'piqa')!.dirty, 300);
  const html = reportHtml(r);
  assert.match(html, /^<!doctype html>/);
  assert.equal((html.match(/<svg /g) ?? []).length, 3);
  assert.doesNotMatch(html, /<script|<link|src=|url\(/i, 'no external resources or scripts');
  assert.match(html, /acc \(letter\)/);
  assert.match(html, /corpus fingerprint/);
  assert.match(html, /https:\/\/forum\.example\/q\/0/);
});

test('HTML report renders in headless Chromium (screenshot)', { skip: needData('mc-eval') || needData('tinyshakespeare') || (existsSync(CHROMIUM) ? false : `skipped: ${CHROMIUM} is absent (apt-get install -y chromium)`) }, async () => {
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'sluice-contam-html-'));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const file = join(dir, 'contamination.html');
    writeFileSync(file, reportHtml(await sampleReport()));
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    page.on('request', (req) => requests.push(req.url()));
    await page.goto(`file://${file}`);
    assert.deepEqual(requests.filter((u) => !u.startsWith('file://')), [], 'the page fetches nothing');
    // Charts laid out with real sizes; the table has one row per benchmark × method.
    const boxes = await page.locator('svg').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().height));
    assert.equal(boxes.length, 3);
    for (const h of boxes) assert.ok(h > 100, `svg height ${h}`);
    assert.equal(await page.locator('table').nth(1).locator('tbody tr').count(), 3);
    const bars = await page.locator('svg rect.bad, svg rect.ok').count();
    assert.equal(bars, 2);
    const png = join(dir, 'contamination.png');
    await page.screenshot({ path: png, fullPage: true });
    const buf = readFileSync(png);
    assert.equal(buf.subarray(1, 4).toString(), 'PNG');
    assert.ok(buf.length > 20_000, `screenshot is ${buf.length} bytes`);
    if (process.env.SLUICE_SCREENSHOT_DIR) {
      copyFileSync(png, join(process.env.SLUICE_SCREENSHOT_DIR, 'contamination.png'));
      await page.screenshot({ path: join(process.env.SLUICE_SCREENSHOT_DIR, 'contamination-top.png') });
    }
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
