/**
 * Exact parameter count of the trainer's GPT (`trainer/api.ts` `ModelConfig`): token embedding,
 * learned positions (none with rotary), per block pre-LayerNorm → causal self-attention (fused QKV
 * + output projection) → pre-LayerNorm → GELU MLP, a final LayerNorm, and the output head (shared
 * with the token embedding when tied). `bias` adds biases to every linear layer and LayerNorm
 * except the output head, which never has one (as in GPT-2/nanoGPT).
 */
import type { ModelConfig } from '../trainer/api.ts';

/** Where the parameters of a configuration are, per component and in the trainer's three totals. */
export interface ParamBreakdown {
  tokenEmbedding: number;
  positionEmbedding: number;
  /** All blocks: LayerNorms. */
  blockNorms: number;
  /** All blocks: QKV and output projections, weights and biases. */
  attention: number;
  /** All blocks: the two MLP layers, weights and biases. */
  mlp: number;
  finalNorm: number;
  /** The output head's own matrix: 0 when tied to the token embedding. */
  head: number;
  /** Every trainable parameter (a tied head counted once). */
  total: number;
  /** Without token and position embeddings (Kaplan's N); an untied head is counted. */
  nonEmbedding: number;
  /** Weights of matrix multiplications, the N of 6·N FLOPs per token (the head counted once, tied or not). */
  matmul: number;
}

/** The config with the trainer's defaults filled in (mlpRatio 4, tied head, learned positions, biases). */
export function withDefaults(config: ModelConfig): Required<Omit<ModelConfig, 'layerNormEps'>> {
  const c = {
    vocabSize: config.vocabSize,
    contextLength: config.contextLength,
    layers: config.layers,
    dModel: config.dModel,
    heads: config.heads,
    mlpRatio: config.mlpRatio ?? 4,
    tiedHead: config.tiedHead ?? true,
    positions: config.positions ?? 'learned',
    bias: config.bias ?? true,
  };
  for (const k of ['vocabSize', 'contextLength', 'layers', 'dModel', 'heads'] as const) {
    if (!Number.isInteger(c[k]) || c[k] <= 0) throw new Error(`model config: '${k}' must be a positive integer, got ${c[k]}`);
  }
  if (!(c.mlpRatio > 0)) throw new Error(`model config: 'mlpRatio' must be positive, got ${c.mlpRatio}`);
  if (c.dModel % c.heads !== 0) throw new Error(`model config: 'heads' (${c.heads}) must divide 'dModel' (${c.dModel})`);
  if (c.positions !== 'learned' && c.positions !== 'rotary') throw new Error(`model config: 'positions' must be 'learned' or 'rotary', got '${c.positions}'`);
  return c;
}

/** MLP hidden width: `round(mlpRatio × dModel)`. */
export function mlpHidden(config: ModelConfig): number {
  return Math.round((config.mlpRatio ?? 4) * config.dModel);
}

/** Counts the parameters of a model configuration exactly. */
export function countParams(config: ModelConfig): ParamBreakdown {
  const c = withDefaults(config);
  const d = c.dModel;
  const h = mlpHidden(c);
  const V = c.vocabSize;
  const L = c.layers;
  const b = c.bias ? 1 : 0;
  const norm = d + b * d; // gain (+ shift)
  const tokenEmbedding = V * d;
  const positionEmbedding = c.positions === 'learned' ? c.contextLength * d : 0;
  const blockNorms = L * 2 * norm;
  const attention = L * (3 * d * d + b * 3 * d + d * d + b * d);
  const mlp = L * (d * h + b * h + h * d + b * d);
  const finalNorm = norm;
  const head = c.tiedHead ? 0 : V * d;
  const total = tokenEmbedding + positionEmbedding + blockNorms + attention + mlp + finalNorm + head;
  return {
    tokenEmbedding,
    positionEmbedding,
    blockNorms,
    attention,
    mlp,
    finalNorm,
    head,
    total,
    nonEmbedding: total - tokenEmbedding - positionEmbedding,
    matmul: L * (4 * d * d + 2 * d * h) + V * d,
  };
}

/**
 * Training FLOPs per token of a configuration: 6 per matmul weight (forward 2, backward 4) plus
 * causal self-attention's score and value products, 12·L·T·d (PaLM appendix B convention, which
 * counts the full T×T product without the causal half; the trainer's MFU uses the same).
 */
export function flopsPerToken(config: ModelConfig): { total: number; dense: number; attention: number } {
  const c = withDefaults(config);
  const dense = 6 * countParams(c).matmul;
  const attention = 12 * c.layers * c.contextLength * c.dModel;
  return { total: dense + attention, dense, attention };
}
