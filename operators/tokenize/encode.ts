/**
 * `tokenize.encode({ tokenizer })`: sets `doc.tokens` to the document's token ids followed by the
 * end-of-text token. Runs per task in parallel; the tokenizer is loaded once per task.
 */
import { z } from 'zod';
import { parseConfig, registerOperator } from '../../engine/operator.ts';
import type { Doc, Json, Operator, StageRef } from '../../engine/types.ts';
import type { BpeTokenizer } from './bpe/tokenizer.ts';
import { loadTokenizer } from './load.ts';

/** Options of {@link encode}. */
export interface EncodeConfig {
  /**
   * The tokenizer: a trained-tokenizer stage (`p.stage('bpe', tokenize.trainBpe(…))`), an
   * encoding name (`cl100k_base`, `o200k_base`, …), or a path/URI of tokenizer files.
   */
  tokenizer: StageRef | string;
  /** Recognise special tokens written in the text (default false: they encode as plain text, so documents cannot inject an end-of-text). */
  allowSpecial?: boolean;
  /** Append the end-of-text token to every document (default true). */
  eos?: boolean;
  /** Operator instance name (default `tokenize.encode`). */
  name?: string;
}

const refSchema = z.object({ kind: z.literal('stage'), name: z.string(), pipeline: z.string() });
const schema = z.object({
  tokenizer: z.union([z.string().min(1), refSchema]),
  allowSpecial: z.boolean().default(false),
  eos: z.boolean().default(true),
  name: z.string().optional(),
});

/** Builds the `tokenize.encode` operator (see {@link EncodeConfig} for options and defaults). */
export function encode(config: EncodeConfig): Operator {
  const c = parseConfig('tokenize.encode', schema, config);
  const ref = typeof c.tokenizer === 'string' ? undefined : (c.tokenizer as StageRef);
  let tok: BpeTokenizer | undefined;
  return {
    kind: 'operator',
    type: 'tokenize.encode',
    name: c.name ?? 'tokenize.encode',
    version: '1',
    config: { tokenizer: ref ? { stage: ref.name } : (c.tokenizer as string), allowSpecial: c.allowSpecial, eos: c.eos },
    ...(ref ? { refs: [ref] } : {}),
    async *process(input, ctx) {
      if (!tok) {
        const spec = ref ? (await ctx.dataset(ref)).dir : (c.tokenizer as string);
        tok = await loadTokenizer(spec, ctx.storage);
        if (c.eos && tok.eotId === undefined) throw new Error(`tokenize.encode: tokenizer '${tok.name}' has no end-of-text special token; set eos: false or add one`);
        ctx.log(`tokenize.encode: ${tok.name}, vocabulary ${tok.vocabSize}, fingerprint ${tok.fingerprint.slice(0, 12)}`);
      }
      const t = tok;
      const opts = c.allowSpecial ? { allowedSpecial: 'all' as const } : {};
      const eos = c.eos ? t.eotId! : -1;
      for await (const batch of input) {
        const out: Doc[] = new Array(batch.length);
        for (let i = 0; i < batch.length; i++) {
          const doc = batch[i]!;
          const ids = t.encode(doc.text, opts);
          const n = ids.length + (eos >= 0 ? 1 : 0);
          // uint32 whatever the vocabulary: the width rule of formats/tokens.ts (stores narrow).
          const tokens = new Uint32Array(n);
          tokens.set(ids);
          if (eos >= 0) tokens[n - 1] = eos;
          out[i] = { ...doc, tokens };
        }
        yield out;
      }
    },
  };
}

registerOperator('tokenize.encode', 'BPE-encode doc.text into doc.tokens (+ end-of-text); config { tokenizer: "cl100k_base" | path }', (config: Json) => encode(parseConfig('tokenize.encode', schema, config)));
