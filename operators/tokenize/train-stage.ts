/**
 * `tokenize.trainBpe(input, options)`: a barrier stage that trains a byte-level BPE tokenizer on
 * the text of its input docs and writes it as an artifact: `tokenizer.json` (HF),
 * `tokenizer.tiktoken` and `sluice-tokenizer.json`. `tokenize.encode({ tokenizer: ref })` reads it.
 */
import { z } from 'zod';
import { parseConfig } from '../../engine/operator.ts';
import type { CustomStage, StageRef } from '../../engine/types.ts';
import { parseTokenizerMeta, TOKENIZER_FILES, type TokenizerInfo } from '../../formats/tokenizer.ts';
import { BpeTrainer } from './bpe/trainer.ts';
import { tokenizerFiles } from './load.ts';

/** Options of {@link trainBpe}. */
export interface TrainBpeOptions {
  /** Vocabulary size, specials and the 256 byte tokens included (e.g. 4096, 32000). */
  vocabSize: number;
  /** Special tokens (default `['<|endoftext|>']`); the first is the end-of-text token. */
  specials?: string[];
  /** Pattern: preset `gpt2` (default), `cl100k`, `o200k`, or a regex in tiktoken's dialect. */
  pattern?: string;
  /** Train on at most this many bytes of text, the first docs in input order (default: all). */
  maxBytes?: number;
  /** Distinct pre-tokens kept in memory before the rarest are pruned (default 4,000,000). */
  maxWords?: number;
  /** Smallest pair count worth a merge (default 1). */
  minFrequency?: number;
}

const schema = z.object({
  vocabSize: z.number().int().min(257),
  specials: z.array(z.string().min(1)).default(['<|endoftext|>']),
  pattern: z.string().min(1).default('gpt2'),
  maxBytes: z.number().int().positive().optional(),
  maxWords: z.number().int().min(1000).default(4_000_000),
  minFrequency: z.number().int().min(1).default(1),
});

/** Declares the training stage; use as `p.stage('bpe', tokenize.trainBpe(docs, { vocabSize: 4096 }))`. */
export function trainBpe(input: StageRef | StageRef[], options: TrainBpeOptions): CustomStage<TokenizerInfo> {
  const c = parseConfig('tokenize.trainBpe', schema, options);
  const inputs = Array.isArray(input) ? input : [input];
  if (!inputs.length || inputs.some((r) => r?.kind !== 'stage')) throw new Error('tokenize.trainBpe: input must be a stage handle (or an array of them)');
  return {
    kind: 'custom',
    type: 'tokenize.trainBpe',
    name: 'tokenize.trainBpe',
    version: '1',
    config: { ...c, maxBytes: c.maxBytes ?? null },
    inputs,
    output: 'artifact',
    async run(ctx) {
      const trainer = new BpeTrainer({ vocabSize: c.vocabSize, specials: c.specials, pattern: c.pattern, maxWords: c.maxWords, minFrequency: c.minFrequency, name: `${ctx.pipeline}/${ctx.stage}` });
      const limit = c.maxBytes ?? Infinity;
      let bytes = 0;
      let docs = 0;
      const t0 = performance.now();
      outer: for (const ds of ctx.inputs) {
        for await (const batch of ds.readDocs()) {
          for (const d of batch) {
            if (bytes >= limit) break outer;
            const b = Buffer.byteLength(d.text, 'utf8');
            trainer.add(d.text);
            bytes += b;
            docs++;
            ctx.progress.add(1, b);
          }
        }
      }
      const countSeconds = (performance.now() - t0) / 1000;
      ctx.log(`counted ${docs} docs, ${bytes} bytes in ${countSeconds.toFixed(1)} s; merging`);
      const { definition, stats } = trainer.train();
      const training = { docs, bytes, countSeconds, ...stats };
      const files = tokenizerFiles(definition, training);
      for (const [name, data] of Object.entries(files)) await ctx.writeFile(name, data);
      const meta = parseTokenizerMeta(files[TOKENIZER_FILES.meta]!, TOKENIZER_FILES.meta);
      ctx.setInfo({
        vocabSize: meta.vocabSize,
        fingerprint: meta.fingerprint,
        eotToken: c.specials.length ? 0 : null,
        pattern: trainer.pattern,
        specials: definition.specials,
        merges: stats.merges,
        docs,
        bytes,
        distinctWords: stats.distinctWords,
        prunedWords: stats.prunedWords,
        summary: `vocabulary ${meta.vocabSize.toLocaleString('en-US')} (${stats.merges.toLocaleString('en-US')} merges) trained on ${docs.toLocaleString('en-US')} docs, ${(bytes / 1e6).toFixed(1)} MB`,
      });
      if (stats.prunedWords) ctx.log(`pruned ${stats.prunedWords} rare pre-tokens (count ≤ ${stats.pruneThreshold}) to stay within maxWords`);
    },
  };
}
