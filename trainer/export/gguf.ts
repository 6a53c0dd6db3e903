/**
 * A Sluice GPT as a GGUF file for llama.cpp (and Ollama, LM Studio, node-llama-cpp).
 *
 * The architecture is the llama.cpp one that computes the same function:
 * - learned positions → `gpt2`: token + position embeddings, pre-LayerNorm blocks with a fused
 *   QKV projection, GELU (tanh approximation, as Sluice's) MLP, final LayerNorm; the output head
 *   is the token embedding unless the checkpoint has its own (`output.weight`).
 * - rotary positions → `gptneox` with `use_parallel_residual = false` (sequential residuals, as
 *   Sluice's blocks), RoPE over the whole head (`rope.dimension_count` = head size) in NeoX's
 *   half-rotation, base 10000 — exactly Sluice's rotate-half. Its output head is required, so a
 *   tied head is written as a copy of the embedding.
 *
 * Every other option maps exactly: `bias: false` is written as zero biases (both architectures
 * require them), `mlpRatio` as `feed_forward_length`, `layerNormEps` as
 * `attention.layer_norm_epsilon`. Matrices are stored `[in, out]` by Sluice and `[out, in]` row
 * order by ggml (its `ne = [in, out]`), so each is transposed. The QKV columns are already in
 * llama.cpp's order: all of Q, then K, then V, heads contiguous within each.
 */
import type { ByteSink, GgufTensor, GgufValue } from '../../formats/gguf.ts';
import { writeGguf } from '../../formats/gguf.ts';
import type { BpeTokenizer } from '../../operators/tokenize/bpe/tokenizer.ts';
import type { CheckpointMeta } from '../checkpoint.ts';
import { llamaVocab, type LlamaVocab } from './vocab.ts';
import type { CheckpointWeights } from './weights.ts';

/** Stored precision of the GGUF matrices (vectors stay float32, as llama.cpp's converter keeps them). */
export type GgufDtype = 'f32' | 'f16';

/** The llama.cpp architecture a checkpoint maps to. */
export function ggufArchitecture(meta: Pick<CheckpointMeta, 'model'>): 'gpt2' | 'gptneox' {
  const p = meta.model.positions;
  switch (p) {
    case 'learned':
      return 'gpt2';
    case 'rotary':
      return 'gptneox';
    default: {
      const never: never = p;
      throw new Error(`export: model.positions ${JSON.stringify(never)} has no llama.cpp architecture`);
    }
  }
}

/** What a GGUF export wrote. */
export interface GgufExportResult {
  architecture: 'gpt2' | 'gptneox';
  bytes: number;
  tensors: number;
  vocab: Pick<LlamaVocab, 'pre' | 'differentTokens' | 'differentExamples'> & { size: number; merges: number };
}

/**
 * Writes the checkpoint (`weights`, `meta`) and its tokenizer to `sink` as GGUF v3. `name` is
 * `general.name`; `dtype` the matrices' precision (default f32, exact); `chatTemplate`, the Jinja
 * source written as `tokenizer.chat_template` (default none).
 */
