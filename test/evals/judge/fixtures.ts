/**
 * Synthetic AlpacaEval annotations whose preferences are exact probabilities of a known GLM, so
 * a correct fit recovers the coefficients and the length-controlled win rate in closed form.
 */
import { rng } from '../../../evals/stats.ts';
import { sigmoid } from '../../../evals/judge/logistic.ts';

/** The true model: logit = slope·tanh(δ/sd) + diffCoef·difficulty_i + bias·notGamed. */
export interface TrueGlm {
  slope: number;
  diffCoef: number;
  bias: number;
}

/** A raw annotations.json record. */
export type Record_ = {
  instruction: string;
  output_1: string;
  output_2: string;
  generator_1: string;
  generator_2: string;
  preference: number | null;
  dataset: string;
};

/** Instructions `inst-0 … inst-(n−1)` with a seeded difficulty each (the first is 0, the reference). */
export function instructions(n: number, seed = 7): Array<{ instruction: string; difficulty: number; baseLength: number }> {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => ({ instruction: `inst-${i}: explain item ${i}, "quoted", with a comma`, difficulty: i === 0 ? 0 : (r() - 0.5) * 3, baseLength: 200 + Math.floor(r() * 1800) }));
}

/**
 * One model's records: its output lengths are the baseline's scaled by `ratio` with seeded noise;
 * the preference is 1 + P(model better) under `glm`, with sd the sample standard deviation of δ.
 */
export function modelRecords(model: string, insts: ReturnType<typeof instructions>, glm: TrueGlm, ratio: number, seed: number, notGamed = 1): Record_[] {
  const r = rng(seed);
  const lens = insts.map((x) => Math.max(1, Math.round(x.baseLength * ratio * (0.4 + 1.2 * r()))));
  const delta = insts.map((x, i) => x.baseLength - lens[i]!);
  const m = delta.reduce((a, b) => a + b, 0) / delta.length;
  const sd = Math.sqrt(delta.reduce((a, b) => a + (b - m) ** 2, 0) / (delta.length - 1));
  return insts.map((x, i) => ({
    instruction: x.instruction,
    output_1: 'b'.repeat(x.baseLength),
    output_2: 'm'.repeat(lens[i]!),
    generator_1: 'base',
    generator_2: model,
    preference: 1 + sigmoid(glm.slope * Math.tanh(delta[i]! / sd) + glm.diffCoef * x.difficulty + glm.bias * notGamed),
    dataset: 'synthetic',
  }));
}
