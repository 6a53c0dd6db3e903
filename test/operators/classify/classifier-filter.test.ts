import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempProject, SLUICE } from '../../helpers/cli.ts';
import { readDocsParquet } from '../../../engine/parquet.ts';
import type { Doc } from '../../../engine/types.ts';
import { loadTextClassifier } from '../../../operators/classify/model.ts';
import { scorer } from '../../../operators/filter/classifier.ts';
import { storage } from '../../../engine/storage/index.ts';
import { mulberry32 } from '../../../engine/random.ts';

const FASTTEXT = spawnSync('fasttext', [], { encoding: 'utf8' }).error ? null : 'fasttext';
const skip = FASTTEXT ? false : 'skipped: the fasttext CLI (Debian package fasttext) is not installed';

const GOOD = 'theorem analysis method evidence study results measured proof history river language science climate protein'.split(' ');
const BAD = 'click buy free cheap deal login subscribe casino winner offer bonus viagra cookie unlimited'.split(' ');
const SHARED = 'the of and to a in is for on with this that'.split(' ');

/** A doc of `n` words, `share` of them from the good vocabulary, the rest from the bad one (plus shared words). */
function text(rnd: () => number, share: number, n = 30): string {
  const w: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const pool = r < 0.3 ? SHARED : rnd() < share ? GOOD : BAD;
    w.push(pool[Math.floor(rnd() * pool.length)]!);
  }
  return w.join(' ');
}

/** Trains a tiny fastText model with the real CLI: `hq` = mostly good words, `lq` = mostly bad. */
function trainModel(dir: string): string {
  const rnd = mulberry32(11);
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) lines.push(`__label__hq ${text(rnd, 0.85)}`, `__label__lq ${text(rnd, 0.15)}`);
  writeFileSync(join(dir, 'train.txt'), lines.join('\n') + '\n');
  execFileSync(FASTTEXT!, ['supervised', '-input', join(dir, 'train.txt'), '-output', join(dir, 'model'), '-epoch', '5', '-dim', '8', '-thread', '1', '-seed', '1'], { stdio: 'pipe' });
  return join(dir, 'model.bin');
}

async function docsOf(dir: string): Promise<Doc[]> {
  const out: Doc[] = [];
  for (const f of readdirSync(dir).filter((f) => f.endsWith('.parquet')).sort()) for await (const b of readDocsParquet(join(dir, f))) out.push(...b);
  return out;
}

function stageDir(summary: { stages: Array<{ stage: string; dir: string }> }, name: string): string {
  return summary.stages.find((s) => s.stage === name)!.dir;
}

const score = (d: Doc): number => (d.meta.quality as Record<string, { modelScore: number }>).classifier!.modelScore;