export async function writeCheckpointGguf(
  sink: ByteSink,
  meta: CheckpointMeta,
  weights: CheckpointWeights,
  tok: BpeTokenizer,
  opts: { name: string; dtype?: GgufDtype; chatTemplate?: string },
): Promise<GgufExportResult> {
  const c = weights.config;
  const arch = ggufArchitecture(meta);
  const dtype = opts.dtype ?? 'f32';
  const d = c.dModel;
  const hidden = c.mlpRatio * d;
  const vocab = llamaVocab(tok, c.vocabSize);
  const eot = meta.eotToken ?? tok.eotId;
  if (eot === undefined || eot === null) throw new Error(`export: neither the checkpoint nor its tokenizer names an end-of-text token (llama.cpp needs an end-of-sequence id)`);

  const u32 = (value: number): GgufValue => ({ type: 'u32', value });
  const kv: Array<[string, GgufValue]> = [
    ['general.architecture', { type: 'string', value: arch }],
    ['general.type', { type: 'string', value: 'model' }],
    ['general.name', { type: 'string', value: opts.name }],
    ['general.description', { type: 'string', value: `Sluice GPT (sluice.gpt/1, ${meta.backend} backend), step ${meta.step}, ${meta.tokens} training tokens` }],
    // llama_ftype: 0 = all F32, 1 = mostly F16
    ['general.file_type', u32(dtype === 'f16' ? 1 : 0)],
    ['general.alignment', u32(32)],
    [`${arch}.context_length`, u32(c.contextLength)],
    [`${arch}.embedding_length`, u32(d)],
    [`${arch}.feed_forward_length`, u32(hidden)],
    [`${arch}.block_count`, u32(c.layers)],
    [`${arch}.attention.head_count`, u32(c.heads)],
    [`${arch}.attention.head_count_kv`, u32(c.heads)],
    [`${arch}.attention.layer_norm_epsilon`, { type: 'f32', value: c.layerNormEps }],
    [`${arch}.vocab_size`, u32(c.vocabSize)],
  ];
  if (arch === 'gptneox') {
    kv.push([`${arch}.rope.dimension_count`, u32(d / c.heads)]);
    kv.push([`${arch}.rope.freq_base`, { type: 'f32', value: 10000 }]);
    kv.push([`${arch}.use_parallel_residual`, { type: 'bool', value: false }]);
  }
  kv.push(
    ['tokenizer.ggml.model', { type: 'string', value: 'gpt2' }],
    ['tokenizer.ggml.pre', { type: 'string', value: vocab.pre }],
    ['tokenizer.ggml.tokens', { type: 'array', of: 'string', values: vocab.tokens }],
    ['tokenizer.ggml.token_type', { type: 'array', of: 'i32', values: vocab.types }],
    ['tokenizer.ggml.merges', { type: 'array', of: 'string', values: vocab.merges }],
    // Sluice separates documents with the end-of-text token and prepends nothing: it is BOS, EOS
    // and EOT at once (as in GPT-2), and llama.cpp must not add a BOS of its own.
    ['tokenizer.ggml.bos_token_id', u32(eot)],
    ['tokenizer.ggml.eos_token_id', u32(eot)],
    ['tokenizer.ggml.eot_token_id', u32(eot)],
    ['tokenizer.ggml.add_bos_token', { type: 'bool', value: false }],
    ['tokenizer.ggml.add_eos_token', { type: 'bool', value: false }],
  );
  // The tokenizer's chat template, where llama.cpp (and a GGUF judge, llm/gguf.ts) look for it.
  if (opts.chatTemplate !== undefined) kv.push(['tokenizer.chat_template', { type: 'string', value: opts.chatTemplate }]);

  const tensors: GgufTensor[] = [];
  const add = (name: string, t: { shape: number[]; data: Float32Array }) => tensors.push({ name, shape: t.shape, data: t.data, type: t.shape.length > 1 ? dtype : 'f32' });
  add('token_embd.weight', weights.get('wte'));
  if (arch === 'gpt2') add('position_embd.weight', weights.get('wpe'));
  for (let i = 0; i < c.layers; i++) {
    const p = `h.${i}.`;
    const b = `blk.${i}.`;
    add(b + 'attn_norm.weight', weights.get(p + 'ln_1.weight'));
    add(b + 'attn_norm.bias', weights.bias(p + 'ln_1.bias', d));
    add(b + 'attn_qkv.weight', weights.transposed(p + 'attn.c_attn.weight'));
    add(b + 'attn_qkv.bias', weights.bias(p + 'attn.c_attn.bias', 3 * d));
    add(b + 'attn_output.weight', weights.transposed(p + 'attn.c_proj.weight'));
    add(b + 'attn_output.bias', weights.bias(p + 'attn.c_proj.bias', d));
    add(b + 'ffn_norm.weight', weights.get(p + 'ln_2.weight'));
    add(b + 'ffn_norm.bias', weights.bias(p + 'ln_2.bias', d));
    add(b + 'ffn_up.weight', weights.transposed(p + 'mlp.c_fc.weight'));
    add(b + 'ffn_up.bias', weights.bias(p + 'mlp.c_fc.bias', hidden));
    add(b + 'ffn_down.weight', weights.transposed(p + 'mlp.c_proj.weight'));
    add(b + 'ffn_down.bias', weights.bias(p + 'mlp.c_proj.bias', d));
  }
  add('output_norm.weight', weights.get('ln_f.weight'));
  add('output_norm.bias', weights.bias('ln_f.bias', d));
  if (!c.tiedHead) add('output.weight', weights.transposed('lm_head.weight'));
  else if (arch === 'gptneox') add('output.weight', weights.get('wte'));

  const bytes = await writeGguf(sink, kv, tensors);
  return {
    architecture: arch,
    bytes,
    tensors: tensors.length,
    vocab: { pre: vocab.pre, size: vocab.tokens.length, merges: vocab.merges.length, differentTokens: vocab.differentTokens, differentExamples: vocab.differentExamples },
  };
}
