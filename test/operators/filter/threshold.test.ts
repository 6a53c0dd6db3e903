import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOperators } from '../../../engine/testing.ts';
import { gopherQuality } from '../../../operators/filter/gopher-quality.ts';
import { fineweb } from '../../../operators/filter/fineweb.ts';
import { threshold } from '../../../operators/filter/threshold.ts';
import { doc, GOOD_PROSE } from './fixtures.ts';

const SHORT = GOOD_PROSE.split('\n').slice(0, 4).join('\n'); // ~70 words

test('threshold: applies min/max to annotated scores; annotate + threshold equals the filter', async () => {
  const docs = [doc(GOOD_PROSE, 'long'), doc(SHORT, 'short')];
  const direct = await runOperators([gopherQuality({ minWords: 100 })], docs);
  const twoStep = await runOperators([gopherQuality({ mode: 'annotate' }), threshold({ min: { 'gopherQuality.words': 100 } })], docs);
  assert.deepEqual(twoStep.out.map((d) => d.id), direct.out.map((d) => d.id));
  assert.deepEqual(twoStep.out.map((d) => d.id), ['long']);
  assert.equal(twoStep.audit.drops[0]!.reason, 'threshold.gopherQuality.words.min');
  const maxed = await runOperators([fineweb({ mode: 'annotate' }), threshold({ max: { 'fineweb.shortLineRatio': -1 } })], docs);
  assert.equal(maxed.audit.drops[0]!.reason, 'threshold.fineweb.shortLineRatio.max');
});

test('threshold: pass requires the annotating filter own verdict', async () => {
  const docs = [doc(GOOD_PROSE, 'ok'), doc('too short', 'bad')];
  const r = await runOperators([gopherQuality({ mode: 'annotate' }), threshold({ pass: ['gopherQuality'] })], docs);
  assert.deepEqual(r.out.map((d) => d.id), ['ok']);
  assert.equal(r.audit.drops[0]!.reason, 'threshold.gopherQuality.pass');
});

test('threshold: a missing score drops (threshold.missing) or keeps on request', async () => {
  const r = await runOperators([threshold({ min: { 'gopherQuality.words': 10 } })], [doc(GOOD_PROSE)]);
  assert.equal(r.audit.drops[0]!.reason, 'threshold.missing');
  const k = await runOperators([threshold({ min: { 'gopherQuality.words': 10 }, missing: 'keep' })], [doc(GOOD_PROSE)]);
  assert.equal(k.out.length, 1);
});

test('threshold: config errors are clear', () => {
  assert.throws(() => threshold({}), /filter\.threshold: config key '\(root\)': give at least one of min, max or pass/);
  assert.throws(() => threshold({ min: { words: 3 } }), /filter\.threshold: config key 'min\.words'/);
});
