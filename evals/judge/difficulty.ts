/**
 * Instruction difficulty for the length-controlled GLM, estimated as AlpacaEval did
 * (notebooks/instruction_difficulty.ipynb and notebooks/notebook_helpers.py in their repository):
 * one joint logistic fit over the annotations of many models,
 *
 *   logit P(model m better on instruction i) = φ_m·tanh(δ/sd_m) + b_m + γ_i + θ·not_gamed_baseline
 *
 * with a length slope φ_m and a bias b_m per model, a term γ_i per instruction (dummy coded: the
 * first instruction is the reference, γ = 0) and no intercept. The γ_i are the difficulties.
 * Rows with a NaN or negative preference and rows whose model output is empty are left out, as
 * the notebook does (`query("preference >= 0")`, `query("len_2 != 0")`); sd_m is the sample
 * standard deviation of δ over model m's kept rows. The notebook adds uniform noise of ±5e-5
 * characters to δ to break ties; that changes nothing measurable and is left out here. The fit
 * is the L1 logistic regression with C chosen by grouped 5-fold CV (logistic.ts).
 *
 * A model counts as a gamed baseline (not_gamed_baseline = 0) when its name contains the
 * baseline's and "verbose" or "concise", the notebook's rule.
 */
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lazyPackage } from '../../engine/modules/lazy.ts';
import { outputLength, readAnnotations, type Annotation, type SkippedRecord } from './annotations.ts';
import { design, fitL1LogisticCV } from './logistic.ts';
import { normalisePreference } from './winrate.ts';

/** csv-parse, loaded on first use (engine/modules/lazy.ts). */
const csvSync = lazyPackage<typeof import('csv-parse/sync')>('csv-parse/sync');

/** One instruction's estimated difficulty. */
export interface InstructionDifficulty {
  /** Position in the instruction order (first appearance over the models, by model name). */
  index: number;
  instruction: string;
  difficulty: number;
}

/** The joint fit's result. */
export interface DifficultyFit {
  instructions: InstructionDifficulty[];
  models: Array<{ model: string; records: number; used: number; lengthSlope: number; bias: number; gamedBaseline: boolean }>;
  /** Coefficient of not_gamed_baseline. */
  notGamed: number;
  C: number;
  /** Records skipped while reading, per model. */
  skipped: Array<{ model: string } & SkippedRecord>;
}

/** Reads `<dir>/<model>/annotations.json` for every model folder that has one, sorted by model name. */
export function readAnnotationDir(dir: string): Array<{ model: string; annotations: Annotation[]; skipped: SkippedRecord[] }> {
  if (!existsSync(dir)) throw new Error(`${dir}: annotations folder does not exist`);
  const out: Array<{ model: string; annotations: Annotation[]; skipped: SkippedRecord[] }> = [];
  for (const name of readdirSync(dir).sort()) {
    const f = join(dir, name, 'annotations.json');
    if (!existsSync(f)) continue;
    const set = readAnnotations(f);
    out.push({ model: name, annotations: set.annotations, skipped: set.skipped });
  }
  if (!out.length) throw new Error(`${dir}: no <model>/annotations.json found`);
  return out;
}

/** The notebook's rule for a gamed baseline. */
export function isGamedBaseline(model: string, baseline: string): boolean {
  return baseline !== '' && model.includes(baseline) && (model.includes('verbose') || model.includes('concise'));
}

/** Fits instruction difficulty jointly over the models' annotations. */
export function fitDifficulty(sets: Array<{ model: string; annotations: Annotation[]; skipped?: SkippedRecord[] }>): DifficultyFit {
  const order = new Map<string, number>();
  for (const s of sets) for (const a of s.annotations) if (!order.has(a.instruction)) order.set(a.instruction, order.size);
  const M = sets.length;
  const I = order.size;
  if (M < 2) throw new Error(`instruction difficulty needs the annotations of at least 2 models, got ${M}`);
  // Columns: [slope_m × M][bias_m × M][γ_i for i = 1 … I−1][not_gamed_baseline]
  const P = 2 * M + (I - 1) + 1;
  const rows: Array<Array<[number, number]>> = [];
  const y: number[] = [];
  const models: DifficultyFit['models'] = [];
  sets.forEach((s, m) => {
    const baseline = s.annotations[0]?.generator1 ?? '';
    const gamed = isGamedBaseline(s.model, baseline);
    const kept = s.annotations.filter((a) => {
      const p = normalisePreference(a.preference);
      return p >= 0 && outputLength(a.output2) !== 0; // NaN fails p >= 0
    });
    const delta = kept.map((a) => outputLength(a.output1) - outputLength(a.output2));
    const mean = delta.reduce((a, b) => a + b, 0) / delta.length;
    const sd = Math.sqrt(delta.reduce((a, b) => a + (b - mean) ** 2, 0) / (delta.length - 1));
    kept.forEach((a, k) => {
      const i = order.get(a.instruction)!;
      const r: Array<[number, number]> = [[m, sd > 0 ? Math.tanh(delta[k]! / sd) : 0], [M + m, 1]];
      if (i > 0) r.push([2 * M + i - 1, 1]);
      if (!gamed) r.push([P - 1, 1]);
      rows.push(r);
      y.push(Math.min(1, Math.max(0, normalisePreference(a.preference) - 1)));
    });
    models.push({ model: s.model, records: s.annotations.length, used: kept.length, lengthSlope: 0, bias: 0, gamedBaseline: gamed });
  });
  const fit = fitL1LogisticCV(design(rows, P), y, y.map(() => 1));
  models.forEach((x, m) => {
    x.lengthSlope = fit.coef[m]!;
    x.bias = fit.coef[M + m]!;
  });
  const instructions = [...order].map(([instruction, index]) => ({ index, instruction, difficulty: index === 0 ? 0 : fit.coef[2 * M + index - 1]! }));
  const skipped = sets.flatMap((s) => (s.skipped ?? []).map((k) => ({ model: s.model, ...k })));
  return { instructions, models, notGamed: fit.coef[P - 1]!, C: fit.C, skipped };
}

const csvField = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/** The difficulty CSV: header `index,instruction,instruction_difficulty`, one row per instruction (RFC 4180 quoting). */
export function difficultyCsv(items: InstructionDifficulty[]): string {
  return ['index,instruction,instruction_difficulty', ...items.map((d) => `${d.index},${csvField(d.instruction)},${d.difficulty.toPrecision(17)}`)].join('\n') + '\n';
}

/** Reads a difficulty CSV written by {@link difficultyCsv}: instruction → difficulty. Errors name the file and row. */
export function readDifficultyCsv(path: string): Map<string, number> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`${path}: cannot read the difficulty file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let rows: Array<Record<string, string>>;
  try {
    rows = csvSync().parse(text, { columns: true, skip_empty_lines: true }) as Array<Record<string, string>>;
  } catch (e) {
    throw new Error(`${path}: not a valid CSV (${(e as Error).message})`);
  }
  const out = new Map<string, number>();
  rows.forEach((r, k) => {
    if (typeof r.instruction !== 'string' || r.instruction_difficulty === undefined) throw new Error(`${path}: row ${k + 2} lacks the instruction or instruction_difficulty column`);
    const v = Number(r.instruction_difficulty);
    if (!Number.isFinite(v)) throw new Error(`${path}: row ${k + 2} has a non-numeric instruction_difficulty '${r.instruction_difficulty}'`);
    out.set(r.instruction, v);
  });
  if (!out.size) throw new Error(`${path}: no instructions`);
  return out;
}
