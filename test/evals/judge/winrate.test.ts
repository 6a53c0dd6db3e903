import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outputLength, parseAnnotations } from '../../../evals/judge/annotations.ts';
import { winRate } from '../../../evals/judge/winrate.ts';
import { design, fitL1Logistic, fitL1LogisticCV, sigmoid, DEFAULT_CS } from '../../../evals/judge/logistic.ts';
import { lengthControlledWinRate } from '../../../evals/judge/glm.ts';
import { difficultyCsv, fitDifficulty, readDifficultyCsv } from '../../../evals/judge/difficulty.ts';
import { instructions, modelRecords } from './fixtures.ts';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const logit = (p: number) => Math.log(p / (1 - p));

test('winRate: AlpacaEval encoding (0 is a draw), NaN and out-of-range dropped, sem with n − 1', () => {
  const w = winRate([2, 1, 0, 1.5, 1.75, NaN, 3]);
  // shifted 1, 0, .5, .5, .75 → mean .55; sample sd sqrt(.55/4)
  assert.ok(Math.abs(w.win_rate - 55) < 1e-12);
  assert.ok(Math.abs(w.standard_error - 100 * Math.sqrt(0.55 / 4) / Math.sqrt(5)) < 1e-12);
  assert.deepEqual([w.n_wins, w.n_wins_base, w.n_draws, w.n_total, w.n_dropped], [2, 1, 2, 5, 2]);
  assert.ok(Math.abs(w.discrete_win_rate - 60) < 1e-12); // 1, 0, .5, .5, 1
});

test('outputLength counts code points, as pandas str.len() does (not UTF-16 units)', () => {
  assert.equal(outputLength('a😀é'), 3);
  assert.equal('a😀é'.length, 4);
});

test('parseAnnotations: malformed records skipped with a reason; null/garbage preference kept as NaN', () => {
  const s = parseAnnotations(
    [
      { instruction: 'i', output_1: 'a', output_2: 'b', generator_1: 'g1', generator_2: 'g2', preference: '1.25' },
      { instruction: 'i', output_1: 'a', output_2: null, preference: 1 },
      7,
      { instruction: 'j', output_1: 'a', output_2: 'b', preference: null, dataset: 'd' },
    ],
    'x.json',
  );
  assert.equal(s.annotations.length, 2);
  assert.equal(s.annotations[0]!.preference, 1.25);
  assert.ok(Number.isNaN(s.annotations[1]!.preference));
  assert.equal(s.annotations[1]!.extra.dataset, 'd');
  assert.deepEqual(s.skipped, [
    { index: 1, reason: 'output_2 is not a string (null)' },
    { index: 2, reason: 'not an object' },
  ]);
  assert.throws(() => parseAnnotations({}, 'y.json'), /y\.json: expected a JSON array/);
});

test('fitL1Logistic: soft labels and weights; the L1 optimum in closed form; exact zero under a strong penalty', () => {
  const rows = Array.from({ length: 100 }, () => [[0, 1]] as Array<[number, number]>);
  const y = rows.map((_, i) => (i < 50 ? 0.9 : 0.7));
  const s = rows.map((_, i) => (i < 50 ? 3 : 1)); // weighted mean label (150·0.9 + 50·0.7)/200 = 0.85
  const d = design(rows, 1);
  assert.ok(Math.abs(fitL1Logistic(d, y, s, { C: 1e8 }).coef[0]! - logit(0.85)) < 1e-6);
  // Optimality of |w| + C Σ s ℓ: σ(w) = ȳ − 1/(C Σs) for w > 0 → with C Σs = 20, σ(w) = 0.8.
  assert.ok(Math.abs(fitL1Logistic(d, y, s, { C: 0.1 }).coef[0]! - logit(0.8)) < 1e-6);
  // 1/(C Σs) ≥ |ȳ − ½| → w = 0 exactly.
  assert.equal(fitL1Logistic(d, y, s, { C: 1e-3 }).coef[0], 0);
  assert.throws(() => fitL1Logistic(d, y.map(() => 1.2), s, { C: 1 }), /label 1\.2 of row 0 is outside \[0, 1\]/);
});

test('fitL1LogisticCV: recovers a two-feature model from exact probabilities; scikit-learn’s C grid', () => {
  assert.equal(DEFAULT_CS.length, 10);
  assert.ok(Math.abs(DEFAULT_CS[0]! - 1e-4) < 1e-18 && Math.abs(DEFAULT_CS[9]! - 1e4) < 1e-8);
  const rows: Array<Array<[number, number]>> = [];
  const y: number[] = [];
  for (let i = 0; i < 300; i++) {
    const x = Math.tanh((i - 150) / 60);
    rows.push([[0, x], [1, 1]]);
    y.push(sigmoid(-1.7 * x - 0.6));
  }
  const fit = fitL1LogisticCV(design(rows, 2), y, y.map(() => 1));
  assert.equal(fit.scores.length, 10);
  assert.ok(fit.C >= 1e3, `informative data picks a weak penalty (C = ${fit.C})`);
  assert.ok(Math.abs(fit.coef[0]! + 1.7) < 2e-3 && Math.abs(fit.coef[1]! + 0.6) < 2e-3, `${fit.coef}`);
});

test('length-controlled win rate: minimal GLM predicts at zero length difference (baseline minus model, standardised)', () => {
  const insts = instructions(240);
  const recs = modelRecords('short-model', insts, { slope: -1.5, diffCoef: 0, bias: 0.4 }, 0.5, 3);
  const set = parseAnnotations(recs, 'synthetic');
  const lc = lengthControlledWinRate(set.annotations, { glm: 'minimal' });
  assert.ok(Math.abs(lc.length_controlled_winrate - 100 * sigmoid(0.4)) < 0.05, `${lc.length_controlled_winrate}`);
  assert.ok(Math.abs(lc.weights['np.tanh(std_delta_len)']! + 1.5) < 0.01);
  // The shorter model loses on raw preference; length control gives that back.
  assert.ok(winRate(set.annotations.map((a) => a.preference)).win_rate < lc.length_controlled_winrate - 10);
});

