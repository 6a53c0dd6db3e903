/**
 * `sluice classify train|predict|eval` end to end: JSONL and fastText-format input (a line without
 * a label is skipped and reported), the hyper-parameter flags reach the model file, and
 * `predict` prints what `fasttext predict-prob` prints for the same model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../helpers/cli.ts';
import { loadFastText } from '../../operators/classify/fasttext/index.ts';

const FASTTEXT = '/usr/bin/fasttext';
const TEXTS = {
  sport: ['the team won the match in the final minute', 'a late goal decided the cup final', 'the striker scored twice in the league game', 'fans cheered as the club lifted the trophy'],
  food: ['simmer the sauce and add fresh basil', 'bake the bread until the crust is golden', 'the recipe needs butter flour and sugar', 'slice the onions and fry them slowly'],
};

function sluice(args: string[], input?: string) {
  return spawnSync(process.execPath, [BIN, 'classify', ...args], { input, encoding: 'utf8' });
}

test('classify train (JSONL, flags) → predict prints like fasttext predict-prob; eval reports accuracy', { skip: existsSync(FASTTEXT) ? false : `skipped: ${FASTTEXT} is absent` }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-classify-'));
  const rows: string[] = [];
  for (let r = 0; r < 5; r++) for (const [label, xs] of Object.entries(TEXTS)) for (const text of xs) rows.push(JSON.stringify({ text, label }));
  rows.splice(3, 0, '{"text": "no label here"}', 'not json');
  writeFileSync(join(dir, 'train.jsonl'), rows.join('\n') + '\n');
  const model = join(dir, 'm.bin');
  const t = sluice(['train', '--in', join(dir, 'train.jsonl'), '--out', model, '--epoch', '20', '--lr', '0.5', '--wordNgrams', '2', '--dim', '10', '--bucket', '1000', '--minCount', '1', '--loss', 'softmax']);
  assert.equal(t.status, 0, t.stderr);
  assert.match(t.stderr, /skipped 2 line\(s\): line 4: no "label" field.*line 5: invalid JSON/);
  const m = loadFastText(model);
  assert.deepEqual([m.args.epoch, m.args.wordNgrams, m.args.dim, m.args.bucket, m.args.loss], [20, 2, 10, 1000, 'softmax']);

  const queries = ['who scored the goal', 'add sugar and butter', 'golden crust of the final', ''];
  const ours = sluice(['predict', '--model', model, '--k', '2'], queries.join('\n') + '\n');
  assert.equal(ours.status, 0, ours.stderr);
  const theirs = execFileSync(FASTTEXT, ['predict-prob', model, '-', '2'], { input: queries.join('\n') + '\n' }).toString();
  assert.equal(ours.stdout, theirs);
  assert.match(ours.stdout.split('\n')[0]!, /^__label__sport 0\.\d+ __label__food 0\.\d+$/);
  // A last line without a newline has no `</s>` in fastText: the same probabilities as the CLI's.
  const unterminated = sluice(['predict', '--model', model, '--k', '2'], 'who scored the goal');
  assert.equal(unterminated.stdout, execFileSync(FASTTEXT, ['predict-prob', model, '-', '2'], { input: 'who scored the goal' }).toString());
  assert.notEqual(unterminated.stdout, ours.stdout.split('\n')[0] + '\n');

  writeFileSync(join(dir, 'test.txt'), '__label__sport the goal in the final\n__label__food fry the onions in butter\nno label\n');
  const e = sluice(['eval', '--model', model, '--in', join(dir, 'test.txt')]);
  assert.equal(e.status, 0, e.stderr);
  assert.match(e.stderr, /skipped 1 line\(s\): line 3: no __label__ label/);
  assert.match(e.stdout, /^examples 2 {2}accuracy 1\.0000/);
});

test('classify: a file that is not a fastText model and a one-class training set are clear errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-classify-'));
  writeFileSync(join(dir, 'x.bin'), 'plain text\n');
  const p = sluice(['predict', '--model', join(dir, 'x.bin')], 'hello\n');
  assert.equal(p.status, 1);
  assert.match(p.stderr, /x\.bin: not a fastText model \(magic number \d+, expected 793712314\)/);
  writeFileSync(join(dir, 'one.txt'), '__label__a x\n__label__a y\n');
  const t = sluice(['train', '--in', join(dir, 'one.txt'), '--out', join(dir, 'o.bin')]);
  assert.equal(t.status, 1);
  assert.match(t.stderr, /training data has 1 class \(__label__a\): a classifier needs at least two/);
  const u = sluice(['train', '--in', join(dir, 'one.txt')]);
  assert.equal(u.status, 2);
  assert.match(u.stderr, /train needs --in and --out/);
});
