import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { runCli, startCli, tempProject } from '../helpers/cli.ts';
import { writeInputs } from '../helpers/fixtures.ts';
import { launch, needChromium, nodeStatuses, openPage } from './browser.ts';
import { writeReportPipeline } from './fixtures.ts';
import type { ReportModel } from '../../report/model.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('--serve: on loopback only, refreshes while a sluice run in another process progresses', { skip: needChromium }, async () => {
  const dir = tempProject('sluice-report-serve-');
  writeInputs(dir, 8, 30);
  writeReportPipeline(dir, { delayMs: 40 });
  const server = startCli(['report', 'pipeline.ts', '--serve', '--port', '0'], { cwd: dir });
  // Listen before launching Chromium: a 'data' event emitted while launch() runs is not replayed,
  // and the server (compiled JS) can print its address before Chromium is up.
  let stderr = '';
  server.child.stderr!.on('data', (d) => (stderr += d));
  const browser = await launch();
  try {
    let url = '';
    for (let t0 = Date.now(); !url && Date.now() - t0 < 60_000; await sleep(50)) url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr)?.[1] ?? '';
    assert.ok(url, `the server printed its address: ${stderr}`);

    // Nothing but loopback answers.
    const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) await assert.rejects(fetch(url.replace('127.0.0.1', external.address), { signal: AbortSignal.timeout(5000) }), `not reachable on ${external.address}`);

    const json = async () => (await (await fetch(url + 'report.json')).json()) as ReportModel;
    assert.deepEqual((await json()).stages.map((s) => s.status), ['pending', 'pending', 'pending', 'pending']);
    const { page, blocked } = await openPage(browser, url, url);
    assert.deepEqual(blocked, []);
    assert.deepEqual((await nodeStatuses(page)).map((x) => x[1]), ['pending', 'pending', 'pending', 'pending']);

    // A run in another process; the server sees its completion markers as they land.
    const run = startCli(['run', 'pipeline.ts', '--workers', '2'], { cwd: dir });
    const seen = new Set<string>();
    let finished = false;
    void run.done.then(() => (finished = true));
    for (let t0 = Date.now(); !finished && Date.now() - t0 < 180_000; await sleep(100)) {
      const clean = (await json()).stages[1]!;
      seen.add(clean.status === 'partial' ? `partial ${clean.tasksDone}/${clean.tasks}` : clean.status);
    }
    const r = await run.done;
    assert.equal(r.code, 0, r.stderr);
    assert.ok([...seen].some((s) => s.startsWith('partial ')), `clean was seen partial while running: ${[...seen].join(', ')}`);

    // The open page reloads itself (it polls /state) and ends with every stage done.
    let last: string[] = [];
    for (let t0 = Date.now(); Date.now() - t0 < 60_000; await sleep(200)) {
      last = (await nodeStatuses(page).catch(() => [])).map((x) => x[1]);
      if (last.length === 4 && last.every((s) => s === 'done')) break;
    }
    assert.deepEqual(last, ['done', 'done', 'done', 'done']);
    assert.deepEqual(blocked, [], 'no request leaves the server');

    // Report links are served; nothing else of the workdir is.
    // (The page may still be reloading for the last write of the run: the audit report.)
    let hrefs: string[] = [];
    for (let t0 = Date.now(); hrefs.length < 3 && Date.now() - t0 < 30_000; await sleep(200)) hrefs = await page.locator('a.report').evaluateAll((els) => els.map((e) => (e as HTMLAnchorElement).href)).catch(() => []);
    assert.ok(hrefs.length >= 3, `the audit (twice: list and stage) and the stage's page: ${hrefs.join(' ')}`);
    for (const h of hrefs) {
      const res = await fetch(h.replace(/#.*$/, ''));
      assert.equal(res.status, 200, h);
      assert.match(await res.text(), /<title>/);
    }
    const model = await json();
    for (const p of [`w/${model.stages[0]!.dir.slice(model.workdir.length + 1)}/manifest.json`, 'w/..%2Fpipeline.ts', 'w/../../etc/passwd']) assert.equal((await fetch(url + p)).status, 404, p);
    await page.close();
  } finally {
    await browser.close();
    server.child.kill('SIGTERM');
    const s = await server.done;
    assert.equal(s.code, 0, `the server stops cleanly on SIGTERM: ${s.stderr}`);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--serve: a port in use is a clear error', async () => {
  const dir = tempProject('sluice-report-serve-');
  const { createServer } = await import('node:http');
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  try {
    writeReportPipeline(dir);
    const port = (busy.address() as { port: number }).port;
    const r = await runCli(['report', 'pipeline.ts', '--serve', '--port', String(port)], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use; pass --port P`));
  } finally {
    busy.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
