/**
 * Compute-optimal allocation and loss prediction.
 *
 * Two rules: the 20-tokens-per-parameter rule of thumb (Hoffmann et al. 2022, "Training
 * Compute-Optimal Large Language Models", arXiv:2203.15556, Table 3: D/N ≈ 20 at their frontier),
 * and their parametric fit L(N, D) = E + A/N^α + B/D^β (Approach 3, eq. 10: E 1.69, A 406.4,
 * B 410.7, α 0.34, β 0.28). Both use C = 6·N·D training FLOPs.
 */

/** Coefficients of L(N, D) = E + A/N^α + B/D^β (N parameters, D training tokens, L in nats/token). */
export interface ParametricLaw {
  E: number;
  A: number;
  B: number;
  alpha: number;
  beta: number;
  /** Where the coefficients come from (a paper, or a sweep's output path). */
  source: string;
}

/** Hoffmann et al. 2022, Approach 3 (eq. 10). */
export const HOFFMANN: ParametricLaw = {
  E: 1.69,
  A: 406.4,
  B: 410.7,
  alpha: 0.34,
  beta: 0.28,
  source: 'Hoffmann et al. 2022 (arXiv:2203.15556), Approach 3, eq. 10',
};

/**
 * Besiroglu et al. 2024 ("Chinchilla Scaling: A replication attempt", arXiv:2404.10102) refit the
 * same data read off Hoffmann's Figure 4 and got coefficients consistent with approaches 1 and 2
 * (about 20 tokens per parameter at the frontier, where Hoffmann's eq. 10 gives far fewer).
 */
export const BESIROGLU: ParametricLaw = {
  E: 1.8172,
  A: 482.01,
  B: 2085.43,
  alpha: 0.3478,
  beta: 0.3658,
  source: 'Besiroglu et al. 2024 (arXiv:2404.10102), Table 1 replication',
};

/** Tokens per parameter of the rule of thumb. */
export const TOKENS_PER_PARAM = 20;

/** Predicted loss L(N, D) of a parametric law. */
export function predictLoss(law: ParametricLaw, params: number, tokens: number): number {
  positive('params', params);
  positive('tokens', tokens);
  return law.E + law.A / params ** law.alpha + law.B / tokens ** law.beta;
}

/** A model size and token count for a compute budget. */
export interface Allocation {
  /** Training FLOPs, C = 6·N·D. */
  flops: number;
  params: number;
  tokens: number;
  tokensPerParam: number;
}

/**
 * The 20-tokens-per-parameter allocation of a budget: C = 6·N·D and D = 20·N give
 * N = √(C/120), D = 20·N. `tokensPerParam` overrides the 20.
 */
export function allocateRuleOfThumb(flops: number, tokensPerParam = TOKENS_PER_PARAM): Allocation {
  positive('flops', flops);
  positive('tokensPerParam', tokensPerParam);
  const params = Math.sqrt(flops / (6 * tokensPerParam));
  const tokens = tokensPerParam * params;
  return { flops, params, tokens, tokensPerParam };
}

/**
 * The loss-minimising allocation of a budget under L(N, D) with C = 6·N·D (Hoffmann et al. eq. 4):
 * N_opt = G·(C/6)^a, D_opt = (C/6)^b / G, with G = (αA/(βB))^(1/(α+β)), a = β/(α+β), b = α/(α+β).
 */
export function allocateParametric(law: ParametricLaw, flops: number): Allocation & { loss: number } {
  positive('flops', flops);
  const { A, B, alpha, beta } = law;
  const G = ((alpha * A) / (beta * B)) ** (1 / (alpha + beta));
  const a = beta / (alpha + beta);
  const b = alpha / (alpha + beta);
  const params = G * (flops / 6) ** a;
  const tokens = (flops / 6) ** b / G;
  return { flops, params, tokens, tokensPerParam: tokens / params, loss: predictLoss(law, params, tokens) };
}

/**
 * The compute-optimal frontier of a law: for each budget, the optimal (N, D) and its loss.
 * Budgets default to 1e18…1e26 FLOPs, one per decade.
 */
export function frontier(law: ParametricLaw, budgets: number[] = decades(18, 26)): Array<Allocation & { loss: number }> {
  return budgets.map((c) => allocateParametric(law, c));
}

/** 10^from … 10^to, one per decade. */
export function decades(from: number, to: number): number[] {
  const out: number[] = [];
  for (let e = from; e <= to; e++) out.push(10 ** e);
  return out;
}

function positive(name: string, v: number): void {
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} must be a positive finite number, got ${v}`);
}
