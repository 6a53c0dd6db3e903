/**
 * Model shape defaults, validation, parameter counts and FLOPs per token. The counts match
 * trainer/torch/gpt.py (`param_counts`, `flops_per_token`) term for term.
 */
import type { ModelConfig, ParamCounts } from '../api.ts';

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

/** Parameter counts: total, non-embedding (Kaplan's N) and matmul (the N of 6·N). */
export function paramCounts(config: ModelConfig): ParamCounts {
  const c = fullModelConfig(config);
  const { dModel: d, layers: L, vocabSize: V, contextLength: T, mlpRatio: m } = c;
  const b = c.bias ? 1 : 0;
  const ln = (b ? 2 : 1) * d;
  const blockMatmul = d * 3 * d + d * d + 2 * d * m * d;
  const block = blockMatmul + b * (3 * d + d + m * d + d) + 2 * ln;
  const head = c.tiedHead ? 0 : d * V;
  const emb = V * d + (c.positions === 'learned' ? T * d : 0);
  const total = emb + L * block + ln + head;
  return { total, nonEmbedding: total - emb, matmul: L * blockMatmul + d * V };
}

/**
 * Training FLOPs per token, forward + backward: 6·N over the matmul parameters (the output head
 * included, tied or not) plus 12·L·T·d for the attention scores and weighted values (PaLM,
 * appendix B, the figure nanoGPT's MFU uses).
 */
export function flopsPerToken(config: ModelConfig): number {
  const c = fullModelConfig(config);
  return 6 * paramCounts(c).matmul + 12 * c.layers * c.contextLength * c.dModel;
}
