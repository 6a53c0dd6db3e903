/**
 * `plan()`: the whole answer to "how big, how many tokens, how long, how much, what loss" for one
 * training run, used by `sluice plan` and importable as `plan` from 'sluice'.
 */
import type { ModelConfig } from '../formats/model.ts';
import { allocateParametric, allocateRuleOfThumb, HOFFMANN, predictLoss, TOKENS_PER_PARAM, type Allocation, type ParametricLaw } from './chinchilla.ts';
import { accelerator, type Accelerator } from './accelerators.ts';
import { DEFAULT_MFU, DEFAULT_PRICE, estimateCompute, sensitivity, type ComputeEstimate, type ComputeInputs, type SensitivityRow } from './compute.ts';
import { predictComputeLaw, type ComputeLaw } from './fit.ts';
import { flopsPerToken } from '../formats/model.ts';

/** What to plan. Give (params or model) and tokens; or a budget, with or without one of them. */
export interface PlanInputs extends Omit<ComputeInputs, 'tokens' | 'params'> {
  params?: number;
  tokens?: number;
  model?: ModelConfig;
  /** A compute budget in FLOPs. Alone: N and D are allocated; with N (or a model) or D: the other follows. */
  budgetFlops?: number;
  /** A budget in US$ of GPU time, turned into FLOPs at the given price, peak and MFU. */
  budgetUsd?: number;
  /** How a budget alone is split: `rule` (20 tokens/param; default) or `law` (the law's optimum). */
  allocate?: 'rule' | 'law';
  /** Tokens per parameter of the rule (default 20). */
  tokensPerParam?: number;
  /** Loss law (default Hoffmann et al.'s); a sweep's fitted law with `--fit`. */
  law?: ParametricLaw;
  /** A fitted L(C) law, when planning from a sweep. */
  computeLaw?: ComputeLaw & { source: string };
}

/** The result of `plan`. */
export interface PlanResult {
  /** How N and D were decided. */
  mode: 'given' | 'budget-rule' | 'budget-law' | 'budget-with-params' | 'budget-with-tokens';
  compute: ComputeEstimate;
  /** How each assumption moves the totals (first row: the base case). */
  sensitivity: SensitivityRow[];
  law: ParametricLaw;
  /** L(N, D) of the planned run under `law`, nats/token. */
  predictedLoss: number;
  /** L(C) of the planned run's 6·N·D under the fitted compute law, when one is given. */
  predictedLossFromCompute: number | null;
  /** For the same compute: the 20-tokens/param split and the law's loss-optimal split. */
  optimal: { ruleOfThumb: Allocation & { loss: number }; law: Allocation & { loss: number } };
}

/**
 * Plans one training run: FLOPs, GPU-hours, days, cost, energy, CO2 (see `estimateCompute`), the
 * predicted loss under a parametric law, the compute-optimal splits of the same compute, and a
 * sensitivity table. Defaults: H100 SXM, MFU 0.40, 1 GPU, $2/GPU-hour, Hoffmann et al.'s law.
 */
export function plan(inputs: PlanInputs): PlanResult {
  const law = inputs.law ?? HOFFMANN;
  const tpp = inputs.tokensPerParam ?? TOKENS_PER_PARAM;
  let budget = inputs.budgetFlops;
  if (inputs.budgetUsd !== undefined) {
    if (budget !== undefined) throw new Error('give budgetFlops or budgetUsd, not both');
    if (!(inputs.budgetUsd > 0)) throw new Error(`budgetUsd must be positive, got ${inputs.budgetUsd}`);
    const acc: Accelerator | null = inputs.peakFlops !== undefined && inputs.accelerator === undefined ? null : accelerator(inputs.accelerator ?? 'h100-sxm');
    const peak = inputs.peakFlops ?? acc!.peakFlops;
    const price = inputs.pricePerGpuHour ?? DEFAULT_PRICE;
    if (!(price > 0)) throw new Error('budgetUsd needs a positive pricePerGpuHour');
    budget = (inputs.budgetUsd / price) * 3600 * peak * (inputs.mfu ?? DEFAULT_MFU);
  }
  if (budget !== undefined && !(Number.isFinite(budget) && budget > 0)) throw new Error(`budgetFlops must be a positive number, got ${budget}`);

  let params = inputs.params;
  let tokens = inputs.tokens;
  let mode: PlanResult['mode'] = 'given';
  const hasSize = params !== undefined || inputs.model !== undefined;
  if (budget !== undefined) {
    if (hasSize && tokens !== undefined) throw new Error('a budget fixes what is missing: give it with params (or a model) or with tokens, not both');
    if (hasSize) {
      const perToken = inputs.model ? flopsPerToken(inputs.model).total : 6 * params!;
      tokens = budget / perToken;
      mode = 'budget-with-params';
    } else if (tokens !== undefined) {
      params = budget / (6 * tokens);
      mode = 'budget-with-tokens';
    } else {
      const allocate = inputs.allocate ?? 'rule';
      const a = allocate === 'law' ? allocateParametric(law, budget) : allocateRuleOfThumb(budget, tpp);
      params = a.params;
      tokens = a.tokens;
      mode = allocate === 'law' ? 'budget-law' : 'budget-rule';
    }
  } else if (!hasSize || tokens === undefined) {
    throw new Error('give params (or a model config) and tokens, or a budget (FLOPs or US$)');
  }

  const computeInputs: ComputeInputs = { ...inputs, params, tokens: tokens! };
  const compute = estimateCompute(computeInputs);
  const c6 = 6 * compute.params * compute.tokens;
  const rule = allocateRuleOfThumb(c6, tpp);
  return {
    mode,
    compute,
    sensitivity: sensitivity(computeInputs),
    law,
    predictedLoss: predictLoss(law, compute.params, compute.tokens),
    predictedLossFromCompute: inputs.computeLaw ? predictComputeLaw(inputs.computeLaw, c6) : null,
    optimal: {
      ruleOfThumb: { ...rule, loss: predictLoss(law, rule.params, rule.tokens) },
      law: allocateParametric(law, c6),
    },
  };
}
