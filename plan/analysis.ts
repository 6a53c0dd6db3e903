/**
 * What a scaling sweep concludes from its runs: the fitted L(C) and L(N, D) with bootstrap
 * intervals, the compute-optimal frontier of the fitted law, and the predicted loss of a target
 * run. Shared by the `scaling.sweep` stage (which writes it as `sweep.json`) and `sluice plan
 * --fit` (which reads it back).
 */
import type { StorageLike } from '../engine/types.ts';
import type { ModelConfig } from '../formats/model.ts';
import { allocateParametric, decades, predictLoss, type ParametricLaw } from './chinchilla.ts';
import { bootstrap, computeFrontier, fitComputeLaw, fitParametricLaw, predictComputeLaw, type ComputeLaw, type FitQuality, type Interval, type ParametricCoefficients } from './fit.ts';

/** Format tag of `sweep.json`. */
export const SWEEP_FORMAT = 'sluice.scaling-sweep/1';

/** One finished run of the grid. */
export interface SweepRun {
  /** e.g. `L2-d64-t200k`. */
  name: string;
  model: ModelConfig;
  /** N used in the fits (see `paramsKind`). */
  params: number;
  /** The trainer's counts. */
  paramsTotal: number;
  paramsNonEmbedding: number;
  /** Training tokens seen, D. */
  tokens: number;
  /** 6·N·D with N = `params`: the C of the fits. */
  flops: number;
  /** The trainer's own FLOPs (6·N_matmul + attention, × tokens). */
  trainerFlops: number;
  /** The loss fitted: validation loss when there is one, else the final training loss. */
  loss: number;
  trainLoss: number;
  valLoss: number | null;
  steps: number;
  seconds: number;
}

/** Which parameter count the laws are fitted on. */
export type ParamsKind = 'total' | 'nonEmbedding';

/** A target run to predict. */
export interface SweepTarget {
  params?: number;
  tokens?: number;
  /** FLOPs; with neither params nor tokens: the fitted law's optimal split of this budget. */
  flops?: number;
}

/** Fitted L(C) and its intervals, or why it could not be fitted. */
export type ComputeFit = (ComputeLaw & FitQuality & { ci: Partial<Record<'a' | 'alpha' | 'lInf', Interval>>; on: 'frontier' | 'all' }) | { error: string };
/** Fitted L(N, D) and its intervals, or why it could not be fitted. */
export type ParametricFit = (ParametricCoefficients & FitQuality & { ci: Partial<Record<keyof ParametricCoefficients | 'exponentN', Interval>>; exponentN: number }) | { error: string };

/** The content of `sweep.json`. */
export interface SweepAnalysis {
  format: typeof SWEEP_FORMAT;
  paramsKind: ParamsKind;
  runs: SweepRun[];
  computeLaw: ComputeFit;
  parametricLaw: ParametricFit;
  bootstrap: { resamples: number; level: number; seed: number };
  /** The fitted law's compute-optimal (N, D, L) per decade of compute, from the sweep to the target. */
  frontier: Array<{ flops: number; params: number; tokens: number; loss: number }>;
  /** Coefficients the runs do not pin down (wide intervals, poor fit): read the laws with care. */
  warnings: string[];
  target: {
    params: number;
    tokens: number;
    flops: number;
    lossParametric: number | null;
    lossParametricCi: Interval | null;
    lossCompute: number | null;
    lossComputeCi: Interval | null;
  } | null;
}

/** Options of `analyzeRuns`. */
export interface AnalyzeOptions {
  paramsKind?: ParamsKind;
  target?: SweepTarget;
  /** Bootstrap resamples (default 200). */
  resamples?: number;
  /** Interval level (default 0.95). */
  level?: number;
  seed?: number;
}

/**
 * Fits both laws to the runs: L(C) on the compute-efficient frontier of the runs (all runs when
 * the frontier has fewer than 4), L(N, D) on every run; bootstrap intervals for every coefficient,
 * for L(N, D)'s optimal-size exponent β/(α+β) and for the target's predicted loss.
 */
