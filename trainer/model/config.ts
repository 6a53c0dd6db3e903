/**
 * Model shape defaults and validation for the trainer; parameter counts and FLOPs per token
 * through the planner's implementation (plan/params.ts), which trainer/torch/gpt.py
 * (`param_counts`, `flops_per_token`) matches term for term.
 */
import type { ModelConfig, ParamCounts } from '../api.ts';
import { countParams, flopsPerToken as planFlopsPerToken } from '../../plan/params.ts';

/** A ModelConfig with every default filled in. */
export type FullModelConfig = Required<ModelConfig>;

/** Fills the defaults (mlpRatio 4, tied head, learned positions, biases, eps 1e-5) and validates. */
export function fullModelConfig(c: ModelConfig): FullModelConfig {
  const out: FullModelConfig = {
    vocabSize: c.vocabSize,
    contextLength: c.contextLength,
    layers: c.layers,
    dModel: c.dModel,
    heads: c.heads,
    mlpRatio: c.mlpRatio ?? 4,
    tiedHead: c.tiedHead ?? true,
    positions: c.positions ?? 'learned',
    bias: c.bias ?? true,
    layerNormEps: c.layerNormEps ?? 1e-5,
  };
  for (const k of ['vocabSize', 'contextLength', 'layers', 'dModel', 'heads', 'mlpRatio'] as const) {
    const v = out[k];
    if (!Number.isInteger(v) || v < 1) throw new Error(`trainer: model.${k} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  if (out.dModel % out.heads) throw new Error(`trainer: model.dModel ${out.dModel} is not divisible by model.heads ${out.heads}`);
  if (out.positions === 'rotary' && (out.dModel / out.heads) % 2) throw new Error(`trainer: rotary positions need an even head size, got ${out.dModel / out.heads}`);
  if (out.positions !== 'learned' && out.positions !== 'rotary') throw new Error(`trainer: model.positions must be 'learned' or 'rotary', got ${JSON.stringify(out.positions)}`);
  if (!(out.layerNormEps > 0)) throw new Error(`trainer: model.layerNormEps must be > 0`);
  return out;
}

/**
 * Parameter counts: total, non-embedding (Kaplan's N) and matmul (the N of 6·N). One
 * implementation serves the trainer and the planner (plan/params.ts `countParams`, which also
 * breaks them down per component); trainer/torch/gpt.py mirrors it term for term.
 */
export function paramCounts(config: ModelConfig): ParamCounts {
  const { total, nonEmbedding, matmul } = countParams(fullModelConfig(config));
  return { total, nonEmbedding, matmul };
}

/**
 * Training FLOPs per token, forward + backward: 6·N over the matmul parameters (the output head
 * included, tied or not) plus 12·L·T·d for the attention scores and weighted values (PaLM,
 * appendix B, the figure nanoGPT's MFU uses). The planner's `flopsPerToken`, after validation.
 */
export function flopsPerToken(config: ModelConfig): number {
  return planFlopsPerToken(fullModelConfig(config)).total;
}
