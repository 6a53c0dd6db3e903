import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { REPO, SHARED_DATA } from '../helpers/data.ts';

const skip = existsSync(join(SHARED_DATA, 'wikitext2-tokens')) ? false : `skipped: no shared data at ${SHARED_DATA}`;

test('pipelines/quality-classifier.ts: trains on WikiText-2 vs crawl pages, reports held-out figures, keeps the top fraction of the crawl by an exact threshold', { skip }, async () => {
  const workdir = mkdtempSync(join(tmpdir(), 'sluice-qc-'));
  const env = { QC_WORKDIR: workdir, QC_PAGES: '300', QC_TOP: '0.2', QC_EPOCHS: '10', SLUICE_DATA_MIRROR: SHARED_DATA, SLUICE_CACHE: join(workdir, '.cache') };
  const r = await runCli(['run', 'pipelines/quality-classifier.ts', '--json'], { cwd: REPO, env });
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const stages = (JSON.parse(r.stdout) as { stages: Array<{ stage: string; dir: string; docsIn: number; docsOut: number }> }).stages;
  const at = (name: string) => stages.find((s) => s.stage === name)!;
  const e = JSON.parse(readFileSync(join(at('classifier').dir, 'eval.json'), 'utf8')) as { n: number; accuracy: number; labels: string[]; confusion: number[][] };
  assert.deepEqual([...e.labels].sort(), ['hq', 'lq']);
  assert.ok(e.n > 20, `${e.n} held-out docs`);
  assert.equal(e.confusion.flat().reduce((a, b) => a + b, 0), e.n, 'the confusion matrix counts every held-out doc');
  assert.ok(e.accuracy > 0.8, `held-out accuracy ${e.accuracy}`);
  const info = JSON.parse(readFileSync(join(at('top').dir, 'manifest.json'), 'utf8')).info as { threshold: number; docs: number; rank: number; kept: number };
  assert.equal(info.docs, at('crawl-text').docsOut);
  // 300 pages reach the messages: the first ~120 of the crawl are list pages that extraction drops as too short.
  assert.ok(info.docs >= 100, `${info.docs} crawl docs ranked`);
  assert.equal(info.rank, Math.ceil(0.2 * info.docs));
  assert.equal(at('top').docsOut, info.kept);
  // The audit shows the threshold and the docs nearest it.
  const a = await runCli(['audit', 'pipelines/quality-classifier.ts', '--stage', 'top', '--json', '--what-if', 'classifier.minScore=0.5'], { cwd: REPO, env });
  assert.equal(a.code, 0, a.stderr);
  const rep = (JSON.parse(a.stdout) as { stages: Array<{ whatIf: Array<{ from: number; droppedBefore: number }>; operators: Array<{ nearThreshold: Array<{ threshold: number; samples: unknown[] }> }> }> }).stages[0]!;
  assert.equal(rep.whatIf[0]!.from, info.threshold);
  assert.equal(rep.whatIf[0]!.droppedBefore, info.docs - info.kept);
  const near = rep.operators[0]!.nearThreshold[0]!;
  assert.equal(near.threshold, info.threshold);
  assert.ok(near.samples.length > 0);
});
