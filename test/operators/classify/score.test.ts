/**
 * Score models (FineWeb-Edu style): integer 0–5 labels, expected score, Pearson r and F1 at ≥ 3.
 * The fixture is written here: each text mixes words of an "educational" vocabulary with a
 * "spam" one in proportion to its score, so a linear bag-of-words model can learn the score.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, expectedScore, pearson, trainScoreModel } from '../../../operators/classify/fasttext/score.ts';
import { TrainingDataError, trainFastText } from '../../../operators/classify/fasttext/index.ts';
import { mulberry32 } from '../../../engine/random.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadTextClassifier } from '../../../operators/classify/model.ts';
import { scorer } from '../../../operators/filter/classifier.ts';
import { storage } from '../../../engine/storage/index.ts';

const EDU = 'theorem proof photosynthesis enzyme derivative integral lecture hypothesis experiment molecule equation theory'.split(' ');
const SPAM = 'buy cheap click deal offer casino free win discount subscribe promo viral'.split(' ');

function fixture(n: number, seed: number): Array<{ text: string; label: number }> {
  const rnd = mulberry32(seed);
  const out: Array<{ text: string; label: number }> = [];
  for (let i = 0; i < n; i++) {
    const s = i % 6;
    const words: string[] = [];
    for (let j = 0; j < 12; j++) words.push(rnd() < s / 5 ? EDU[Math.floor(rnd() * EDU.length)]! : SPAM[Math.floor(rnd() * SPAM.length)]!);
    out.push({ text: words.join(' '), label: s });
  }
  return out;
}

test('a score model predicts the expected 0–5 score; evaluate reports Pearson r and F1 at ≥ 3', async () => {
  const model = await trainScoreModel(fixture(1200, 1), { dim: 8, epoch: 10, lr: 0.5 });
  assert.deepEqual([...model.labels].sort(), ['0', '1', '2', '3', '4', '5']);
  const all = 'theorem proof enzyme lecture integral molecule';
  const none = 'buy cheap click deal casino win';
  assert.ok(expectedScore(model, all) > 4, `all-edu ${expectedScore(model, all)}`);
  assert.ok(expectedScore(model, none) < 1, `all-spam ${expectedScore(model, none)}`);
  const e = evaluate(model, fixture(600, 2));
  assert.equal(e.n, 600);
  assert.ok(e.score, 'numeric labels make a score report');
  assert.ok(e.score.pearson > 0.85, `pearson ${e.score.pearson}`);
  assert.ok(e.score.f1 > 0.85, `F1 at ≥ 3: ${e.score.f1}`);
  assert.equal(e.confusion.flat().reduce((a, b) => a + b, 0), 600);
});

test('evaluate: accuracy, per-label P/R/F1 and the confusion matrix of a text classifier; no score report', async () => {
  const train = [
    ...Array.from({ length: 30 }, () => ({ text: 'good clean prose', label: 'hq' })),
    ...Array.from({ length: 30 }, () => ({ text: 'buy cheap pills', label: 'lq' })),
  ];
  const model = await trainFastText(train, { dim: 4, epoch: 10, lr: 0.5 });
  const e = evaluate(model, [
    { text: 'good clean prose', label: 'hq' },
    { text: 'buy cheap pills', label: 'lq' },
    { text: 'buy cheap pills', label: 'hq' },
    { text: 'good prose', label: 'unknown' },
  ]);
  assert.equal(e.n, 4);
  assert.equal(e.unknownLabels, 1);
  assert.equal(e.accuracy, 2 / 4);
  assert.equal(e.score, undefined);
  const hq = e.perLabel.find((c) => c.label === 'hq')!;
  const lq = e.perLabel.find((c) => c.label === 'lq')!;
  assert.deepEqual([hq.precision, hq.recall, hq.support], [1, 0.5, 2]);
  assert.deepEqual([lq.precision, lq.recall, lq.support], [0.5, 1, 1]);
  assert.throws(() => expectedScore(model, 'x'), /labels are not numbers/);
});

test('pearson, and a score model refuses non-integer scores', async () => {
  assert.equal(pearson([1, 2, 3], [2, 4, 6]), 1);
  assert.ok(Math.abs(pearson([1, 2, 3], [3, 2, 1]) + 1) < 1e-12);
  assert.equal(pearson([1, 1, 1], [1, 2, 3]), 0);
  await assert.rejects(trainScoreModel([{ text: 'a', label: 2.5 }]), (e: Error) => e instanceof TrainingDataError && /label 2.5 is not an integer score/.test(e.message));
});

test("filter.classifier's scores are the model's: score 'expected' is classify eval's expectedScore, 'probability' the label's probability", async () => {
  const model = await trainScoreModel(fixture(600, 3), { dim: 8, epoch: 5, lr: 0.5 });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-score-filter-'));
  const path = join(dir, 'score.bin');
  writeFileSync(path, model.toBytes());
  const loaded = await loadTextClassifier(path, storage);
  const expected = scorer(loaded, { model: path, label: undefined, score: 'expected' });
  const p5 = scorer(loaded, { model: path, label: '5', score: 'probability' });
  for (const { text } of fixture(30, 4)) {
    assert.equal(expected(text), expectedScore(model, text));
    assert.equal(p5(text), model.probability(text, '5'));
  }
});
