/**
 * `shard.tokens({...})`: packs encoded documents into fixed-length token sequences, shuffles them
 * globally and deterministically, splits off a validation set and writes shards (`bin`, `parquet`
 * or `arrow`) with a manifest the trainer reads. A `StageExpansion`: a global shuffle needs all
 * input, and one task per shard makes a failed run resume shard by shard. Stage layout and file
 * format: format.ts.
 *
 * ```ts
 * const tok = p.stage('bpe', tokenize.trainBpe(clean, { vocabSize: 4096 }));
 * const enc = p.stage('encoded', clean, [tokenize.encode({ tokenizer: tok })]);
 * p.stage('shards', enc, shard.tokens({ tokenizer: tok, seqLen: 1024 }));
 * ```
 */
import { z } from 'zod';
import { parseConfig } from '../../engine/operator.ts';
import { S3_PART_SIZE } from '../../engine/storage/index.ts';
import type { CustomStage, Json, PipelineBuilder, StageExpansion, StageOptions, StageRef } from '../../engine/types.ts';
import type { ShardEntry, ShardManifest } from './format.ts';
import { packStage, type PackInfo } from './pack.ts';
import { writeStage, splitPlan } from './write.ts';

/** Options of {@link tokens}. */
export interface ShardTokensOptions {
  /** The tokenizer the docs were encoded with (stage ref or name/path): vocabulary size, EOS id and fingerprint come from it. */
  tokenizer: StageRef | string;
  /** Tokens per sequence (default 1024). */
  seqLen?: number;
  /** Tokens per shard, rounded down to whole sequences (default 100,000,000, nanoGPT's FineWeb shard size). */
  shardTokens?: number;
  /** Layout (default `bin`, what the trainer reads). */
  format?: 'bin' | 'parquet' | 'arrow';
  /** Shuffle sequences across all shards (default true). */
  shuffle?: boolean;
  /** Seed of the shuffle (default 0). */
  seed?: number;
  /** Fraction of sequences held out as the validation split (default 0.01; 0 for none). */
  valFraction?: number;
  /** Sequences per packed chunk in the pack stage: its memory is 4 × seqLen × this bytes (default: 16M tokens' worth). */
  chunkSequences?: number;
}

const MAX_OBJECT = 10_000 * S3_PART_SIZE;
const VERSION = '1';

const refSchema = z.object({ kind: z.literal('stage'), name: z.string(), pipeline: z.string() });
const schema = z.object({
  tokenizer: z.union([z.string().min(1), refSchema]),
  seqLen: z.number().int().min(1).max(1 << 24).default(1024),
  shardTokens: z.number().int().min(1).default(100_000_000),
  format: z.enum(['bin', 'parquet', 'arrow']).default('bin'),
  shuffle: z.boolean().default(true),
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  valFraction: z.number().min(0).max(0.5).default(0.01),
  chunkSequences: z.number().int().min(1).optional(),
});

/** Declares the shard stages (see the module comment); use as the operator of `p.stage(name, encoded, …)`. */
export function tokens(options: ShardTokensOptions): StageExpansion {
  const c = parseConfig('shard.tokens', schema, options);
  if (c.shardTokens < c.seqLen) throw new Error(`shard.tokens: config key 'shardTokens': ${c.shardTokens} is less than one sequence (seqLen ${c.seqLen})`);
  const shardSequences = Math.floor(c.shardTokens / c.seqLen);
  // A shard is one object: with 16 MiB multipart parts it must stay under 10,000 parts.
  const maxBytes = 1024 + shardSequences * c.seqLen * 4;
  if (maxBytes > MAX_OBJECT) throw new Error(`shard.tokens: config key 'shardTokens': a shard of ${c.shardTokens} tokens can reach ${maxBytes} bytes, over S3's 10,000 parts of ${S3_PART_SIZE} bytes; use at most ${Math.floor((MAX_OBJECT - 1024) / 4)}`);
  const chunkSequences = c.chunkSequences ?? Math.max(1, Math.floor((1 << 24) / c.seqLen));
  const tokenizer = c.tokenizer as StageRef | string;
  const tokRef = typeof tokenizer === 'string' ? undefined : tokenizer;
  return {
    kind: 'expansion',
    type: 'shard.tokens',
    name: 'shard.tokens',
    version: VERSION,
    config: { seqLen: c.seqLen, shardTokens: c.shardTokens, format: c.format, shuffle: c.shuffle, seed: c.seed, valFraction: c.valFraction, tokenizer: tokRef ? { stage: tokRef.name } : (tokenizer as string), chunkSequences },
    ...(tokRef ? { refs: [tokRef] } : {}),
    expand(p: PipelineBuilder, name: string, inputs: StageRef[], opts: StageOptions): StageRef {
      const pack = p.stage(`${name}.pack`, packStage(inputs, c.seqLen, chunkSequences, VERSION), undefined, opts);
      const write = p.stage(
        `${name}.write`,
        writeStage(pack, { layout: c.format, seqLen: c.seqLen, shardSequences, shuffle: c.shuffle, seed: c.seed, valFraction: c.valFraction, tokenizer }, VERSION),
        undefined,
        opts,
      );
      return p.stage(name, manifestStage(pack, write, { shuffle: c.shuffle, seed: c.seed, valFraction: c.valFraction, shardSequences }), undefined, opts);
    },
  };
}

