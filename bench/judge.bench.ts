/**
 * Issue 17's acceptance figures for `sluice judge`: AlpacaEval 2.0 win rates and length-controlled
 * win rates reproduced on the models of ../shared/data/alpaca-eval, with instruction difficulty
 * from the joint fit over all their annotation files (fitted once, shared by both runs). Two runs:
 * the default (`length_controlled_v1`, λ = 0.2 towards AlpacaEval's gamed baselines
 * `<baseline>_verbose`/`_concise` when their annotations are in the folder; the shared folder has
 * none, so no gamed rows), and, for comparison, λ = 0.2 towards `gpt4_gamed` (the old default: a
 * leaderboard entry, not a gamed baseline). Goal: win_rate equal to 0.01 points; LC within 1.5
 * points for ≥ 85% of models, median error ≤ 0.5, Spearman ≥ 0.99.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Bench, BenchResult } from './harness.ts';
import { compareWithLeaderboard, type LeaderboardComparison } from '../evals/judge/leaderboard.ts';
import { fitDifficulty, readAnnotationDir } from '../evals/judge/difficulty.ts';
import { SHARED_DATA } from '../test/helpers/data.ts';

const DIR = join(SHARED_DATA, 'alpaca-eval');

const bench: Bench = {
  id: 'judge',
  async run(): Promise<BenchResult> {
    if (!existsSync(join(DIR, 'annotations'))) return { title: 'AlpacaEval win rates reproduced', rows: [], notes: `skipped: ${DIR} is absent` };
    const t0 = performance.now();
    const fit = fitDifficulty(readAnnotationDir(join(DIR, 'annotations')));
    const fitSeconds = (performance.now() - t0) / 1000;
    const runs: Array<[string, LeaderboardComparison, number]> = [];
    for (const [label, gamedModels] of [['default: gamed baselines by AlpacaEval\'s rule', undefined], ['λ = 0.2 towards gpt4_gamed', ['gpt4_gamed']]] as const) {
      const t1 = performance.now();
      const c = compareWithLeaderboard(join(DIR, 'annotations'), join(DIR, 'leaderboard_weighted_alpaca_eval_gpt4_turbo.csv'), { fit, gamedModels: gamedModels ? [...gamedModels] : undefined });
      runs.push([label, c, (performance.now() - t1) / 1000]);
    }
    const rows = runs.flatMap(([label, c, s]) => [
      { name: `max abs win_rate error (${label})`, value: c.maxWinRateError, unit: 'points', note: 'goal < 0.01' },
      { name: `LC within 1.5 points (${label})`, value: 100 * c.withinOneAndAHalf, unit: '% of models', note: `goal ≥ 85%; ${c.models.length} models` },
      { name: `median abs LC error (${label})`, value: c.medianLcError, unit: 'points', note: 'goal ≤ 0.5' },
      { name: `Spearman LC vs published (${label})`, value: c.spearmanLc, unit: '', note: 'goal ≥ 0.99' },
      { name: `${c.models.length} GLMs (${label})`, value: s, unit: 's', note: `one run; gamed sets: ${c.gamed.join(', ') || 'none'}` },
    ]);
    rows.push({ name: `difficulty fit (${fit.models.length} annotation files)`, value: fitSeconds, unit: 's', note: `one run; CV chose C = ${fit.C.toPrecision(3)}` });
    const table = [
      '| model | win rate | published | LC (default; no gamed rows here) | LC (λ = 0.2, gpt4_gamed) | published LC |',
      '|---|---|---|---|---|---|',
      ...runs[0]![1].models.map((m, i) => `| ${m.model} | ${m.win_rate.toFixed(2)} | ${m.published_win_rate.toFixed(2)} | ${m.length_controlled_winrate.toFixed(2)} | ${runs[1]![1].models[i]!.length_controlled_winrate.toFixed(2)} | ${m.published_lc.toFixed(2)} |`),
    ].join('\n');
    return { title: 'AlpacaEval win rates reproduced (sluice judge)', rows, notes: `Difficulty from \`sluice judge difficulty\` over all ${runs[0]![1].models.length} annotation files of ../shared/data/alpaca-eval.\n\n${table}` };
  },
};
export default bench;
