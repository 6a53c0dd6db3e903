/**
 * L1-penalised logistic regression with soft labels and sample weights, and its grouped K-fold
 * choice of the penalty — the fit AlpacaEval's length-controlled GLM uses
 * (src/alpaca_eval/metrics/glm_winrate.py, `fit_LogisticRegressionCV`: scikit-learn's
 * `LogisticRegressionCV(penalty="l1", solver="liblinear", fit_intercept=False, Cs=10)` over
 * `GroupKFold(5)`, each row duplicated with labels 1 and 0 weighted p and 1 − p, scored by the
 * weighted soft log loss).
 *
 * Objective, as liblinear states it: minimise ‖w‖₁ + C Σᵢ sᵢ ℓᵢ(w), with
 * ℓᵢ = −pᵢ log σ(xᵢ·w) − (1 − pᵢ) log σ(−xᵢ·w). The duplicated rows of scikit-learn add up to
 * exactly this, so the rows are not duplicated here.
 *
 * Solver: proximal Newton (the newGLMNET scheme liblinear itself uses for L1 logistic
 * regression): each outer step minimises the second-order model of the loss plus the L1 term by
 * cyclic coordinate descent with soft-thresholding, then backtracks on the true objective with an
 * Armijo rule. Written here rather than taken from npm because no maintained package fits this
 * problem (soft labels, per-row weights, L1, no intercept, sparse rows of a few hundred
 * instruction dummies); `ml-logistic-regression`, the most used, is unpenalised gradient descent
 * on hard labels. It stops when the minimum-norm subgradient has fallen below 1e-7 of its value
 * at w = 0 (liblinear stops at 1e-4; the tighter tolerance costs a few more Newton steps and makes
 * the result independent of the stopping point to the digits reported).
 */

/** A design matrix stored by rows and by columns (rows have few non-zeros). */
export interface Design {
  /** Rows. */
  n: number;
  /** Columns (coefficients). */
  p: number;
  rowPtr: Int32Array;
  rowCol: Int32Array;
  rowVal: Float64Array;
  colPtr: Int32Array;
  colRow: Int32Array;
  colVal: Float64Array;
}

/** Builds a design from rows given as `[column, value]` pairs (zeros may be omitted). */
export function design(rows: Array<Array<[number, number]>>, p: number): Design {
  const n = rows.length;
  const rowPtr = new Int32Array(n + 1);
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    for (const [c, v] of rows[i]!) {
      if (!(c >= 0 && c < p)) throw new Error(`design: column ${c} out of range 0..${p - 1} in row ${i}`);
      if (!Number.isFinite(v)) throw new Error(`design: non-finite value ${v} in row ${i}, column ${c}`);
      if (v !== 0) nnz++;
    }
    rowPtr[i + 1] = nnz;
  }
  const rowCol = new Int32Array(nnz);
  const rowVal = new Float64Array(nnz);
  const colCount = new Int32Array(p + 1);
  let k = 0;
  for (let i = 0; i < n; i++)
    for (const [c, v] of rows[i]!) {
      if (v === 0) continue;
      rowCol[k] = c;
      rowVal[k++] = v;
      colCount[c + 1]!++;
    }
  const colPtr = new Int32Array(p + 1);
  for (let j = 0; j < p; j++) colPtr[j + 1] = colPtr[j]! + colCount[j + 1]!;
  const fill = colPtr.slice(0, p);
  const colRow = new Int32Array(nnz);
  const colVal = new Float64Array(nnz);
  for (let i = 0; i < n; i++)
    for (let q = rowPtr[i]!; q < rowPtr[i + 1]!; q++) {
      const at = fill[rowCol[q]!]!++;
      colRow[at] = i;
      colVal[at] = rowVal[q]!;
    }
  return { n, p, rowPtr, rowCol, rowVal, colPtr, colRow, colVal };
}