test('filter.classifier: annotate, minScore and keepTopFraction over two input files, scores equal the fastText CLI, audit what-if', { skip }, async () => {
  const dir = tempProject('sluice-classifier-');
  trainModel(dir);
  mkdirSync(join(dir, 'in'));
  const rnd = mulberry32(5);
  let n = 0;
  for (const f of ['a', 'b']) {
    const rows: string[] = [];
    for (let i = 0; i < 60; i++) rows.push(JSON.stringify({ id: `${f}${i}`, text: text(rnd, rnd()) }));
    n += rows.length;
    writeFileSync(join(dir, 'in', `${f}.jsonl`), rows.join('\n') + '\n');
  }
  writeFileSync(
    join(dir, 'p.ts'),
    `import { pipeline, read, filter } from ${JSON.stringify(SLUICE)};
export default pipeline({ name: 'cls', workdir: 'work' }, (p) => {
  const docs = p.stage('docs', read.jsonl('in/*.jsonl'));
  p.stage('scored', docs, [filter.classifier({ model: 'model.bin', label: 'hq', mode: 'annotate' })]);
  p.stage('min', docs, [filter.classifier({ model: 'model.bin', label: 'hq', minScore: 0.5 })]);
  p.stage('top', docs, filter.classifier({ model: 'model.bin', label: 'hq', keepTopFraction: 0.25 }));
});
`,
  );
  const r = await runCli(['run', 'p.ts', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const s = JSON.parse(r.stdout) as { stages: Array<{ stage: string; dir: string; docsOut: number }> };
  const scored = await docsOf(stageDir(s, 'scored'));
  assert.equal(scored.length, n, 'annotate keeps every doc');

  // Scores are fastText's own: compare with `fasttext predict-prob` on the same texts.
  const cli = execFileSync(FASTTEXT!, ['predict-prob', join(dir, 'model.bin'), '-', '2'], { input: scored.map((d) => d.text).join('\n') + '\n', encoding: 'utf8' }).trim().split('\n');
  cli.forEach((line, i) => {
    const m = /__label__hq ([\d.e-]+)/.exec(line);
    const p = m ? Number(m[1]) : 1 - Number(/__label__lq ([\d.e-]+)/.exec(line)![1]);
    assert.ok(Math.abs(p - score(scored[i]!)) < 2e-5, `doc ${i}: CLI ${p} vs ${score(scored[i]!)}`);
  });
  const all = scored.map(score);

  const min = await docsOf(stageDir(s, 'min'));
  assert.equal(min.length, all.filter((v) => v >= 0.5).length, 'minScore keeps exactly the docs scoring ≥ 0.5');
  assert.ok(min.length > 10 && min.length < n - 10, `minScore 0.5 keeps ${min.length} of ${n}: some of each`);

  // keepTopFraction: the exact k-th largest score, recorded in the manifest; kept docs are those ≥ it.
  const topDir = stageDir(s, 'top');
  const info = JSON.parse(readFileSync(join(topDir, 'manifest.json'), 'utf8')).info as { threshold: number; docs: number; rank: number; kept: number };
  const sorted = [...all].sort((a, b) => b - a);
  assert.equal(info.docs, n);
  assert.equal(info.rank, Math.ceil(0.25 * n));
  assert.equal(info.threshold, sorted[info.rank - 1]);
  const top = await docsOf(topDir);
  assert.equal(top.length, all.filter((v) => v >= info.threshold).length);
  assert.equal(top.length, info.kept);
  assert.ok(top.every((d) => score(d) >= info.threshold));

  // The audit shows the threshold and answers a what-if from the recorded scores.
  const a = await runCli(['audit', 'p.ts', '--stage', 'top', '--json', '--what-if', 'classifier.minScore=0.5'], { cwd: dir });
  assert.equal(a.code, 0, a.stderr);
  const rep = JSON.parse(a.stdout) as { stages: Array<{ whatIf: Array<{ from: number; droppedBefore: number; droppedAfter: number }>; operators: Array<{ nearThreshold: Array<{ threshold: number; samples: Array<{ value: number; text?: string }> }> }> }> };
  const near = rep.stages[0]!.operators[0]!.nearThreshold[0]!;
  assert.equal(near.threshold, info.threshold);
  assert.ok(near.samples.length > 0 && near.samples.every((x) => x.value >= info.threshold && typeof x.text === 'string'), 'the kept docs nearest the threshold, with their text');
  const w = rep.stages[0]!.whatIf[0]!;
  assert.equal(w.from, info.threshold, 'the what-if starts from the selected threshold');
  assert.equal(w.droppedBefore, n - info.kept);
  assert.equal(w.droppedAfter, all.filter((v) => v < 0.5).length);
  const plain = await runCli(['audit', 'p.ts', '--stage', 'top'], { cwd: dir });
  assert.match(plain.stdout, /classifier\.belowTopFraction/);
  const marked = /score modelScore .*threshold min ([\d.]+)/.exec(plain.stdout);
  assert.ok(marked && Math.abs(Number(marked[1]) - info.threshold) < 1e-3, `the score summary marks the threshold: ${plain.stdout}`);
});

test('filter.classifier: a file that is not a fastText model, and a label the model lacks, are errors naming them', { skip }, async () => {
  const dir = tempProject('sluice-classifier-bad-');
  const model = trainModel(dir);
  writeFileSync(join(dir, 'junk.bin'), 'not a model at all');
  await assert.rejects(loadTextClassifier(join(dir, 'junk.bin'), storage), /junk\.bin: not a fastText model/);
  const m = await loadTextClassifier(model, storage);
  assert.deepEqual(m.labels, ['hq', 'lq']);
  assert.throws(() => scorer(m, { model, label: 'good', score: 'probability' }), /has no label 'good' \(its labels: hq, lq\)/);
  assert.throws(() => scorer(m, { model, label: undefined, score: 'expected' }), /needs numeric labels; .* has 'hq', 'lq'/);
});