export function analyzeRuns(runs: SweepRun[], opts: AnalyzeOptions = {}): SweepAnalysis {
  const resamples = opts.resamples ?? 200;
  const level = opts.level ?? 0.95;
  const seed = opts.seed ?? 1;
  const bopts = { resamples, level, seed };

  const pts = runs.map((r) => ({ params: r.params, tokens: r.tokens, flops: r.flops, loss: r.loss }));
  let parametric: ParametricFit;
  let law: ParametricLaw | null = null;
  const t = opts.target;
  // The target's (N, D) does not depend on the fit unless only a budget is given.
  const fixedTarget = t && t.params !== undefined && t.tokens !== undefined ? { params: t.params, tokens: t.tokens } : t && t.flops !== undefined && t.params !== undefined ? { params: t.params, tokens: t.flops / (6 * t.params) } : t && t.flops !== undefined && t.tokens !== undefined ? { params: t.flops / (6 * t.tokens), tokens: t.tokens } : null;
  if (t && ((!fixedTarget && t.flops === undefined) || (t.flops !== undefined && t.params !== undefined && t.tokens !== undefined))) throw new Error('sweep target: give params and tokens, or flops with at most one of them');
  let targetLossCi: Interval | null = null;
  try {
    const fitP = (ps: typeof pts) => {
      const f = fitParametricLaw(ps);
      const lawF = { ...f, source: '' };
      const tgt = fixedTarget ?? (t?.flops !== undefined ? allocateParametric(lawF, t.flops) : null);
      return { ...f, exponentN: f.beta / (f.alpha + f.beta), targetLoss: tgt ? predictLoss(lawF, tgt.params, tgt.tokens) : NaN };
    };
    const keys: Array<'E' | 'A' | 'B' | 'alpha' | 'beta' | 'exponentN' | 'targetLoss'> = ['E', 'A', 'B', 'alpha', 'beta', 'exponentN'];
    if (t) keys.push('targetLoss');
    const b = bootstrap(pts, fitP, keys, bopts);
    const { targetLoss: _t, ...est } = b.estimate;
    const { targetLoss: tci, ...ci } = b.ci;
    targetLossCi = tci ?? null;
    parametric = { ...est, ci };
    law = { E: est.E, A: est.A, B: est.B, alpha: est.alpha, beta: est.beta, source: 'sweep fit' };
  } catch (e) {
    parametric = { error: (e as Error).message };
  }

  let computeFit: ComputeFit;
  let computeCi: Interval | null = null;
  const targetFlops = fixedTarget ? 6 * fixedTarget.params * fixedTarget.tokens : t?.flops;
  try {
    const front = computeFrontier(pts);
    const on: 'frontier' | 'all' = front.length >= 4 && new Set(front.map((p) => p.flops)).size >= 3 ? 'frontier' : 'all';
    const use = on === 'frontier' ? front : pts;
    const fitC = (ps: typeof pts) => {
      const f = fitComputeLaw(ps);
      return { ...f, targetLoss: targetFlops !== undefined ? predictComputeLaw(f, targetFlops) : NaN };
    };
    const b = bootstrap(use, fitC, targetFlops !== undefined ? ['a', 'alpha', 'lInf', 'targetLoss'] : ['a', 'alpha', 'lInf'], bopts);
    const { targetLoss: _t, ...est } = b.estimate;
    const { targetLoss: tci, ...ci } = b.ci;
    computeCi = tci ?? null;
    computeFit = { ...est, ci, on };
  } catch (e) {
    computeFit = { error: (e as Error).message };
  }

  const minC = Math.min(...pts.map((p) => p.flops));
  const maxC = Math.max(targetFlops ?? 0, ...pts.map((p) => p.flops));
  const frontier = law ? decades(Math.floor(Math.log10(minC)), Math.ceil(Math.log10(maxC))).map((c) => {
    const a = allocateParametric(law!, c);
    return { flops: c, params: a.params, tokens: a.tokens, loss: a.loss };
  }) : [];

  let target: SweepAnalysis['target'] = null;
  if (t) {
    const tgt = fixedTarget ?? (law ? allocateParametric(law, t.flops!) : null);
    if (tgt) {
      const flops = 6 * tgt.params * tgt.tokens;
      target = {
        params: tgt.params,
        tokens: tgt.tokens,
        flops,
        lossParametric: law ? predictLoss(law, tgt.params, tgt.tokens) : null,
        lossParametricCi: targetLossCi,
        lossCompute: 'error' in computeFit ? null : predictComputeLaw(computeFit, flops),
        lossComputeCi: computeCi,
      };
    } else if (t.flops !== undefined) {
      target = {
        params: NaN, tokens: NaN, flops: t.flops, lossParametric: null, lossParametricCi: null,
        lossCompute: 'error' in computeFit ? null : predictComputeLaw(computeFit, t.flops), lossComputeCi: computeCi,
      };
    }
  }
  // Exponents and floors only: A, B and a are correlated with the exponents (a = a'·C0^α), so
  // their raw intervals are wide even when the predictions are tight.
  const warnings = [...fitWarnings('L(N, D)', parametric, ['E', 'alpha', 'beta'], level), ...fitWarnings('L(C)', computeFit, ['alpha', 'lInf'], level)];
  return { format: SWEEP_FORMAT, paramsKind: opts.paramsKind ?? 'total', runs, computeLaw: computeFit, parametricLaw: parametric, bootstrap: { resamples, level, seed }, frontier, warnings, target };
}