/** The rows of `d` listed in `idx`, as a new design. */
export function subset(d: Design, idx: ArrayLike<number>): Design {
  const rows: Array<Array<[number, number]>> = [];
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    const r: Array<[number, number]> = [];
    for (let q = d.rowPtr[i]!; q < d.rowPtr[i + 1]!; q++) r.push([d.rowCol[q]!, d.rowVal[q]!]);
    rows.push(r);
  }
  return design(rows, d.p);
}

/** x_i · w for every row. */
export function linear(d: Design, w: ArrayLike<number>): Float64Array {
  const z = new Float64Array(d.n);
  for (let i = 0; i < d.n; i++) {
    let s = 0;
    for (let q = d.rowPtr[i]!; q < d.rowPtr[i + 1]!; q++) s += d.rowVal[q]! * w[d.rowCol[q]!]!;
    z[i] = s;
  }
  return z;
}

/** The logistic function, stable for large |x|. */
export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** log(1 + e^x) without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

/** Soft-label cross-entropy of one row at logit z: −p log σ(z) − (1 − p) log σ(−z). */
function rowLoss(z: number, p: number): number {
  return p * softplus(-z) + (1 - p) * softplus(z);
}

/** Options of {@link fitL1Logistic}. */
export interface FitOptions {
  /** Inverse penalty strength C (liblinear's). */
  C: number;
  /** Starting coefficients (warm start); zeros by default. */
  init?: ArrayLike<number>;
  /** Relative tolerance on the minimum-norm subgradient; 1e-7 by default. */
  tol?: number;
  /** Outer Newton iterations; 200 by default. */
  maxIter?: number;
}

/** A fitted model. */
export interface L1Fit {
  coef: Float64Array;
  /** The penalised objective at `coef`. */
  objective: number;
  iterations: number;
  converged: boolean;
}

function objective(z: Float64Array, y: ArrayLike<number>, s: ArrayLike<number>, w: Float64Array, C: number): number {
  let l = 0;
  for (let i = 0; i < z.length; i++) l += s[i]! * rowLoss(z[i]!, y[i]!);
  let r = 0;
  for (let j = 0; j < w.length; j++) r += Math.abs(w[j]!);
  return C * l + r;
}

/**
 * Fits min ‖w‖₁ + C Σ sᵢ ℓ(xᵢ·w; pᵢ) for soft labels `y` in [0, 1] and weights `s` ≥ 0.
 * Throws on labels outside [0, 1] or negative weights, naming the row.
 */
