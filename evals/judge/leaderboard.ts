/**
 * Compares computed win rates with a published AlpacaEval leaderboard CSV (the columns
 * `win_rate` and `length_controlled_winrate`, indexed by model name): the acceptance figures of
 * issue 17 — win-rate error, share of models whose length-controlled win rate is within 1.5
 * points, median absolute LC error, and the Spearman correlation of LC with the published LC.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lazyPackage } from '../../engine/modules/lazy.ts';
import { fitDifficulty, readAnnotationDir } from './difficulty.ts';
import { lengthControlledWinRate } from './glm.ts';
import { winRate } from './winrate.ts';

/** csv-parse, loaded on first use (engine/modules/lazy.ts). */
const csvSync = lazyPackage<typeof import('csv-parse/sync')>('csv-parse/sync');

/** Published figures per model. */
export function readLeaderboard(path: string): Map<string, { win_rate: number; length_controlled_winrate: number }> {
  const rows = csvSync().parse(readFileSync(path, 'utf8'), { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
  const out = new Map<string, { win_rate: number; length_controlled_winrate: number }>();
  for (const r of rows) {
    const name = r[''] ?? r.name ?? r.model;
    if (!name) throw new Error(`${path}: a row has no model name in its first column`);
    out.set(name, { win_rate: Number(r.win_rate), length_controlled_winrate: Number(r.length_controlled_winrate) });
  }
  return out;
}

/** Spearman's rank correlation (average ranks for ties). */
export function spearman(a: number[], b: number[]): number {
  const rank = (x: number[]) => {
    const idx = x.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(x.length);
    for (let i = 0; i < idx.length; ) {
      let j = i;
      while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++;
      for (let k = i; k <= j; k++) r[idx[k]![1]] = (i + j) / 2 + 1;
      i = j + 1;
    }
    return r;
  };
  const ra = rank(a);
  const rb = rank(b);
  const m = (ra.length + 1) / 2;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < ra.length; i++) {
    sxy += (ra[i]! - m) * (rb[i]! - m);
    sxx += (ra[i]! - m) ** 2;
    syy += (rb[i]! - m) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** One model's figures against the leaderboard. */
export interface ModelComparison {
  model: string;
  win_rate: number;
  published_win_rate: number;
  length_controlled_winrate: number;
  published_lc: number;
}

/** The acceptance figures. */
export interface LeaderboardComparison {
  models: ModelComparison[];
  maxWinRateError: number;
  /** Share of models with |LC − published LC| ≤ 1.5 points. */
  withinOneAndAHalf: number;
  medianLcError: number;
  spearmanLc: number;
  difficultyC: number;
}

/**
 * Fits instruction difficulty over every `<dir>/<model>/annotations.json`, then each model's
 * length-controlled win rate (length_controlled_v1, λ towards the sets named in `gamedModels`,
 * default `gpt4_gamed` when present), and compares the models found in the leaderboard.
 */
export function compareWithLeaderboard(dir: string, leaderboardCsv: string, opts: { gamedModels?: string[]; lambda?: number } = {}): LeaderboardComparison {
  const lb = readLeaderboard(leaderboardCsv);
  const sets = readAnnotationDir(dir);
  const fit = fitDifficulty(sets);
  const difficulty = new Map(fit.instructions.map((d) => [d.instruction, d.difficulty]));
  const gamedNames = opts.gamedModels ?? (existsSync(join(dir, 'gpt4_gamed', 'annotations.json')) ? ['gpt4_gamed'] : []);
  const gamed = gamedNames.map((g) => {
    const s = sets.find((x) => x.model === g);
    if (!s) throw new Error(`${dir}: no annotations for the gamed baseline '${g}'`);
    return s.annotations;
  });
  const models: ModelComparison[] = [];
  for (const s of sets) {
    const pub = lb.get(s.model);
    if (!pub) continue;
    const wr = winRate(s.annotations.map((a) => a.preference));
    const lc = lengthControlledWinRate(s.annotations, { glm: 'length_controlled_v1', difficulty, gamed, lambda: opts.lambda });
    models.push({ model: s.model, win_rate: wr.win_rate, published_win_rate: pub.win_rate, length_controlled_winrate: lc.length_controlled_winrate, published_lc: pub.length_controlled_winrate });
  }
  if (!models.length) throw new Error(`${dir}: none of its models is in ${leaderboardCsv}`);
  const err = models.map((m) => Math.abs(m.length_controlled_winrate - m.published_lc)).sort((a, b) => a - b);
  const mid = err.length >> 1;
  return {
    models,
    maxWinRateError: Math.max(...models.map((m) => Math.abs(m.win_rate - m.published_win_rate))),
    withinOneAndAHalf: err.filter((e) => e <= 1.5).length / err.length,
    medianLcError: err.length % 2 ? err[mid]! : (err[mid - 1]! + err[mid]!) / 2,
    spearmanLc: spearman(models.map((m) => m.length_controlled_winrate), models.map((m) => m.published_lc)),
    difficultyC: fit.C,
  };
}
