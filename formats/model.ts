/**
 * The model-shape contract between the planner (`plan/`), the trainer (`trainer/`, both backends)
 * and checkpoints (`config.json`): `ModelConfig`, its defaults, its validation, and the exact
 * parameter count and FLOPs per token. One implementation; `trainer/torch/gpt.py`
 * (`param_counts`, `flops_per_token`) mirrors it term for term.
 *
 * The model: decoder-only GPT — token embedding, learned positions (none with rotary), per block
 * pre-LayerNorm → causal self-attention (fused QKV + output projection) → pre-LayerNorm → GELU
 * MLP, a final LayerNorm, and the output head (shared with the token embedding when tied). `bias`
 * adds biases to every linear layer and LayerNorm except the output head, which never has one
 * (as in GPT-2/nanoGPT).
 */

/** How token positions enter the model. */
export type PositionEncoding = 'learned' | 'rotary';

/** Shape of the decoder-only transformer (pre-LayerNorm, GELU MLP, causal self-attention). */
export interface ModelConfig {
  /** Vocabulary size (the tokenizer's). */
  vocabSize: number;
  /** Context length in tokens. */
  contextLength: number;
  /** Number of transformer blocks. */
  layers: number;
  /** Residual width. */
  dModel: number;
  /** Attention heads; must divide `dModel`. */
  heads: number;
  /** MLP hidden width = `round(mlpRatio × dModel)` (default 4). */
  mlpRatio?: number;
  /** Output head shares the token embedding matrix (default true). */
  tiedHead?: boolean;
  /** Learned absolute position embeddings or rotary (RoPE) in attention (default `learned`). */
  positions?: PositionEncoding;
  /** Biases in linear layers and LayerNorms (default true). */
  bias?: boolean;
  /** LayerNorm epsilon (default 1e-5). */
  layerNormEps?: number;
}

/** A model shape whose vocabulary may come from the data (the shard manifest's `vocabSize`). */
export type ModelSpec = Omit<ModelConfig, 'vocabSize'> & { vocabSize?: number };

/** A ModelConfig with every default filled in. */
export type FullModelConfig = Required<ModelConfig>;

/** The defaults of the optional `ModelConfig` keys. */
export const MODEL_DEFAULTS = { mlpRatio: 4, tiedHead: true, positions: 'learned', bias: true, layerNormEps: 1e-5 } as const satisfies Omit<FullModelConfig, 'vocabSize' | 'contextLength' | 'layers' | 'dModel' | 'heads'>;

/**
 * Fills the defaults ({@link MODEL_DEFAULTS}: mlpRatio 4, tied head, learned positions, biases,
 * eps 1e-5) and validates the shape; errors name the key (`model.<key>`) and the value.
 */
export function fullModelConfig(c: ModelConfig): FullModelConfig {
  const out: FullModelConfig = {
    vocabSize: c.vocabSize,
    contextLength: c.contextLength,
    layers: c.layers,
    dModel: c.dModel,
    heads: c.heads,
    mlpRatio: c.mlpRatio ?? MODEL_DEFAULTS.mlpRatio,
    tiedHead: c.tiedHead ?? MODEL_DEFAULTS.tiedHead,
    positions: c.positions ?? MODEL_DEFAULTS.positions,
    bias: c.bias ?? MODEL_DEFAULTS.bias,
    layerNormEps: c.layerNormEps ?? MODEL_DEFAULTS.layerNormEps,
  };
  for (const k of ['vocabSize', 'contextLength', 'layers', 'dModel', 'heads'] as const) {
    const v = out[k];
    if (!Number.isInteger(v) || v < 1) throw new Error(`model.${k} must be a positive integer, got ${JSON.stringify(v)}`);
  }
  if (!(typeof out.mlpRatio === 'number' && out.mlpRatio > 0)) throw new Error(`model.mlpRatio must be positive, got ${JSON.stringify(out.mlpRatio)}`);
  if (out.dModel % out.heads) throw new Error(`model.dModel ${out.dModel} is not divisible by model.heads ${out.heads}`);
  if (out.positions !== 'learned' && out.positions !== 'rotary') throw new Error(`model.positions must be 'learned' or 'rotary', got ${JSON.stringify(out.positions)}`);
  if (out.positions === 'rotary' && (out.dModel / out.heads) % 2) throw new Error(`model: rotary positions need an even head size, got ${out.dModel / out.heads}`);
  if (!(out.layerNormEps > 0)) throw new Error(`model.layerNormEps must be > 0, got ${JSON.stringify(out.layerNormEps)}`);
  return out;
}

/** MLP hidden width: `round(mlpRatio × dModel)`. */
export function mlpHidden(config: ModelConfig): number {
  return Math.round((config.mlpRatio ?? MODEL_DEFAULTS.mlpRatio) * config.dModel);
}

/** Where the parameters of a configuration are, per component and in the three totals. */
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

/** Parameter counts of a model shape. */
export interface ParamCounts {
  /** Every trainable parameter (a tied head counted once). */
  total: number;
  /** Without token and position embeddings (Kaplan's N); a separate head is counted. */
  nonEmbedding: number;
  /** Parameters of matrix multiplications, the N in 6·N FLOPs per token (the head, tied or not, counted once). */
  matmul: number;
}

/** Counts the parameters of a model configuration exactly, per component (validates it first). */
export function countParams(config: ModelConfig): ParamBreakdown {
  const c = fullModelConfig(config);
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

/** Parameter counts: total, non-embedding (Kaplan's N) and matmul (the N of 6·N). */
export function paramCounts(config: ModelConfig): ParamCounts {
  const { total, nonEmbedding, matmul } = countParams(config);
  return { total, nonEmbedding, matmul };
}

/**
 * Training FLOPs per token, forward + backward: 6 per matmul weight (forward 2, backward 4; the
 * output head included, tied or not) plus causal self-attention's score and value products,
 * 12·L·T·d (PaLM appendix B convention, which counts the full T×T product without the causal
 * half; the trainer's MFU uses the same, as nanoGPT's does).
 */
export function flopsPerToken(config: ModelConfig): { total: number; dense: number; attention: number } {
  const c = fullModelConfig(config);
  const dense = 6 * countParams(c).matmul;
  const attention = 12 * c.layers * c.contextLength * c.dModel;
  return { total: dense + attention, dense, attention };
}