/**
 * Flags what a fit does not determine: R² below 0.95, or an exponent or floor whose interval
 * spans more than a factor of 3 (or reaches 0). Typical of sweeps whose runs are too short or too
 * few for the law to show.
 */
function fitWarnings(label: string, fit: ComputeFit | ParametricFit, keys: string[], level: number): string[] {
  if ('error' in fit) return [];
  const out: string[] = [];
  if (fit.r2 < 0.95) out.push(`${label}: R² ${fit.r2.toFixed(3)} — the law explains the runs poorly`);
  const ci = fit.ci as Record<string, Interval | undefined>;
  const wide = keys.filter((k) => {
    const c = ci[k];
    return c !== undefined && (c.lo <= 0 || c.hi / c.lo > 3);
  });
  if (wide.length) {
    const show = wide.map((k) => `${k} [${ci[k]!.lo.toPrecision(3)}, ${ci[k]!.hi.toPrecision(3)}]`).join(', ');
    out.push(`${label}: the runs do not determine ${show} (${Math.round(level * 100)}% intervals): add model sizes, longer runs or repeats`);
  }
  return out;
}

/** The fitted laws of a sweep, ready for `plan`. */
export interface FittedLaws {
  parametric: ParametricLaw | null;
  compute: (ComputeLaw & { source: string }) | null;
  paramsKind: ParamsKind;
  /** Why a law is missing, if one is. */
  notes: string[];
}

/**
 * Reads a sweep's fitted laws from `<dir>/sweep.json` (or the given `sweep.json` path), local or
 * `s3://`. Throws naming the file when it is missing or not a sweep output.
 */
export async function readSweep(uri: string, storage: StorageLike): Promise<{ analysis: SweepAnalysis; laws: FittedLaws; file: string }> {
  const file = uri.endsWith('.json') ? uri : storage.join(uri, 'sweep.json');
  if (!(await storage.exists(file))) throw new Error(`--fit: no sweep output at ${file} (give the scaling.sweep stage's output directory)`);
  let analysis: SweepAnalysis;
  try {
    analysis = JSON.parse(await storage.readText(file)) as SweepAnalysis;
  } catch (e) {
    throw new Error(`--fit: ${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (analysis?.format !== SWEEP_FORMAT) throw new Error(`--fit: ${file} is not a scaling sweep output (format '${String((analysis as { format?: unknown })?.format)}', expected '${SWEEP_FORMAT}')`);
  const notes: string[] = [...(analysis.warnings ?? [])];
  const p = analysis.parametricLaw;
  const c = analysis.computeLaw;
  if ('error' in p) notes.push(`L(N, D) was not fitted: ${p.error}`);
  if ('error' in c) notes.push(`L(C) was not fitted: ${c.error}`);
  const laws: FittedLaws = {
    parametric: 'error' in p ? null : { E: p.E, A: p.A, B: p.B, alpha: p.alpha, beta: p.beta, source: `sweep fit (${file}, ${analysis.runs.length} runs, N = ${analysis.paramsKind} parameters)` },
    compute: 'error' in c ? null : { a: c.a, alpha: c.alpha, lInf: c.lInf, source: `sweep fit (${file})` },
    paramsKind: analysis.paramsKind,
    notes,
  };
  return { analysis, laws, file };
}

/** `sweep.json` as JSON (NaN and Infinity become null). */
export function analysisJson(a: SweepAnalysis): string {
  return JSON.stringify(a, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1);
}
