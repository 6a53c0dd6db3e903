/**
 * Preference-optimisation losses on per-sequence log-probabilities, computed in float64 on the
 * host, with their exact gradients with respect to those log-probabilities. The tfjs loop
 * (trainer/dpo/tfjs.ts) back-propagates these gradients through the model; trainer/torch/dpo.py
 * computes the same formulas with torch ops in float64 (the two agree to 1e-4, tested).
 *
 * Inputs per pair: the policy's summed log-probability of the chosen and rejected response tokens
 * (the mask = 1 tokens), the reference model's, and the two response lengths (token counts).
 *
 * - `sigmoid` (DPO; Rafailov et al. 2023, eq. 7):
 *     z = β·((π_c − π_r) − (ρ_c − ρ_r)),  loss = −log σ(z)
 *   rewards: β·(π_c − ρ_c), β·(π_r − ρ_r).
 * - `ipo` (IPO; Azar et al. 2023, "A General Theoretical Paradigm to Understand Learning from
 *   Human Preferences", eq. 17), as TRL implements it: the log-probabilities are averaged over
 *   the response tokens (π̄ = π / |y|), then
 *     h = (π̄_c − π̄_r) − (ρ̄_c − ρ̄_r),  loss = (h − 1/(2β))²
 *   rewards: β·(π̄_c − ρ̄_c), β·(π̄_r − ρ̄_r).
 * - `simpo` (SimPO; Meng, Xia & Chen 2024, "SimPO: Simple Preference Optimization with a
 *   Reference-Free Reward", eq. 6): reference-free and length-normalised, with the target
 *   reward margin γ:
 *     loss = −log σ(β/|y_w|·log π(y_w|x) − β/|y_l|·log π(y_l|x) − γ)
 *   rewards: β·π̄_c, β·π̄_r (the paper's implicit reward, eq. 4). The reference log-probabilities
 *   are not used.
 *
 * Reward accuracy counts a pair 1 when the chosen reward is above the rejected one, 0.5 when they
 * are equal, 0 otherwise: with policy = reference every DPO/IPO reward is 0, and the accuracy is
 * 0.5 "by construction" (TRL's strict `>` would say 0).
 */

/** The preference losses `train.dpo` offers. */
export type DpoLossType = 'sigmoid' | 'ipo' | 'simpo';

/** The loss types, for option checks. */
export const DPO_LOSSES: readonly DpoLossType[] = ['sigmoid', 'ipo', 'simpo'];

/** Per-pair log-probabilities and response lengths of a batch (all arrays of the same length). */
export interface PairLogps {
  policyChosen: ArrayLike<number>;
  policyRejected: ArrayLike<number>;
  refChosen: ArrayLike<number>;
  refRejected: ArrayLike<number>;
  /** Response (mask = 1) token counts of the chosen and rejected sequences; each ≥ 1. */
  lenChosen: ArrayLike<number>;
  lenRejected: ArrayLike<number>;
}

/** The loss's parameters. */
export interface DpoLossConfig {
  loss: DpoLossType;
  /** β (default 0.1 in `train.dpo`). */
  beta: number;
  /** SimPO's target reward margin γ (ignored by the others). */
  gamma: number;
}

/** Per-pair values: loss, rewards and the loss's derivative with respect to each log-probability. */
export interface PairLosses {
  loss: Float64Array;
  chosenReward: Float64Array;
  rejectedReward: Float64Array;
  /** ∂loss_i/∂π_c,i and ∂loss_i/∂π_r,i (of the pair's own loss, not of a mean). */
  dChosen: Float64Array;
  dRejected: Float64Array;
}

/** −log σ(z) = softplus(−z), stable for large |z|; exactly ln 2 at z = 0. */
export function negLogSigmoid(z: number): number {
  return z >= 0 ? Math.log1p(Math.exp(-z)) : -z + Math.log1p(Math.exp(z));
}

/** σ(z), stable for large |z|. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** Checks a loss configuration; an error names the bad option. */
export function checkLossConfig(c: DpoLossConfig, who = 'train.dpo'): void {
  if (!DPO_LOSSES.includes(c.loss)) throw new Error(`${who}: loss must be one of ${DPO_LOSSES.map((l) => `'${l}'`).join(', ')}, got ${JSON.stringify(c.loss)}`);
  if (typeof c.beta !== 'number' || !(c.beta > 0) || !Number.isFinite(c.beta)) throw new Error(`${who}: beta must be a positive number, got ${JSON.stringify(c.beta)}`);
  if (typeof c.gamma !== 'number' || !Number.isFinite(c.gamma)) throw new Error(`${who}: gamma must be a finite number, got ${JSON.stringify(c.gamma)}`);
}