export function fitL1Logistic(d: Design, y: ArrayLike<number>, s: ArrayLike<number>, opts: FitOptions): L1Fit {
  const { C } = opts;
  if (y.length !== d.n || s.length !== d.n) throw new Error(`fitL1Logistic: ${d.n} rows but ${y.length} labels and ${s.length} weights`);
  for (let i = 0; i < d.n; i++) {
    if (!(y[i]! >= 0 && y[i]! <= 1)) throw new Error(`fitL1Logistic: label ${y[i]} of row ${i} is outside [0, 1]`);
    if (!(s[i]! >= 0)) throw new Error(`fitL1Logistic: weight ${s[i]} of row ${i} is negative or NaN`);
  }
  const tol = opts.tol ?? 1e-7;
  const maxIter = opts.maxIter ?? 200;
  const P = d.p;
  const w = new Float64Array(P);
  if (opts.init) w.set(Array.from(opts.init));
  let z = linear(d, w);
  let f = objective(z, y, s, w, C);
  const g = new Float64Array(P);
  const h = new Float64Array(P);
  const D = new Float64Array(d.n); // Hessian weights C sᵢ σ(1 − σ)
  const Xd = new Float64Array(d.n);
  const dir = new Float64Array(P);
  const subgradNorm = (): number => {
    let t = 0;
    for (let j = 0; j < P; j++) {
      const gj = g[j]!;
      if (w[j]! > 0) t += Math.abs(gj + 1);
      else if (w[j]! < 0) t += Math.abs(gj - 1);
      else t += Math.max(0, Math.abs(gj) - 1);
    }
    return t;
  };
  const gradient = () => {
    const r = new Float64Array(d.n);
    for (let i = 0; i < d.n; i++) {
      const q = sigmoid(z[i]!);
      r[i] = C * s[i]! * (q - y[i]!);
      D[i] = C * s[i]! * q * (1 - q);
    }
    for (let j = 0; j < P; j++) {
      let gj = 0;
      let hj = 0;
      for (let q = d.colPtr[j]!; q < d.colPtr[j + 1]!; q++) {
        const i = d.colRow[q]!;
        const v = d.colVal[q]!;
        gj += r[i]! * v;
        hj += D[i]! * v * v;
      }
      g[j] = gj;
      h[j] = hj + 1e-12;
    }
  };
  gradient();
  // Scale of the stopping rule: the subgradient at w = 0 (liblinear's Gnorm0).
  let g0 = 0;
  {
    const zs = new Float64Array(d.n);
    for (let j = 0; j < P; j++) {
      let gj = 0;
      for (let q = d.colPtr[j]!; q < d.colPtr[j + 1]!; q++) {
        const i = d.colRow[q]!;
        gj += C * s[i]! * (sigmoid(zs[i]!) - y[i]!) * d.colVal[q]!;
      }
      g0 += Math.max(0, Math.abs(gj) - 1);
    }
  }
  const stop = tol * Math.max(g0, 1e-12);
  let it = 0;
  let converged = false;
  for (; it < maxIter; it++) {
    if (subgradNorm() <= stop) {
      converged = true;
      break;
    }
    // Inner problem: min_dir gᵀdir + ½ dirᵀ H dir + ‖w + dir‖₁ by coordinate descent.
    dir.fill(0);
    Xd.fill(0);
    let firstStep = 0;
    for (let pass = 0; pass < 50; pass++) {
      let maxStep = 0;
      for (let j = 0; j < P; j++) {
        let Gj = g[j]!;
        for (let q = d.colPtr[j]!; q < d.colPtr[j + 1]!; q++) Gj += D[d.colRow[q]!]! * d.colVal[q]! * Xd[d.colRow[q]!]!;
        const Hj = h[j]!;
        const u = w[j]! + dir[j]!;
        const t = u - Gj / Hj;
        const unew = t > 1 / Hj ? t - 1 / Hj : t < -1 / Hj ? t + 1 / Hj : 0;
        const step = unew - u;
        if (step === 0) continue;
        dir[j] = dir[j]! + step;
        for (let q = d.colPtr[j]!; q < d.colPtr[j + 1]!; q++) Xd[d.colRow[q]!] = Xd[d.colRow[q]!]! + step * d.colVal[q]!;
        maxStep = Math.max(maxStep, Math.abs(step) * Math.sqrt(Hj));
      }
      if (pass === 0) firstStep = maxStep;
      // The inner problem only needs solving well enough to give a descent direction: stop at 1e-3 of the first pass's largest step.
      if (maxStep <= 1e-3 * firstStep || maxStep < 1e-12) break;
    }
    // Armijo backtracking on F(w + β dir).
    let l1 = 0;
    let l1new = 0;
    let gd = 0;
    for (let j = 0; j < P; j++) {
      l1 += Math.abs(w[j]!);
      l1new += Math.abs(w[j]! + dir[j]!);
      gd += g[j]! * dir[j]!;
    }
    const delta = gd + l1new - l1;
    if (!(delta < 0)) {
      converged = true; // no descent direction left: at the optimum to machine precision
      break;
    }
    let beta = 1;
    const wNew = new Float64Array(P);
    const zNew = new Float64Array(d.n);
    let fNew = Infinity;
    for (let ls = 0; ls < 60; ls++) {
      for (let j = 0; j < P; j++) wNew[j] = w[j]! + beta * dir[j]!;
      for (let i = 0; i < d.n; i++) zNew[i] = z[i]! + beta * Xd[i]!;
      fNew = objective(zNew, y, s, wNew, C);
      if (fNew <= f + 0.01 * beta * delta) break;
      beta *= 0.5;
    }
    if (!(fNew < f)) {
      converged = true;
      break;
    }
    w.set(wNew);
    z = zNew;
    f = fNew;
    gradient();
  }
  return { coef: w, objective: f, iterations: it, converged };
}

