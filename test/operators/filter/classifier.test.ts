/**
 * `filter.classifier`: a fastText model's label probability (or a score model's expected score)
 * as a filter score — drop and annotate modes, the audit's `--what-if classifier.minScore=…`
 * answered from recorded scores, and clear errors for a label the model lacks.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOperators } from '../../../engine/testing.ts';
import { classifier } from '../../../operators/filter/classifier.ts';
import { trainFastText } from '../../../operators/classify/fasttext/index.ts';
import { runCli, tempProject, writePipeline } from '../../helpers/cli.ts';
import { doc } from './fixtures.ts';

const GOOD = ['the committee published a detailed report on water quality', 'researchers measured the effect of the new treatment', 'the museum opened an exhibition about medieval trade'];
const BAD = ['click here buy cheap pills now', 'win a free casino bonus today', 'hot deals best price click now'];
let dir = '';
let hq = '';
let scores = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-filter-classifier-'));
  const ex = [...GOOD.map((text) => ({ text, label: 'hq' })), ...BAD.map((text) => ({ text, label: 'lq' }))];
  const m = await trainFastText([...ex, ...ex, ...ex, ...ex], { dim: 8, epoch: 20, lr: 0.5 });
  hq = join(dir, 'hq.bin');
  await m.save(hq);
  const s = await trainFastText([...GOOD.map((text) => ({ text, label: 5 })), ...BAD.map((text) => ({ text, label: 0 })), { text: 'a plain short note', label: 2 }], { dim: 8, epoch: 30, lr: 0.5 });
  scores = join(dir, 'scores.bin');
  await s.save(scores);
});

test('classifier: drops docs whose label probability is below minScore, with reason and score', async () => {
  const docs = [doc(GOOD[0]!, 'g'), doc(`${BAD[1]}\nsecond line`, 'b')];
  const { out, audit } = await runOperators([classifier({ model: hq, label: 'hq', minScore: 0.5 })], docs);
  assert.deepEqual(out.map((d) => d.id), ['g']);
  assert.equal(audit.drops[0]?.reason, 'classifier.lowScore');
  assert.ok(audit.drops[0]!.score! < 0.5);
  assert.ok(audit.scores.some((s) => s.key === 'modelScore'));
});

test('classifier: annotate writes meta.quality.classifier.modelScore; a score model scores by expectation', async () => {
  const { out } = await runOperators([classifier({ model: hq, label: '__label__hq', mode: 'annotate' })], [doc(GOOD[1]!, 'g'), doc(BAD[0]!, 'b')]);
  const q = out.map((d) => (d.meta.quality as Record<string, { modelScore: number; pass: boolean }>).classifier!);
  assert.ok(q[0]!.modelScore > 0.5 && q[1]!.modelScore < 0.5, JSON.stringify(q));
  const e = await runOperators([classifier({ model: scores, minScore: 3, name: 'edu' })], [doc(GOOD[2]!, 'g'), doc(BAD[2]!, 'b')]);
  assert.deepEqual(e.out.map((d) => d.id), ['g']);
  assert.ok(e.audit.drops[0]!.score! < 3);
});

test('classifier: a label the model lacks, or no label for a text model, fails at setup naming the model', async () => {
  await assert.rejects(runOperators([classifier({ model: hq, label: 'medium', minScore: 0.5 })], [doc('x')]), /label 'medium' is not in model .*hq\.bin \(labels: (hq, lq|lq, hq)\)/);
  await assert.rejects(runOperators([classifier({ model: hq, minScore: 0.5 })], [doc('x')]), /non-numeric labels .*give the label/);
  assert.throws(() => classifier({ model: join(dir, 'missing.bin'), label: 'hq' }), /filter\.classifier: model .*missing\.bin: ENOENT/);
});

test('classifier in a pipeline: sluice audit --what-if classifier.minScore=… from recorded scores', async () => {
  const project = tempProject('sluice-classifier-audit-');
  const rows = [...GOOD, ...BAD, 'the report on water quality was free', 'click the museum exhibition'].map((text, i) => JSON.stringify({ id: `d${i}`, text }));
  writeFileSync(join(project, 'docs.jsonl'), rows.join('\n') + '\n');
  const file = writePipeline(
    project,
    'p.ts',
    `export default pipeline({ name: 'cls', workdir: 'runs' }, (p) => {
  const raw = p.stage('load', read.jsonl('docs.jsonl'));
  p.stage('filtered', raw, [filter.classifier({ model: ${JSON.stringify(hq)}, label: 'hq', minScore: 0.5 })]);
});`,
  );
  const r = await runCli(['run', file], { cwd: project });
  assert.equal(r.code, 0, r.stderr);
  const a = await runCli(['audit', file, '--stage', 'filtered', '--json', '--what-if', 'classifier.minScore=0'], { cwd: project });
  assert.equal(a.code, 0, a.stderr);
  const j = JSON.parse(a.stdout) as { stages: Array<{ whatIf: Array<{ droppedAfter: number; delta: number }>; operators: Array<{ name: string; dropped: number }> }> };
  const op = j.stages[0]!.operators.find((o) => o.name === 'classifier')!;
  assert.ok(op.dropped >= 3, `dropped ${op.dropped}`);
  assert.equal(j.stages[0]!.whatIf[0]!.droppedAfter, 0);
  assert.equal(j.stages[0]!.whatIf[0]!.delta, -op.dropped);
});