/** The final stage: gathers the shard entries into one {@link ShardManifest} (`shards.json` + info). */
function manifestStage(pack: StageRef, write: StageRef, o: { shuffle: boolean; seed: number; valFraction: number; shardSequences: number }): CustomStage {
  return {
    kind: 'custom',
    type: 'shard.tokens.manifest',
    name: 'shard.tokens.manifest',
    version: VERSION,
    config: { ...o },
    inputs: [pack, write],
    output: 'artifact',
    async run(ctx) {
      const [packDs, writeDs] = ctx.inputs as [typeof ctx.inputs[0], typeof ctx.inputs[0]];
      const pi = packDs.manifest.info as unknown as PackInfo;
      const wi = (writeDs.manifest.info ?? {}) as Record<string, unknown>;
      const entries = Object.entries(wi)
        .filter(([k]) => k.startsWith('shard:'))
        .map(([, v]) => v as { split: 'train' | 'val'; k: number; path: string; docs?: string; sequences: number; tokens: number; bytes: number; sha256: string })
        .sort((a, b) => (a.split === b.split ? a.k - b.k : a.split === 'train' ? -1 : 1));
      const toEntry = (e: (typeof entries)[number]): ShardEntry => ({
        uri: ctx.storage.join(writeDs.dir, e.path),
        path: e.path,
        ...(e.docs ? { docs: e.docs } : {}),
        sequences: e.sequences,
        tokens: e.tokens,
        bytes: e.bytes,
        sha256: e.sha256,
      });
      const train = entries.filter((e) => e.split === 'train').map(toEntry);
      const val = entries.filter((e) => e.split === 'val').map(toEntry);
      const plan = splitPlan(pi.sequences, o);
      if (train.length !== plan.trainShards || val.length !== plan.valShards) throw new Error(`shard.tokens: expected ${plan.trainShards} train and ${plan.valShards} val shards, found ${train.length} and ${val.length}`);
      const sum = (l: ShardEntry[], k: 'sequences' | 'tokens') => l.reduce((a, s) => a + s[k], 0);
      const m: ShardManifest = {
        format: 'sluice.tokens/1',
        layout: wi.layout as ShardManifest['layout'],
        dtype: wi.dtype as ShardManifest['dtype'],
        seqLen: pi.seqLen,
        vocabSize: wi.vocabSize as number,
        eotToken: (wi.eotToken as number | null) ?? null,
        tokenizer: { name: wi.tokenizerName as string, fingerprint: wi.tokenizerFingerprint as string },
        shuffle: o.shuffle,
        seed: o.seed,
        valFraction: o.valFraction,
        docs: pi.docs,
        inputTokens: pi.inputTokens,
        droppedTokens: pi.droppedTokens,
        sequences: { train: sum(train, 'sequences'), val: sum(val, 'sequences') },
        tokens: { train: sum(train, 'tokens'), val: sum(val, 'tokens') },
        train,
        val,
      };
      await ctx.writeFile('shards.json', JSON.stringify(m, null, 1) + '\n');
      const fmt = (x: number) => x.toLocaleString('en-US');
      const summary = `${fmt(m.tokens.train)} train + ${fmt(m.tokens.val)} validation tokens in ${fmt(m.sequences.train + m.sequences.val)} sequences of ${m.seqLen} (${m.dtype}, ${m.layout}), from ${fmt(m.docs)} docs`;
      ctx.setInfo({ ...(m as unknown as Record<string, Json>), summary });
    },
  };
}
