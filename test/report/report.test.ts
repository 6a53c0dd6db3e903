import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { runCli, startCli, tempProject } from '../helpers/cli.ts';
import { writeInputs } from '../helpers/fixtures.ts';
import { assertLinksResolve, launch, needChromium, nodeStatuses, openPage } from './browser.ts';
import { PAGE_TITLE, writeReportPipeline } from './fixtures.ts';
import type { ReportModel } from '../../report/model.ts';

let browser: Browser | undefined;
before(async () => {
  if (!needChromium) browser = await launch();
});
after(async () => {
  await browser?.close();
});

/** Runs `sluice report` and returns the index path it printed and the model next to it. */
async function report(dir: string, args: string[] = []): Promise<{ index: string; model: ReportModel }> {
  const r = await runCli(['report', 'pipeline.ts', ...args], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const index = r.stdout.trim();
  assert.ok(existsSync(index), index);
  return { index, model: JSON.parse(readFileSync(join(index, '..', 'report.json'), 'utf8')) as ReportModel };
}

async function statuses(index: string): Promise<Array<[string, string]>> {
  const { page, blocked } = await openPage(browser!, pathToFileURL(index).href);
  try {
    assert.deepEqual(blocked, [], 'the page requests nothing but files');
    return await nodeStatuses(page);
  } finally {
    await page.close();
  }
}

function markers(dir: string, stage: string): number {
  const root = join(dir, 'runs/test', stage);
  if (!existsSync(root)) return 0;
  return readdirSync(root).reduce((n, fp) => n + (existsSync(join(root, fp, '_tasks')) ? readdirSync(join(root, fp, '_tasks')).filter((f) => /^\d{5}\.json$/.test(f)).length : 0), 0);
}

test('the DAG shows one node per stage with its status after --only, after a killed run, and when stale', { skip: needChromium }, async () => {
  const dir = tempProject('sluice-report-');
  try {
    writeInputs(dir, 8, 30);
    writeReportPipeline(dir, { delayMs: 25 });
    const only = await runCli(['run', 'pipeline.ts', '--only', 'load'], { cwd: dir });
    assert.equal(only.code, 0, only.stderr);
    {
      const { index, model } = await report(dir);
      assert.equal(index, join(dir, 'runs/test/_report/index.html'));
      assert.deepEqual(await statuses(index), [['load', 'done'], ['clean', 'pending'], ['count', 'pending'], ['pages', 'pending']]);
      assert.equal(model.stages[0]!.docsIn, 240);
      assert.ok(model.stages[0]!.seconds! > 0, 'task timing read from _timing/');
    }

    // A run killed while 'clean' has some of its 8 tasks complete.
    const { child, done } = startCli(['run', 'pipeline.ts', '--workers', '2'], { cwd: dir });
    const t0 = Date.now();
    while (markers(dir, 'clean') < 2 && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 50));
    process.kill(-child.pid!, 'SIGKILL');
    assert.equal((await done).signal, 'SIGKILL');
    const k = markers(dir, 'clean');
    assert.ok(k >= 2 && k < 8, `killed with ${k} of 8 clean tasks complete`);
    {
      const { index, model } = await report(dir);
      assert.deepEqual(await statuses(index), [['load', 'done'], ['clean', 'partial'], ['count', 'pending'], ['pages', 'pending']]);
      // The same status `sluice status` prints, and the tasks completed so far.
      const st = JSON.parse((await runCli(['status', 'pipeline.ts', '--json'], { cwd: dir })).stdout) as { stages: Array<{ status: string; fingerprint: string; tasksDone: number }> };
      assert.deepEqual(model.stages.map((s) => [s.status, s.fingerprint]), st.stages.map((s) => [s.status, s.fingerprint]));
      const clean = model.stages[1]!;
      assert.equal(clean.tasksDone, k);
      assert.equal(clean.docsIn, 30 * k, 'docs so far, from the completion markers');
      const html = readFileSync(index, 'utf8');
      assert.match(html, new RegExp(`partial · ${k}/8 tasks`));
    }

    // A threshold change: the outputs of clean and what follows are for an older fingerprint.
    const resumed = await runCli(['run', 'pipeline.ts', '--workers', '2'], { cwd: dir });
    assert.equal(resumed.code, 0, resumed.stderr);
    writeReportPipeline(dir, { delayMs: 25, minWords: 10 }, 'pipeline.ts');
    {
      const { index, model } = await report(dir);
      assert.deepEqual(await statuses(index), [['load', 'done'], ['clean', 'stale'], ['count', 'stale'], ['pages', 'stale']]);
      assert.equal(model.stages[1]!.older.length, 1, 'the older complete output is named');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sluice run writes the report and prints its path; it works offline from file:// and every link resolves', { skip: needChromium }, async () => {
  const dir = tempProject('sluice-report-');
  try {
    writeInputs(dir, 4, 50);
    writeReportPipeline(dir);
    const r = await runCli(['run', 'pipeline.ts'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const index = join(dir, 'runs/test/_report/index.html');
    const listed = r.stderr.slice(r.stderr.indexOf('Reports:')).split('\n').map((l) => l.trim());
    assert.ok(listed.includes(index), `the run lists ${index}:\n${r.stderr}`);
    assert.ok(listed.includes(join(dir, 'runs/test/audit.html')), 'next to the audit report');
    const html = readFileSync(index, 'utf8');
    assert.doesNotMatch(html, /<script|<link|src=|url\((?!#arrow\))|@import/i, 'the static page has no script and no external resource');

    const { page, blocked } = await openPage(browser!, pathToFileURL(index).href);
    try {
      assert.deepEqual(blocked, []);
      assert.deepEqual(await nodeStatuses(page), [['load', 'done'], ['clean', 'done'], ['count', 'done'], ['pages', 'done']]);
      // One edge per input: load→clean, clean→count, clean→pages.
      assert.equal(await page.locator('svg.dag path.edge').count(), 3);
      const box = await page.locator('svg.dag').boundingBox();
      assert.ok(box && box.height > 200 && box.width > 200, JSON.stringify(box));
      // The clean node's label: docs in → out, drop share.
      const label = await page.locator('svg.dag g.node[data-stage="clean"]').textContent();
      const model = JSON.parse(readFileSync(join(index, '..', 'report.json'), 'utf8')) as ReportModel;
      const clean = model.stages[1]!;
      assert.equal(clean.docsIn, 200);
      assert.equal(clean.dropped, 200 - clean.docsOut!);
      assert.match(label!, new RegExp(`200 → ${clean.docsOut} docs`));
      assert.match(label!, new RegExp(`${((100 * clean.dropped) / 200).toFixed(1)}% dropped`));
      assert.match(label!, /\d s/, 'seconds');
      assert.equal(await page.locator('table.stages tbody tr').count(), 4);
      const links = await assertLinksResolve(page);
      // The stage's own page, found by its file type, titled from its <title>; the audit at the stage's section.
      assert.ok(links.some((l) => l.title === PAGE_TITLE && l.path === join(model.stages[3]!.dir, 'notes/summary.html')), JSON.stringify(links));
      assert.ok(links.some((l) => l.path === join(dir, 'runs/test/audit.html') && l.hash === '#stage-clean'), JSON.stringify(links));
      const auditHtml = readFileSync(join(dir, 'runs/test/audit.html'), 'utf8');
      assert.match(auditHtml, /id="stage-clean"/, 'the anchor exists in the audit page');
    } finally {
      await page.close();
    }

    // --out elsewhere: links are relative to that directory and still resolve.
    const out = join(dir, 'site', 'deep');
    const { index: index2 } = await report(dir, ['--out', out]);
    assert.equal(index2, join(out, 'index.html'));
    const p2 = await openPage(browser!, pathToFileURL(index2).href);
    try {
      await assertLinksResolve(p2.page);
    } finally {
      await p2.page.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sluice report: usage errors name the flag', async () => {
  const dir = tempProject('sluice-report-');
  try {
    writeReportPipeline(dir);
    const cases: Array<[string[], RegExp]> = [
      [['report', 'pipeline.ts', '--port', '80'], /--port needs --serve/],
      [['report', 'pipeline.ts', '--serve', '--out', 'x'], /--serve serves the report live and writes nothing/],
      [['report', '--compare', 'a'], /--compare takes exactly two workdirs/],
      [['report'], /expected exactly one pipeline file/],
      [['report', 'pipeline.ts', '--serve', '--port', 'x'], /--port must be an integer/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(args, { cwd: dir });
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, re);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