/** The losses, rewards and gradients of every pair (see the module comment for the formulas). */
export function pairLosses(lp: PairLogps, c: DpoLossConfig): PairLosses {
  const n = lp.policyChosen.length;
  const out: PairLosses = {
    loss: new Float64Array(n),
    chosenReward: new Float64Array(n),
    rejectedReward: new Float64Array(n),
    dChosen: new Float64Array(n),
    dRejected: new Float64Array(n),
  };
  const { beta } = c;
  for (let i = 0; i < n; i++) {
    const pc = lp.policyChosen[i]!;
    const pr = lp.policyRejected[i]!;
    const nc = lp.lenChosen[i]!;
    const nr = lp.lenRejected[i]!;
    if (!(nc >= 1 && nr >= 1)) throw new Error(`dpo: pair ${i} has an empty response (${nc} chosen, ${nr} rejected tokens)`);
    switch (c.loss) {
      case 'sigmoid': {
        const rc = lp.refChosen[i]!;
        const rr = lp.refRejected[i]!;
        const z = beta * (pc - pr - (rc - rr));
        out.loss[i] = negLogSigmoid(z);
        // d/dz −log σ(z) = −σ(−z)
        const g = -sigmoid(-z) * beta;
        out.dChosen[i] = g;
        out.dRejected[i] = -g;
        out.chosenReward[i] = beta * (pc - rc);
        out.rejectedReward[i] = beta * (pr - rr);
        break;
      }
      case 'ipo': {
        const rc = lp.refChosen[i]! / nc;
        const rr = lp.refRejected[i]! / nr;
        const h = pc / nc - pr / nr - (rc - rr);
        const e = h - 1 / (2 * beta);
        out.loss[i] = e * e;
        out.dChosen[i] = (2 * e) / nc;
        out.dRejected[i] = (-2 * e) / nr;
        out.chosenReward[i] = beta * (pc / nc - rc);
        out.rejectedReward[i] = beta * (pr / nr - rr);
        break;
      }
      case 'simpo': {
        const z = (beta * pc) / nc - (beta * pr) / nr - c.gamma;
        out.loss[i] = negLogSigmoid(z);
        const g = -sigmoid(-z);
        out.dChosen[i] = (g * beta) / nc;
        out.dRejected[i] = (-g * beta) / nr;
        out.chosenReward[i] = (beta * pc) / nc;
        out.rejectedReward[i] = (beta * pr) / nr;
        break;
      }
      default: {
        const never: never = c.loss;
        throw new Error(`dpo: unknown loss ${String(never)}`);
      }
    }
  }
  return out;
}

/** Batch figures: means of the loss, the rewards, the margin, and the reward accuracy (ties count ½). */
export interface RewardSummary {
  loss: number;
  chosenReward: number;
  rejectedReward: number;
  rewardMargin: number;
  rewardAccuracy: number;
  pairs: number;
}

/** Sums of a set of pair losses, to merge micro-batches before taking means. */
export class RewardTotals {
  loss = 0;
  chosen = 0;
  rejected = 0;
  correct = 0;
  pairs = 0;

  add(p: PairLosses): void {
    for (let i = 0; i < p.loss.length; i++) {
      this.loss += p.loss[i]!;
      this.chosen += p.chosenReward[i]!;
      this.rejected += p.rejectedReward[i]!;
      const c = p.chosenReward[i]!;
      const r = p.rejectedReward[i]!;
      this.correct += c > r ? 1 : c === r ? 0.5 : 0;
      this.pairs++;
    }
  }

  summary(): RewardSummary {
    const n = Math.max(1, this.pairs);
    return {
      loss: this.loss / n,
      chosenReward: this.chosen / n,
      rejectedReward: this.rejected / n,
      rewardMargin: (this.chosen - this.rejected) / n,
      rewardAccuracy: this.correct / n,
      pairs: this.pairs,
    };
  }
}
