import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { checkRunReport, needChromium } from '../report/browser.ts';
import { REPO, SHARED_DATA } from '../helpers/data.ts';
import type { RunSummary } from '../../engine/runner.ts';
import type { Manifest } from '../../engine/types.ts';

// A smaller configuration than the default (300 pages, 4 steps, 10 items scored per benchmark: a run costs 11.5 s of CPU, against 16.7 s at 8 steps and 20 items),
// same stages and code; the contamination check still covers every item.
const workdir = mkdtempSync(join(tmpdir(), 'sluice-quickstart-'));
// A port the system just handed out and released, not the default: other test files run at the
// same time, and a fixed port can be taken (seen: the former default, inside the ephemeral range).
const port = await new Promise<number>((resolve, reject) => {
  const srv = createServer().once('error', reject).listen(0, '127.0.0.1', () => {
    const p = (srv.address() as { port: number }).port;
    srv.close(() => resolve(p));
  });
});
const env = { QUICKSTART_PAGES: '300', QUICKSTART_STEPS: '4', QUICKSTART_EVAL_LIMIT: '10', QUICKSTART_MAIL_LIMIT: '10', QUICKSTART_WORKDIR: workdir, QUICKSTART_PORT: String(port), ...(existsSync(SHARED_DATA) ? { SLUICE_DATA_MIRROR: SHARED_DATA } : {}), SLUICE_CACHE: join(workdir, '.cache') };

function manifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
}

test('the quickstart runs end to end, reruns as a no-op, and re-runs only what a threshold change touches', async () => {
  const r = await runCli(['run', 'pipelines/quickstart.ts', '--json'], { cwd: REPO, env });
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const s = JSON.parse(r.stdout) as RunSummary;
  const by = Object.fromEntries(s.stages.map((x) => [x.stage, x]));
  for (const st of ['crawl', 'extract', 'quality', 'dedup', 'bpe', 'tokens', 'shards', 'train', 'eval']) assert.ok(by[st], `stage ${st} ran`);
  assert.ok(by.crawl!.docsOut >= 250, `crawled ${by.crawl!.docsOut} pages`);
  assert.ok(by.extract!.docsOut > 100 && by.quality!.docsOut > 50 && by.quality!.docsOut < by.extract!.docsOut, 'filters keep some and drop some');
  assert.ok(by.dedup!.docsOut > 40 && by.dedup!.docsOut <= by.quality!.docsOut);
  const shards = manifest(by.shards!.dir);
  assert.ok(Number((shards.info!.tokens as { train: number }).train) > 20_000, 'tens of thousands of training tokens');
  const train = manifest(by.train!.dir);
  assert.ok(train.files.some((f) => f.path === 'model.safetensors') && train.files.some((f) => f.path === 'report.html'));
  assert.ok(Number(train.info!.finalLoss) < Math.log(2048), `final loss ${train.info!.finalLoss} below uniform`);
  const evalDir = by.eval!.dir;
  for (const f of ['contamination.html', 'contamination.json', 'scores.json']) assert.ok(existsSync(join(evalDir, f)), f);
  const contamination = JSON.parse(readFileSync(join(evalDir, 'contamination.json'), 'utf8'));
  const mc = (contamination.benchmarks as Array<{ name: string; total: number; dirty: number; dirtyIds: string[] }>).find((b) => b.name === 'mail_subject_mc')!;
  const scores = JSON.parse(readFileSync(join(evalDir, 'scores.json'), 'utf8')) as { benchmarks: Array<{ benchmark: string; n: number }> };
  assert.equal(scores.benchmarks.find((b) => b.benchmark === 'mail_subject_mc')?.n, 10, 'QUICKSTART_MAIL_LIMIT bounds the items scored');
  assert.ok(mc.total > 10, `the contamination check covers all ${mc.total} items, not just the scored ones`);
  for (let i = 0; i < 5; i++) assert.ok(mc.dirtyIds.includes(`mail_subject_mc/${i}`), `planted item ${i} is found`);
  assert.match(r.stderr, /\| mail_subject_mc \|/, 'the contamination table is printed');
  // The run's report: one done node per stage, links resolving offline; the README's screenshot.
  assert.match(r.stderr, /_report\/index\.html/);
  if (!needChromium) await checkRunReport(join(workdir, '_report', 'index.html'), s.stages.map((x) => x.stage), join(workdir, 'report.png'));

  const again = await runCli(['run', 'pipelines/quickstart.ts'], { cwd: REPO, env });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /nothing to do: all \d+ stage\(s\) up to date/);

  // A copy of the file with one threshold changed: only that stage and what follows re-run.
  const copy = join(workdir, 'quickstart-minwords.ts');
  const src = readFileSync(join(REPO, 'pipelines/quickstart.ts'), 'utf8').replace("from 'sluice'", `from ${JSON.stringify(join(REPO, 'index.ts'))}`).replace('filter.gopherQuality({})', 'filter.gopherQuality({ minWords: 60 })');
  assert.ok(src.includes('minWords: 60'));
  writeFileSync(copy, src);
  writeFileSync(join(workdir, 'package.json'), '{ "type": "module" }\n');
  const changed = await runCli(['run', copy, '--json'], { cwd: REPO, env });
  assert.equal(changed.code, 0, changed.stderr.slice(-3000));
  const c = JSON.parse(changed.stdout) as RunSummary;
  const status = Object.fromEntries(c.stages.map((x) => [x.stage, x.status]));
  assert.equal(status.crawl, 'skipped');
  assert.equal(status.extract, 'skipped');
  for (const st of ['quality', 'dedup', 'bpe', 'tokens', 'shards', 'train', 'eval']) assert.equal(status[st], 'ran', st);
});
