/**
 * AlpacaEval's length-controlled win rate (src/alpaca_eval/metrics/glm_winrate.py,
 * `get_length_controlled_winrate` and `_get_featurized_data`).
 *
 * For each record of one model: δ = len(output_1) − len(output_2) in code points (baseline minus
 * model), standardised by its sample standard deviation over the model's records; the GLM is
 *
 *   logit P(model better) = θ_len·tanh(δ/sd) + θ_diff·difficulty(instruction) + θ_m·not_gamed_baseline
 *
 * with no intercept (`length_controlled_v1`), or θ_len·tanh(δ/sd) + θ_m (`minimal`). Under
 * `length_controlled_v1` the rows of the gamed baselines (the baseline's own outputs made shorter
 * or longer, judged against it) join the fit with not_gamed_baseline = 0 and weight λ/G each
 * (λ = 0.2 over G gamed sets; AlpacaEval has G = 2 and writes λ/2), which regularises the length
 * and difficulty slopes towards what explains a pure length change of the baseline. The fit is the
 * L1 logistic regression of logistic.ts with C chosen by grouped 5-fold CV. Rows whose preference
 * is NaN are left out of the fit but, as in AlpacaEval, still predicted.
 *
 * The length-controlled win rate is the mean over the model's records of the prediction at zero
 * length difference, in percent. `lc_standard_error` is the standard error of that mean over
 * records (n − 1), in percent: it measures the spread of the per-instruction predictions, not the
 * uncertainty of the fitted coefficients.
 */
import { outputLength, type Annotation } from './annotations.ts';
import { design, fitL1LogisticCV, linear, sigmoid } from './logistic.ts';
import { normalisePreference } from './winrate.ts';
import { meanStderr } from '../stats.ts';

/** The GLMs of `--glm`. */
export const GLM_NAMES = ['length_controlled_v1', 'minimal'] as const;
export type GlmName = (typeof GLM_NAMES)[number];

/** Regularisation weight towards the gamed baselines in `length_controlled_v1` (AlpacaEval's `regularize_to_baseline_lambda`). */
export const GAMED_LAMBDA = 0.2;

/** Inputs of {@link lengthControlledWinRate} besides the model's annotations. */
export interface GlmInputs {
  glm: GlmName;
  /** Instruction → difficulty; required by `length_controlled_v1`. */
  difficulty?: Map<string, number>;
  /** Annotation sets of the gamed baselines; `length_controlled_v1` uses them with weight λ/G each. */
  gamed?: Annotation[][];
  /** λ; {@link GAMED_LAMBDA} by default. */
  lambda?: number;
}

/** The fitted GLM and its prediction. */
export interface LengthControlled {
  length_controlled_winrate: number;
  lc_standard_error: number;
  /** Coefficients by feature name. */
  weights: Record<string, number>;
  /** The C chosen by cross-validation (null when no fit was needed). */
  C: number | null;
  /** Per record of the model, the predicted preference at zero length difference (0 … 1). */
  glmPreference: number[];
  /** Per record, tanh(δ/sd): the length feature (positive when the baseline's output is longer). */
  lengthFeature: number[];
}

/** tanh of each record's standardised length difference (baseline minus model; sample sd over the records). */
export function lengthFeatures(annotations: Annotation[]): number[] {
  const delta = annotations.map((a) => outputLength(a.output1) - outputLength(a.output2));
  const n = delta.length;
  const m = delta.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(delta.reduce((a, b) => a + (b - m) ** 2, 0) / (n - 1));
  // All differences equal (or one record): pandas gives NaN here and the fit fails; 0 is the honest feature.
  return delta.map((x) => (sd > 0 && Number.isFinite(sd) ? Math.tanh(x / sd) : 0));
}

/** The preference as the GLM's target in [0, 1] (0 → draw), NaN when unusable. */
function target(p: number): number {
  const q = normalisePreference(p) - 1;
  return q >= 0 && q <= 1 ? q : NaN;
}

/** Looks up every instruction's difficulty; throws naming the count and a first missing instruction. */
function difficulties(annotations: Annotation[], difficulty: Map<string, number>, what: string): number[] {
  const out: number[] = [];
  const missing: string[] = [];
  for (const a of annotations) {
    const d = difficulty.get(a.instruction);
    if (d === undefined) missing.push(a.instruction);
    out.push(d ?? NaN);
  }
  if (missing.length)
    throw new Error(`${what}: ${missing.length} of ${annotations.length} instructions have no difficulty in the --difficulty file (first: ${JSON.stringify(missing[0]!.slice(0, 80))}); rebuild it with \`sluice judge difficulty\` over annotations that include them`);
  return out;
}

