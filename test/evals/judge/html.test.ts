import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseAnnotations } from '../../../evals/judge/annotations.ts';
import { judgeWinRate } from '../../../evals/judge/report.ts';
import { judgeHtml } from '../../../evals/judge/html.ts';
import { launch, needChromium, openPage } from '../../report/browser.ts';
import { instructions, modelRecords } from './fixtures.ts';

function fixture() {
  const recs = modelRecords('tiny-model', instructions(30), { slope: -1.5, diffCoef: 0, bias: 0.2 }, 0.7, 4);
  recs[0]!.preference = null;
  recs[1]!.preference = 1.5;
  recs[2]!.output_2 = '<script>alert(1)</script> needle';
  const set = parseAnnotations(recs, 'fixture');
  return { set, result: judgeWinRate(set, { glm: 'minimal' }) };
}

test('judge.html: figures with intervals, the length plot, escaped pairs', () => {
  const { set, result } = fixture();
  const html = judgeHtml(result, set);
  assert.match(html, /^<!doctype html>/);
  assert.match(html, /95% interval/);
  assert.equal((html.match(/<circle class="pt"/g) ?? []).length, 29, 'one dot per judged pair');
  assert.doesNotMatch(html, /<script>alert/);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt; needle/);
  assert.doesNotMatch(html, /src=|<link|url\(/i, 'no external resources');
});

test('judge.html in headless Chromium: offline, filter by text and by outcome, rows open to both outputs', { skip: needChromium }, async () => {
  const { set, result } = fixture();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-judge-html-'));
  const file = join(dir, 'judge.html');
  writeFileSync(file, judgeHtml(result, set));
  const browser = await launch();
  try {
    const { page, blocked } = await openPage(browser, pathToFileURL(file).href);
    assert.deepEqual(blocked, []);
    const wr = await page.locator('.metric.winrate .big').getAttribute('data-value');
    assert.ok(Math.abs(Number(wr) - result.summary.win_rate) < 1e-9);
    assert.equal(await page.locator('tr.pair:visible').count(), 30);
    await page.fill('#q', 'needle');
    assert.equal(await page.locator('tr.pair:visible').count(), 1);
    assert.equal(await page.locator('#shown').textContent(), '1');
    await page.locator('tr.pair:visible').click();
    assert.match((await page.locator('tr.outputs:visible pre').nth(1).textContent()) ?? '', /<script>alert\(1\)<\/script> needle/);
    await page.fill('#q', '');
    await page.selectOption('#outcome', 'unparsed');
    assert.equal(await page.locator('tr.pair:visible').count(), 1);
    await page.selectOption('#outcome', 'draw');
    assert.equal(await page.locator('tr.pair:visible').count(), 1);
    await page.selectOption('#outcome', 'all');
    const png = join(dir, 'judge.png');
    await page.screenshot({ path: png, fullPage: false });
    assert.equal(readFileSync(png).subarray(1, 4).toString(), 'PNG');
  } finally {
    await browser.close();
  }
});
