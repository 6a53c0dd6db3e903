/**
 * One model's judge result: AlpacaEval's raw win rate (winrate.ts) and length-controlled win rate
 * (glm.ts), the figures `sluice judge winrate --json` prints, and the per-instruction rows
 * judge.html shows.
 */
import { outputLength, type Annotation, type AnnotationSet } from './annotations.ts';
import { lengthControlledWinRate, type GlmName } from './glm.ts';
import { winRate, type WinRate } from './winrate.ts';

/** What `sluice judge winrate --json` prints. */
export interface JudgeSummary extends WinRate {
  /** The evaluated model (generator_2). */
  model: string;
  /** The baseline (generator_1). */
  baseline: string;
  /** Valid preferences counted in the win rate (= n_total). */
  n: number;
  length_controlled_winrate: number;
  lc_standard_error: number;
  glm: GlmName;
  /** The GLM's coefficients by feature. */
  weights: Record<string, number>;
  /** Penalty C chosen by cross-validation (null for the baseline against itself). */
  C: number | null;
  /** Gamed-baseline annotation files used for the regularisation, and λ. */
  gamed: string[];
  lambda: number;
  /** Records skipped while reading (malformed), with their reasons. */
  skipped: Array<{ index: number; reason: string }>;
}

/** A per-instruction row of the report. */
export interface JudgeRow {
  index: number;
  instruction: string;
  dataset: string;
  baselineLength: number;
  modelLength: number;
  /** The judge's preference as written (1 … 2; NaN when unparsed). */
  preference: number;
  /** The GLM's prediction at zero length difference (0 … 1). */
  lcPreference: number;
}

/** Options of {@link judgeWinRate}. */
export interface JudgeOptions {
  glm: GlmName;
  difficulty?: Map<string, number>;
  gamed?: Annotation[][];
  gamedPaths?: string[];
  lambda?: number;
}

/** Computes the summary and the rows of one model's annotations. */
export function judgeWinRate(set: AnnotationSet, opts: JudgeOptions): { summary: JudgeSummary; rows: JudgeRow[] } {
  const a = set.annotations;
  if (!a.length) throw new Error(`${set.path}: no usable annotation records (${set.skipped.length} skipped)`);
  const wr = winRate(a.map((x) => x.preference));
  const lc = lengthControlledWinRate(a, { glm: opts.glm, difficulty: opts.difficulty, gamed: opts.gamed, lambda: opts.lambda });
  const summary: JudgeSummary = {
    model: a[0]!.generator2,
    baseline: a[0]!.generator1,
    n: wr.n_total,
    ...wr,
    length_controlled_winrate: lc.length_controlled_winrate,
    lc_standard_error: lc.lc_standard_error,
    glm: opts.glm,
    weights: lc.weights,
    C: lc.C,
    gamed: opts.gamedPaths ?? [],
    lambda: opts.lambda ?? 0.2,
    skipped: set.skipped,
  };
  const rows = a.map((x, i) => ({
    index: x.index,
    instruction: x.instruction,
    dataset: typeof x.extra.dataset === 'string' ? x.extra.dataset : '',
    baselineLength: outputLength(x.output1),
    modelLength: outputLength(x.output2),
    preference: x.preference,
    lcPreference: lc.glmPreference[i]!,
  }));
  return { summary, rows };
}