/** scikit-learn's default grid of C for `Cs=10`: 10 values log-spaced from 1e-4 to 1e4. */
export const DEFAULT_CS: readonly number[] = Array.from({ length: 10 }, (_, k) => 10 ** (-4 + (8 * k) / 9));

/** Options of {@link fitL1LogisticCV}. */
export interface CVOptions {
  /** Folds; 5 by default (AlpacaEval's `n_splits`). */
  folds?: number;
  /** Candidate C values; {@link DEFAULT_CS} by default. */
  Cs?: readonly number[];
}

/** The cross-validated fit: the chosen C, its mean held-out score, and the refit on all rows. */
export interface CVFit extends L1Fit {
  C: number;
  /** Mean over folds of the held-out score (negative weighted log loss) for each C. */
  scores: number[];
}

/**
 * Chooses C by grouped K-fold cross-validation, as `LogisticRegressionCV` with `GroupKFold` and
 * AlpacaEval's `logloss_continuous` scorer does, then refits on all rows with the chosen C.
 * Each row is its own group (scikit-learn's two copies of a row share a group). `GroupKFold`
 * hands groups of equal size to the lightest fold in reverse index order, so row i goes to fold
 * (n − 1 − i) mod K. The score of a fold is −mean_i sᵢ·CE(pᵢ, q̂ᵢ) with q̂ clipped to
 * [1e-15, 1 − 1e-15]; the best C maximises the mean score over folds (the first on ties).
 */
export function fitL1LogisticCV(d: Design, y: ArrayLike<number>, s: ArrayLike<number>, opts: CVOptions = {}): CVFit {
  const K = opts.folds ?? 5;
  const Cs = opts.Cs ?? DEFAULT_CS;
  if (d.n < K) throw new Error(`fitL1LogisticCV: ${d.n} rows is fewer than ${K} folds`);
  const fold = new Int32Array(d.n);
  for (let i = 0; i < d.n; i++) fold[i] = (d.n - 1 - i) % K;
  const totals = new Array<number>(Cs.length).fill(0);
  for (let k = 0; k < K; k++) {
    const tr: number[] = [];
    const te: number[] = [];
    for (let i = 0; i < d.n; i++) (fold[i] === k ? te : tr).push(i);
    const dTr = subset(d, tr);
    const dTe = subset(d, te);
    const yTr = tr.map((i) => y[i]!);
    const sTr = tr.map((i) => s[i]!);
    let init: Float64Array | undefined;
    Cs.forEach((C, c) => {
      const fit = fitL1Logistic(dTr, yTr, sTr, { C, init });
      init = fit.coef; // warm start along the path: the problem is convex, the optimum does not move
      const z = linear(dTe, fit.coef);
      let loss = 0;
      te.forEach((i, t) => {
        const q = Math.min(1 - 1e-15, Math.max(1e-15, sigmoid(z[t]!)));
        const p = y[i]!;
        loss += s[i]! * -(p * Math.log(q) + (1 - p) * Math.log(1 - q));
      });
      totals[c] = totals[c]! - loss / te.length;
    });
  }
  const scores = totals.map((t) => t / K);
  let best = 0;
  for (let c = 1; c < Cs.length; c++) if (scores[c]! > scores[best]!) best = c;
  const fit = fitL1Logistic(d, y, s, { C: Cs[best]! });
  return { ...fit, C: Cs[best]!, scores };
}