/** Fits the GLM to one model's annotations and predicts its length-controlled win rate. */
export function lengthControlledWinRate(annotations: Annotation[], inputs: GlmInputs): LengthControlled {
  if (annotations.length < 2) throw new Error(`length-controlled win rate needs at least 2 annotations, got ${annotations.length}`);
  const models = new Set(annotations.map((a) => a.generator2));
  if (models.size > 1) throw new Error(`annotations mix ${models.size} evaluated models (${[...models].slice(0, 3).join(', ')}…): one model per file`);
  const x = lengthFeatures(annotations);
  const isBaseline = annotations.every((a) => a.generator1 !== '' && a.generator1 === a.generator2);
  switch (inputs.glm) {
    case 'length_controlled_v1': {
      if (!inputs.difficulty) throw new Error('--glm length_controlled_v1 needs --difficulty F.csv (from `sluice judge difficulty`)');
      const diff = difficulties(annotations, inputs.difficulty, 'annotations');
      if (isBaseline) return constant(annotations.length, x, { 'np.tanh(std_delta_len)': 0, instruction_difficulty: 0, 'not_gamed_baseline.astype(float)': 0 });
      const rows: Array<Array<[number, number]>> = [];
      const y: number[] = [];
      const s: number[] = [];
      const gamed = inputs.gamed ?? [];
      const lambda = inputs.lambda ?? GAMED_LAMBDA;
      if (lambda > 0)
        gamed.forEach((g, k) => {
          const gx = lengthFeatures(g);
          const gd = difficulties(g, inputs.difficulty!, `gamed baseline set ${k + 1}`);
          g.forEach((a, i) => {
            const t = target(a.preference);
            if (Number.isNaN(t)) return;
            rows.push([[0, gx[i]!], [1, gd[i]!]]);
            y.push(t);
            s.push(lambda / gamed.length);
          });
        });
      annotations.forEach((a, i) => {
        const t = target(a.preference);
        if (Number.isNaN(t)) return;
        rows.push([[0, x[i]!], [1, diff[i]!], [2, 1]]);
        y.push(t);
        s.push(1);
      });
      if (!annotations.some((a) => !Number.isNaN(target(a.preference)))) throw new Error(`none of the ${annotations.length} annotations has a valid preference (1 … 2): nothing to fit`);
      const fit = fitL1LogisticCV(design(rows, 3), y, s);
      const test = design(diff.map((d) => [[1, d], [2, 1]] as Array<[number, number]>), 3);
      const pred = Array.from(linear(test, fit.coef), sigmoid);
      return result(pred, x, { 'np.tanh(std_delta_len)': fit.coef[0]!, instruction_difficulty: fit.coef[1]!, 'not_gamed_baseline.astype(float)': fit.coef[2]! }, fit.C);
    }
    case 'minimal': {
      if (isBaseline) return constant(annotations.length, x, { 'np.tanh(std_delta_len)': 0, 'not_gamed_baseline.astype(float)': 0 });
      const rows: Array<Array<[number, number]>> = [];
      const y: number[] = [];
      annotations.forEach((a, i) => {
        const t = target(a.preference);
        if (Number.isNaN(t)) return;
        rows.push([[0, x[i]!], [1, 1]]);
        y.push(t);
      });
      if (!y.length) throw new Error(`none of the ${annotations.length} annotations has a valid preference (1 … 2): nothing to fit`);
      const fit = fitL1LogisticCV(design(rows, 2), y, y.map(() => 1));
      const p = sigmoid(fit.coef[1]!);
      return result(annotations.map(() => p), x, { 'np.tanh(std_delta_len)': fit.coef[0]!, 'not_gamed_baseline.astype(float)': fit.coef[1]! }, fit.C);
    }
    default: {
      const never: never = inputs.glm;
      throw new Error(`unknown GLM ${String(never)}`);
    }
  }
}

function result(pred: number[], x: number[], weights: Record<string, number>, C: number | null): LengthControlled {
  const m = pred.reduce((a, b) => a + b, 0) / pred.length;
  const se = meanStderr(pred);
  return { length_controlled_winrate: m * 100, lc_standard_error: (Number.isNaN(se) ? 0 : se) * 100, weights, C, glmPreference: pred, lengthFeature: x };
}

/** The baseline against itself: 50% by construction, as AlpacaEval returns. */
function constant(n: number, x: number[], weights: Record<string, number>): LengthControlled {
  return result(new Array<number>(n).fill(0.5), x, weights, null);
}
