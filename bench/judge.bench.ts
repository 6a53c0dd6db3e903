/**
 * Issue 17's acceptance figures for `sluice judge`: AlpacaEval 2.0 win rates and length-controlled
 * win rates reproduced on the models of ../shared/data/alpaca-eval, with instruction difficulty
 * from the joint fit over all their annotation files. Two runs: `length_controlled_v1` as
 * specified (λ = 0.2 towards the gamed-baseline annotations, gpt4_gamed), and the same GLM with
 * no gamed rows (λ = 0). Goal: win_rate equal to 0.01 points; LC within 1.5 points for ≥ 85% of
 * models, median error ≤ 0.5, Spearman ≥ 0.99.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Bench, BenchResult } from './harness.ts';
import { compareWithLeaderboard, type LeaderboardComparison } from '../evals/judge/leaderboard.ts';
import { SHARED_DATA } from '../test/helpers/data.ts';

const DIR = join(SHARED_DATA, 'alpaca-eval');

const bench: Bench = {
  id: 'judge',
  async run(): Promise<BenchResult> {
    if (!existsSync(join(DIR, 'annotations'))) return { title: 'AlpacaEval win rates reproduced', rows: [], notes: `skipped: ${DIR} is absent` };
    const runs: Array<[string, LeaderboardComparison, number]> = [];
    for (const [label, lambda] of [['λ = 0.2 towards gpt4_gamed', 0.2], ['no gamed rows (λ = 0)', 0]] as const) {
      const t0 = performance.now();
      const c = compareWithLeaderboard(join(DIR, 'annotations'), join(DIR, 'leaderboard_weighted_alpaca_eval_gpt4_turbo.csv'), { lambda });
      runs.push([label, c, (performance.now() - t0) / 1000]);
    }
    const rows = runs.flatMap(([label, c, s]) => [
      { name: `max abs win_rate error (${label})`, value: c.maxWinRateError, unit: 'points', note: 'goal < 0.01' },
      { name: `LC within 1.5 points (${label})`, value: 100 * c.withinOneAndAHalf, unit: '% of models', note: `goal ≥ 85%; ${c.models.length} models` },
      { name: `median abs LC error (${label})`, value: c.medianLcError, unit: 'points', note: 'goal ≤ 0.5' },
      { name: `Spearman LC vs published (${label})`, value: c.spearmanLc, unit: '', note: 'goal ≥ 0.99' },
      { name: `difficulty fit + ${c.models.length} GLMs (${label})`, value: s, unit: 's', note: `one run; CV chose C = ${c.difficultyC.toPrecision(3)} for the difficulty` },
    ]);
    const table = [
      '| model | win rate | published | LC (λ = 0.2, gpt4_gamed) | LC (λ = 0) | published LC |',
      '|---|---|---|---|---|---|',
      ...runs[0]![1].models.map((m, i) => `| ${m.model} | ${m.win_rate.toFixed(2)} | ${m.published_win_rate.toFixed(2)} | ${m.length_controlled_winrate.toFixed(2)} | ${runs[1]![1].models[i]!.length_controlled_winrate.toFixed(2)} | ${m.published_lc.toFixed(2)} |`),
    ].join('\n');
    return { title: 'AlpacaEval win rates reproduced (sluice judge)', rows, notes: `Difficulty from \`sluice judge difficulty\` over all ${runs[0]![1].models.length} annotation files of ../shared/data/alpaca-eval.\n\n${table}` };
  },
};
export default bench;
