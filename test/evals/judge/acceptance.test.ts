/**
 * Issue 17's acceptance on the shared AlpacaEval folder: win_rate equal to the leaderboard's to
 * 0.01 points; the length-controlled win rate within 1.5 points for ≥ 85% of models, median error
 * ≤ 0.5, Spearman ≥ 0.99, with difficulty fitted over all the annotation files at hand and the
 * default GLM (λ = 0.2 towards AlpacaEval's gamed baselines when their annotations are in the
 * folder). The joint difficulty fit costs 20–70 s of CPU, over this suite's budget, so the test
 * runs only with SLUICE_JUDGE_ACCEPTANCE=1 (and is skipped, visibly, otherwise); `npm run bench --
 * judge` prints the same figures. It fails when any figure misses. Measured on the 12 shared
 * models: the win rate passes; LC does not (5 of 12 within 1.5, median 3.30, Spearman 0.937),
 * because the shared folder lacks the gamed baselines' annotations that set AlpacaEval's length
 * slopes — see docs/judge.md for the cause and every variant tried.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compareWithLeaderboard, spearman } from '../../../evals/judge/leaderboard.ts';
import { dataPath, needData } from '../../helpers/data.ts';
import { tempProject } from '../../helpers/cli.ts';
import { instructions, modelRecords } from './fixtures.ts';

test('spearman: average ranks on ties', () => {
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  assert.ok(Math.abs(spearman([1, 2, 2, 3], [1, 2, 3, 4]) - 0.9486832980505138) < 1e-12);
});

test('compareWithLeaderboard: regularises towards <baseline>_verbose/_concise by default, never gpt4_gamed', () => {
  const dir = tempProject();
  const insts = instructions(31);
  const write = (m: string, recs: unknown) => {
    mkdirSync(join(dir, 'ann', m), { recursive: true });
    writeFileSync(join(dir, 'ann', m, 'annotations.json'), JSON.stringify(recs));
  };
  write('m1', modelRecords('m1', insts, { slope: -1.5, diffCoef: 1, bias: -1 }, 0.6, 1));
  write('m2', modelRecords('m2', insts, { slope: -2, diffCoef: 1, bias: 0.5 }, 1.3, 2));
  write('base_concise', modelRecords('base_concise', insts, { slope: -1.5, diffCoef: 1, bias: 0 }, 0.5, 3, 0));
  write('gpt4_gamed', modelRecords('gpt4_gamed', insts, { slope: -9, diffCoef: 1, bias: -3 }, 0.01, 4));
  writeFileSync(join(dir, 'lb.csv'), ',win_rate,length_controlled_winrate\nm1,20,25\nm2,60,55\n');
  const c = compareWithLeaderboard(join(dir, 'ann'), join(dir, 'lb.csv'));
  assert.deepEqual(c.gamed, ['base_concise']);
  assert.deepEqual(c.models.map((m) => m.model), ['m1', 'm2']);
  assert.deepEqual(compareWithLeaderboard(join(dir, 'ann'), join(dir, 'lb.csv'), { gamedModels: ['gpt4_gamed'] }).gamed, ['gpt4_gamed']);
});

const gate = process.env.SLUICE_JUDGE_ACCEPTANCE === '1' ? needData('alpaca-eval/annotations') : 'skipped: set SLUICE_JUDGE_ACCEPTANCE=1 (20–70 s CPU); npm run bench -- judge prints the same figures';

test('AlpacaEval 2.0 reproduced on the shared models (issue 17 acceptance)', { skip: gate }, () => {
  const c = compareWithLeaderboard(dataPath('alpaca-eval/annotations'), dataPath('alpaca-eval/leaderboard_weighted_alpaca_eval_gpt4_turbo.csv'));
  const table = c.models.map((m) => `${m.model}: LC ${m.length_controlled_winrate.toFixed(2)} vs ${m.published_lc.toFixed(2)}`).join('\n');
  const figures = `win_rate error ${c.maxWinRateError.toExponential(2)}; LC within 1.5 points ${(100 * c.withinOneAndAHalf).toFixed(0)}%, median error ${c.medianLcError.toFixed(2)}, Spearman ${c.spearmanLc.toFixed(3)}; gamed sets: ${c.gamed.join(', ') || 'none'}\n${table}`;
  assert.ok(c.maxWinRateError < 0.01, `win_rate misses: ${figures}`);
  assert.ok(c.withinOneAndAHalf >= 0.85, `fewer than 85% within 1.5 points: ${figures}`);
  assert.ok(c.medianLcError <= 0.5, `median LC error above 0.5: ${figures}`);
  assert.ok(c.spearmanLc >= 0.99, `Spearman below 0.99: ${figures}`);
});