test('length_controlled_v1: difficulty and gamed-baseline rows (not_gamed = 0, weight λ/G) enter the fit as AlpacaEval builds them', () => {
  const insts = instructions(200);
  const glm = { slope: -1.2, diffCoef: 0.9, bias: -1.1 };
  const model = parseAnnotations(modelRecords('m', insts, glm, 0.7, 5), 'model').annotations;
  // Gamed baseline: same slope and difficulty coefficient, no bias (not_gamed_baseline = 0).
  const gamed = parseAnnotations(modelRecords('base_verbose', insts, glm, 1.8, 9, 0), 'gamed').annotations;
  const difficulty = new Map(insts.map((x) => [x.instruction, x.difficulty]));
  const want = (100 * insts.reduce((a, x) => a + sigmoid(glm.diffCoef * x.difficulty + glm.bias), 0)) / insts.length;
  for (const lambda of [0, 0.2, 5]) {
    const lc = lengthControlledWinRate(model, { glm: 'length_controlled_v1', difficulty, gamed: [gamed], lambda });
    assert.ok(Math.abs(lc.length_controlled_winrate - want) < 0.05, `λ=${lambda}: ${lc.length_controlled_winrate} vs ${want}`);
  }
  // Gamed rows from a different length slope pull the shared slope towards theirs as λ grows.
  const steep = parseAnnotations(modelRecords('base_concise', insts, { ...glm, slope: -4 }, 0.3, 11, 0), 'steep').annotations;
  const s0 = lengthControlledWinRate(model, { glm: 'length_controlled_v1', difficulty, gamed: [steep], lambda: 0 }).weights['np.tanh(std_delta_len)']!;
  const s5 = lengthControlledWinRate(model, { glm: 'length_controlled_v1', difficulty, gamed: [steep], lambda: 5 }).weights['np.tanh(std_delta_len)']!;
  assert.ok(s5 < s0 - 0.5, `slope ${s0} → ${s5}`);
  // The baseline against itself is 50% by construction.
  const self = model.map((a) => ({ ...a, generator2: a.generator1 }));
  assert.equal(lengthControlledWinRate(self, { glm: 'length_controlled_v1', difficulty }).length_controlled_winrate, 50);
  assert.throws(() => lengthControlledWinRate(model, { glm: 'length_controlled_v1', difficulty: new Map() }), /200 of 200 instructions have no difficulty/);
  const unparsed = model.map((a) => ({ ...a, preference: NaN }));
  assert.throws(() => lengthControlledWinRate(unparsed, { glm: 'length_controlled_v1', difficulty }), /none of the 200 annotations has a valid preference/);
  assert.throws(() => lengthControlledWinRate(unparsed, { glm: 'minimal' }), /none of the 200 annotations has a valid preference/);
});

test('fitDifficulty: the joint fit recovers per-instruction terms (first instruction the reference); CSV round-trip', () => {
  const insts = instructions(41, 13); // 41: rows of one instruction fall in different CV folds (see difficulty.ts)
  const sets = [
    { model: 'a', annotations: parseAnnotations(modelRecords('a', insts, { slope: -1.5, diffCoef: 1, bias: -1 }, 0.6, 21), 'a').annotations },
    { model: 'b', annotations: parseAnnotations(modelRecords('b', insts, { slope: -2, diffCoef: 1, bias: 0.5 }, 1.2, 22), 'b').annotations },
    { model: 'c', annotations: parseAnnotations(modelRecords('c', insts, { slope: -1, diffCoef: 1, bias: -2 }, 0.9, 23), 'c').annotations },
    { model: 'd', annotations: parseAnnotations(modelRecords('d', insts, { slope: -2.5, diffCoef: 1, bias: 0 }, 0.4, 24), 'd').annotations },
  ];
  const fit = fitDifficulty(sets);
  assert.equal(fit.instructions[0]!.difficulty, 0);
  const got = fit.instructions.map((d) => d.difficulty);
  const want = insts.map((x) => x.difficulty);
  const mg = got.reduce((a, b) => a + b, 0) / got.length;
  const mw = want.reduce((a, b) => a + b, 0) / want.length;
  let sxy = 0, sxx = 0, syy = 0;
  got.forEach((g, i) => { sxy += (g - mg) * (want[i]! - mw); sxx += (g - mg) ** 2; syy += (want[i]! - mw) ** 2; });
  assert.ok(sxy / Math.sqrt(sxx * syy) > 0.99, `correlation ${sxy / Math.sqrt(sxx * syy)}`);
  assert.ok(Math.abs(fit.models[1]!.lengthSlope + 2) < 0.3, `slope of b ${fit.models[1]!.lengthSlope}`);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-diff-'));
  writeFileSync(join(dir, 'd.csv'), difficultyCsv(fit.instructions));
  const back = readDifficultyCsv(join(dir, 'd.csv'));
  assert.equal(back.size, 41);
  assert.equal(back.get(insts[3]!.instruction), fit.instructions[3]!.difficulty);
  writeFileSync(join(dir, 'bad.csv'), 'index,instruction,instruction_difficulty\n0,x,abc\n');
  assert.throws(() => readDifficultyCsv(join(dir, 'bad.csv')), /bad\.csv: row 2 has a non-numeric instruction_difficulty 'abc'/);
});
