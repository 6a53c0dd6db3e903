/**
 * A Sluice GPT in the Hugging Face GPT-2 layout: the files `transformers`'
 * `GPT2LMHeadModel.from_pretrained(dir)` and `AutoTokenizer.from_pretrained(dir)` read, and that
 * vLLM and the conversion scripts of llama.cpp/MLX take as input.
 *
 * - `model.safetensors`: `transformer.wte.weight`, `transformer.wpe.weight`,
 *   `transformer.h.<i>.{ln_1,attn.c_attn,attn.c_proj,ln_2,mlp.c_fc,mlp.c_proj}.{weight,bias}`,
 *   `transformer.ln_f.{weight,bias}`, and `lm_head.weight` (`[vocab, d]`) only for a separate
 *   head (a tied one is the embedding, which `transformers` re-ties on load). GPT-2's `Conv1D`
 *   stores matrices `[in, out]`, as Sluice does: they are copied as they are. Metadata
 *   `format: pt`, which `transformers` requires.
 * - `config.json`: `GPT2Config` keys; `activation_function: gelu_new` (the tanh GELU Sluice
 *   trains with), no dropout, `n_inner` = the MLP width.
 * - the tokenizer: `tokenizer.json`, `tokenizer_config.json`, `special_tokens_map.json`, and
 *   `generation_config.json` with the end-of-text id.
 *
 * GPT-2 has learned positions only: a rotary model is refused (export it as GGUF, whose
 * `gptneox` architecture has rotary). `bias: false` is written as zero biases (exact).
 */
import { toHfTokenizer } from '../../operators/tokenize/bpe/hf-format.ts';
import type { BpeTokenizer } from '../../operators/tokenize/bpe/tokenizer.ts';
import { encodeSafetensors, type CheckpointMeta, type NamedArray } from '../checkpoint.ts';
import { mergeList } from './vocab.ts';
import type { CheckpointWeights } from './weights.ts';

/** The files of the export, name → contents. */
export type HfFiles = Record<string, Uint8Array | string>;

/** The HF GPT-2 tensors of a checkpoint (names → `[in, out]` matrices, vectors, embeddings). */
export function hfGpt2Tensors(weights: CheckpointWeights): Map<string, NamedArray> {
  const c = weights.config;
  if (c.positions !== 'learned') throw new Error(`export: model.positions is '${c.positions}'; the Hugging Face GPT-2 layout has learned positions only (export this model with --format gguf)`);
  const d = c.dModel;
  const hidden = c.mlpRatio * d;
  const out = new Map<string, NamedArray>();
  out.set('transformer.wte.weight', weights.get('wte'));
  out.set('transformer.wpe.weight', weights.get('wpe'));
  for (let i = 0; i < c.layers; i++) {
    const p = `h.${i}.`;
    const t = `transformer.h.${i}.`;
    const sizes: Array<[string, number]> = [
      ['ln_1', d],
      ['attn.c_attn', 3 * d],
      ['attn.c_proj', d],
      ['ln_2', d],
      ['mlp.c_fc', hidden],
      ['mlp.c_proj', d],
    ];
    for (const [m, size] of sizes) {
      out.set(`${t}${m}.weight`, weights.get(`${p}${m}.weight`));
      out.set(`${t}${m}.bias`, weights.bias(`${p}${m}.bias`, size));
    }
  }
  out.set('transformer.ln_f.weight', weights.get('ln_f.weight'));
  out.set('transformer.ln_f.bias', weights.bias('ln_f.bias', d));
  if (!c.tiedHead) out.set('lm_head.weight', weights.transposed('lm_head.weight'));
  return out;
}

/** `config.json` for `GPT2LMHeadModel`. */
export function hfGpt2Config(meta: CheckpointMeta, weights: CheckpointWeights, eot: number | null): Record<string, unknown> {
  const c = weights.config;
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: c.vocabSize,
    n_positions: c.contextLength,
    n_ctx: c.contextLength,
    n_embd: c.dModel,
    n_layer: c.layers,
    n_head: c.heads,
    n_inner: c.mlpRatio * c.dModel,
    activation_function: 'gelu_new',
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
    layer_norm_epsilon: c.layerNormEps,
    initializer_range: 0.02,
    scale_attn_weights: true,
    scale_attn_by_inverse_layer_idx: false,
    reorder_and_upcast_attn: false,
    use_cache: true,
    bos_token_id: eot,
    eos_token_id: eot,
    tie_word_embeddings: c.tiedHead,
    torch_dtype: 'float32',
    sluice: { format: meta.format, backend: meta.backend, step: meta.step, tokens: meta.tokens, finalLoss: meta.finalLoss, valLoss: meta.valLoss },
  };
}

/** Every file of the Hugging Face export of a checkpoint. */
export function hfGpt2Files(meta: CheckpointMeta, weights: CheckpointWeights, tok: BpeTokenizer | null): HfFiles {
  const tensors = hfGpt2Tensors(weights);
  const eot = meta.eotToken ?? tok?.eotId ?? null;
  const files: HfFiles = {
    'model.safetensors': encodeSafetensors(tensors, { format: 'pt' }),
    'config.json': JSON.stringify(hfGpt2Config(meta, weights, eot), null, 2) + '\n',
    'generation_config.json': JSON.stringify({ bos_token_id: eot, eos_token_id: eot }, null, 2) + '\n',
  };
  if (tok) {
    if (tok.vocabSize > weights.config.vocabSize) throw new Error(`export: the tokenizer has ${tok.vocabSize} ids but the model only ${weights.config.vocabSize} embedding rows`);
    const def = tok.definition;
    files['tokenizer.json'] = toHfTokenizer({ ...def, merges: mergeList(def) });
    const eotText = eot === null ? null : ([...tok.specials].find(([, id]) => id === eot)?.[0] ?? null);
    const special = eotText ? { bos_token: eotText, eos_token: eotText, unk_token: eotText } : {};
    files['special_tokens_map.json'] = JSON.stringify(special, null, 2) + '\n';
    files['tokenizer_config.json'] = JSON.stringify({ tokenizer_class: 'PreTrainedTokenizerFast', model_max_length: weights.config.contextLength, add_prefix_space: false, clean_up_tokenization_spaces: false, ...special }, null, 2) + '\n';
  }
  return files;
}
