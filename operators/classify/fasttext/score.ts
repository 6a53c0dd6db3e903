/**
 * Score models (FineWeb-Edu style): a fastText classifier trained on integer scores (0–5 as
 * labels) whose output is the expected score `Σ p(label) × label` — a linear model over
 * averaged n-gram embeddings, as fastText's, and still a plain fastText `.bin` the CLI reads.
 * FineWeb-Edu reports its classifier by the Pearson correlation of predicted and annotated
 * scores and by F1 of the binary decision `score ≥ 3`; `evaluate` reports both, besides the
 * accuracy, per-label precision/recall/F1 and the confusion matrix of the top label.
 */
import type { FastTextModel } from './model.ts';
import { trainFastText, TrainingDataError, type Example, type TrainOptions } from './train.ts';

/** The numeric value of each label, or undefined when a label is not a number. */
export function labelValues(model: FastTextModel): number[] | undefined {
  const v = model.labels.map(Number);
  return v.every((x, i) => Number.isFinite(x) && model.labels[i]!.trim() !== '') ? v : undefined;
}

/**
 * The expected score of `text` under a score model: `Σ p(label) × value(label)`. Throws when the
 * model's labels are not numbers.
 */
export function expectedScore(model: FastTextModel, text: string, values = labelValues(model)): number {
  if (!values) throw new Error(`expectedScore: the model's labels are not numbers (${model.labels.slice(0, 6).join(', ')}): train it on integer scores`);
  const p = model.probabilities(text);
  let s = 0;
  let z = 0;
  for (let i = 0; i < p.length; i++) {
    s += p[i]! * values[i]!;
    z += p[i]!;
  }
  return z > 0 ? s / z : 0;
}

/**
 * Trains a score model on integer-scored examples (FineWeb-Edu's 0–5). Throws
 * `TrainingDataError` for a non-integer score; other options as `trainFastText`.
 */
export async function trainScoreModel(examples: Iterable<Example>, options: TrainOptions = {}) {
  const checked: Example[] = [];
  let i = 0;
  for (const e of examples) {
    i++;
    const v = typeof e.label === 'number' ? e.label : Number(e.label);
    if (Array.isArray(e.label) || !Number.isInteger(v)) throw new TrainingDataError(`score example ${i}: label ${JSON.stringify(e.label)} is not an integer score`);
    checked.push({ text: e.text, label: v });
  }
  return trainFastText(checked, options);
}

/** Precision, recall and F1 of one class. */
export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** What `evaluate` reports. */
export interface Evaluation {
  n: number;
  /** Share of examples whose top label is their (first) label. */
  accuracy: number;
  perLabel: ClassMetrics[];
  /** `confusion[i][j]`: examples of true label `labels[i]` predicted as `labels[j]`. */
  labels: string[];
  confusion: number[][];
  /** For a score model: Pearson r of the expected score against the true score, and F1 of `score ≥ threshold`. */
  score?: { pearson: number; threshold: number; precision: number; recall: number; f1: number };
  /** Examples whose label the model does not have (counted in n, never correct). */
  unknownLabels: number;
}

function prf(tp: number, fp: number, fn: number) {
  const precision = tp + fp ? tp / (tp + fp) : 0;
  const recall = tp + fn ? tp / (tp + fn) : 0;
  return { precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0 };
}

/** Pearson correlation of two equal-length series (0 when either is constant). */
export function pearson(x: number[], y: number[]): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i]!;
    my += y[i]!;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i]! - mx;
    const b = y[i]! - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

/**
 * Evaluates a model on labeled examples: accuracy, per-label P/R/F1 and the confusion matrix of
 * the top label; for a score model (numeric labels) also Pearson r of the expected score and
 * P/R/F1 of `expected score ≥ threshold` (default 3, FineWeb-Edu's).
 */
export function evaluate(model: FastTextModel, examples: Iterable<Example>, threshold = 3): Evaluation {
  const L = model.labels.length;
  const confusion = Array.from({ length: L }, () => new Array<number>(L).fill(0));
  const values = labelValues(model);
  const truth: number[] = [];
  const predicted: number[] = [];
  let n = 0;
  let correct = 0;
  let unknown = 0;
  for (const e of examples) {
    n++;
    const first = Array.isArray(e.label) ? e.label[0]! : e.label;
    const t = model.labelId(String(first));
    const p = model.probabilities(e.text);
    let best = 0;
    for (let i = 1; i < L; i++) if (p[i]! > p[best]!) best = i;
    if (t < 0) {
      unknown++;
      continue;
    }
    confusion[t]![best]!++;
    if (t === best) correct++;
    if (values) {
      let s = 0;
      let z = 0;
      for (let i = 0; i < L; i++) {
        s += p[i]! * values[i]!;
        z += p[i]!;
      }
      truth.push(values[t]!);
      predicted.push(z > 0 ? s / z : 0);
    }
  }
  const perLabel = model.labels.map((label, i) => {
    let fp = 0;
    let fn = 0;
    for (let j = 0; j < L; j++) {
      if (j !== i) {
        fp += confusion[j]![i]!;
        fn += confusion[i]![j]!;
      }
    }
    return { label, ...prf(confusion[i]![i]!, fp, fn), support: confusion[i]!.reduce((a, b) => a + b, 0) };
  });
  const out: Evaluation = { n, accuracy: n ? correct / n : 0, perLabel, labels: model.labels, confusion, unknownLabels: unknown };
  if (values && truth.length) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < truth.length; i++) {
      const a = truth[i]! >= threshold;
      const b = predicted[i]! >= threshold;
      if (a && b) tp++;
      else if (b) fp++;
      else if (a) fn++;
    }
    out.score = { pearson: pearson(predicted, truth), threshold, ...prf(tp, fp, fn) };
  }
  return out;
}
