/**
 * The raw win rate of AlpacaEval (src/alpaca_eval/metrics/winrate.py and helpers.py,
 * `AbsoluteScoringRule.describe_head2head` and `ZeroOneScoringRule`): a preference of 0 is a draw
 * and becomes 1.5; values outside [1, 2] (and NaN) are dropped; the win rate is the mean of
 * `preference − 1` in percent and its standard error the pandas `sem` (n − 1) in percent.
 */
import { meanStderr } from '../stats.ts';

/** The head-to-head figures AlpacaEval's leaderboard reports (`win_rate`, `standard_error`, `n_wins`, …). */
export interface WinRate {
  /** Mean of `preference − 1` over valid preferences, in percent. */
  win_rate: number;
  /** Standard error of that mean (sample standard deviation, n − 1), in percent. */
  standard_error: number;
  /** Preferences above 1.5 (model better). */
  n_wins: number;
  /** Preferences below 1.5 (baseline better). */
  n_wins_base: number;
  /** Exact draws (1.5, or 0 in the old encoding). */
  n_draws: number;
  /** Valid preferences counted. */
  n_total: number;
  /** Records whose preference was NaN or outside [1, 2] (dropped, as AlpacaEval drops them). */
  n_dropped: number;
  /** Win rate after rounding each preference to 1 or 2 (draws count half), in percent. */
  discrete_win_rate: number;
}

/** AlpacaEval's encoding: 0 means a draw (1.5). */
export const normalisePreference = (p: number): number => (p === 0 ? 1.5 : p);

/** Whether a (normalised) preference counts: 1 ≤ p ≤ 2 (NaN does not). */
export const isValidPreference = (p: number): boolean => p >= 1 && p <= 2;

/** Win-rate figures of a list of preferences (1 … 2, 0/1.5 draw, NaN unparsed). */
export function winRate(preferences: ArrayLike<number>): WinRate {
  const shifted: number[] = [];
  const discrete: number[] = [];
  let wins = 0;
  let base = 0;
  let draws = 0;
  for (let i = 0; i < preferences.length; i++) {
    const raw = preferences[i]!;
    if (raw === 0 || raw === 1.5) draws++;
    const p = normalisePreference(raw);
    if (!isValidPreference(p)) continue;
    const s = p - 1;
    shifted.push(s);
    if (s > 0.5) wins++;
    else if (s < 0.5) base++;
    // ZeroOneScoringRule: exact draws stay draws; otherwise round half to even (only 1.5 is a half, handled above).
    discrete.push(p === 1.5 ? 0.5 : Math.round(p) - 1);
  }
  const n = shifted.length;
  const m = n ? shifted.reduce((a, b) => a + b, 0) / n : NaN;
  return {
    win_rate: m * 100,
    standard_error: meanStderr(shifted) * 100,
    n_wins: wins,
    n_wins_base: base,
    n_draws: draws,
    n_total: n,
    n_dropped: preferences.length - n,
    discrete_win_rate: (n ? discrete.reduce((a, b) => a + b, 0) / n : NaN) * 100,
  };
}
