/**
 * `classify.train` as a pipeline stage: trains `model.bin` (fastText format) on labeled docs,
 * evaluates a held-out share chosen by doc id, records it in the manifest, and skips (with an
 * audit record) a doc without a label.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, SLUICE, tempProject } from '../../helpers/cli.ts';
import { loadFastText } from '../../../operators/classify/fasttext/index.ts';

const SPORT = ['the team won the match in the final minute', 'a late goal decided the cup final', 'the striker scored twice in the league game', 'fans cheered as the club lifted the trophy'];
const FOOD = ['simmer the sauce and add fresh basil', 'bake the bread until the crust is golden', 'the recipe needs butter flour and sugar', 'slice the onions and fry them slowly'];

test('classify.train: a stage writes model.bin and eval.json; info has the held-out accuracy; unlabeled docs are skipped and audited', async () => {
  const dir = tempProject('sluice-classify-stage-');
  const rows: string[] = [];
  for (let r = 0; r < 10; r++) {
    SPORT.forEach((text, i) => rows.push(JSON.stringify({ id: `s${r}-${i}`, text, label: 'sport' })));
    FOOD.forEach((text, i) => rows.push(JSON.stringify({ id: `f${r}-${i}`, text, label: 'food' })));
  }
  rows.push(JSON.stringify({ id: 'x', text: 'no label on this one' }));
  writeFileSync(join(dir, 'docs.jsonl'), rows.join('\n') + '\n');
  const file = join(dir, 'p.ts');
  writeFileSync(
    file,
    `import { pipeline, read, classify } from ${JSON.stringify(SLUICE)};
export default pipeline({ name: 'cls', workdir: 'runs' }, (p) => {
  const docs = p.stage('docs', read.jsonl('docs.jsonl'));
  p.stage('model', classify.train(docs, { epoch: 20, lr: 0.5, dim: 8, wordNgrams: 2, bucket: 1000, holdout: 0.25 }));
});
`,
  );
  const r = await runCli(['run', file], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const fp = readdirSync(join(dir, 'runs', 'model')).find((f) => !f.startsWith('_'))!;
  const out = join(dir, 'runs', 'model', fp);
  const model = loadFastText(join(out, 'model.bin'));
  assert.deepEqual([...model.labels].sort(), ['food', 'sport']);
  assert.deepEqual([model.args.epoch, model.args.wordNgrams, model.args.dim], [20, 2, 8]);
  const info = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).info;
  assert.equal(info.noLabel, 1);
  assert.equal(info.examples + info.heldOut, 80);
  assert.ok(info.heldOut > 5 && info.heldOut < 40, `held out ${info.heldOut}`);
  assert.equal(info.accuracy, 1);
  const ev = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
  assert.equal(ev.n, info.heldOut);
  const audit = await runCli(['audit', file, '--stage', 'model', '--json'], { cwd: dir });
  assert.equal(audit.code, 0, audit.stderr);
  assert.match(audit.stdout, /classify\.noLabel/);
});
