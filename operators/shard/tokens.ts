/**
 * `shard.tokens({...})`: packs encoded documents into fixed-length token sequences, shuffles them
 * globally and deterministically, splits off a validation set and writes shards (`bin`, `parquet`
 * or `arrow`) with a manifest the trainer reads; or, with `format: 'megatron'`, writes whole
 * documents as Megatron-LM indexed datasets (`.bin` + `.idx`, see
 * {@link ShardTokensOptions.format}). A `StageExpansion`: a global shuffle needs all input, and
 * one task per shard makes a failed run resume shard by shard. Stage layout and file format:
 * formats/shards.ts (megatron: megatron.ts and formats/megatron.ts).
 *
 * ```ts
 * const tok = p.stage('bpe', tokenize.trainBpe(clean, { vocabSize: 4096 }));
 * const enc = p.stage('encoded', clean, [tokenize.encode({ tokenizer: tok })]);
 * p.stage('shards', enc, shard.tokens({ tokenizer: tok, seqLen: 1024 }));
 * ```
 */
import { z } from 'zod';
import { parseConfig } from '../../engine/operator.ts';
import { s3PartSize } from '../../engine/storage/s3-parts.ts';
import type { CustomStage, ManifestFile, PipelineBuilder, StageExpansion, StageOptions, StageRef } from '../../engine/types.ts';
import { DOC_INDEX_EXT, MASK_EXT, parseShardFileName, SHARD_EXT, shardName, type PackInfo, type ShardEntry, type ShardManifest, type ShardsInfo, type WriteInfo } from '../../formats/shards.ts';
import { packStage } from './pack.ts';
import { writeStage, splitPlan } from './write.ts';
import { megatronWriteStage } from './megatron.ts';

/** The shard counts the megatron writer recorded, in `splitPlan`'s shape. */
function megatronCounts(wi: WriteInfo): { trainShards: number; valShards: number } {
  if (!wi.shardCounts) throw new Error(`shard.tokens: the megatron write stage did not record its shard counts`);
  return { trainShards: wi.shardCounts.train, valShards: wi.shardCounts.val };
}

/** Options of {@link tokens}. */
export interface ShardTokensOptions {
  /** The tokenizer the docs were encoded with (stage ref or name/path): vocabulary size, EOS id and fingerprint come from it. */
  tokenizer: StageRef | string;
  /** Tokens per sequence (default 1024). Not accepted with `format: 'megatron'`, whose sequences are whole documents. */
  seqLen?: number;
  /** Tokens per shard, rounded down to whole sequences (default 100,000,000, nanoGPT's FineWeb shard size); megatron: at most this many tokens of whole documents (a longer document gets a shard of its own). */
  shardTokens?: number;
  /**
   * Layout (default `bin`, what the trainer reads). `megatron`: Megatron-LM / NeMo indexed
   * datasets, a `<split>-NNNNN.bin` + `.idx` pair (`MMIDIDX` version 1) per shard, uint16 tokens
   * when the vocabulary has ≤ 65,536 ids, else int32. One sequence per document, documents whole
   * and not packed (Megatron-LM cuts its `--seq-length` samples at training time); `shuffle`,
   * `seed` and `valFraction` then apply to documents. Pass a shard's `prefix` (from the manifest)
   * as Megatron's `--data-path`. Layout: formats/megatron.ts.
   */
  format?: 'bin' | 'parquet' | 'arrow' | 'megatron';
  /** Shuffle sequences across all shards (default true). */
  shuffle?: boolean;
  /** Seed of the shuffle (default 0). */
  seed?: number;
  /** Fraction of sequences held out as the validation split (default 0.01; 0 for none). */
  valFraction?: number;
  /** Sequences per packed chunk in the pack stage: its memory is 5 × seqLen × this bytes (default: 16M tokens' worth). */
  chunkSequences?: number;
  /**
   * How documents fill the `seqLen`-token rows (default `greedy`):
   * - `greedy`: concatenate all docs and cut every `seqLen` tokens (docs straddle rows; no pads).
   * - `bfd`: best-fit decreasing, no doc split: longest first, each into the row it fits most
   *   tightly (within windows of one pack chunk, `chunkSequences` rows); rows are padded.
   * - `none`: one doc per row, padded.
   * With `bfd` and `none`, pads are the tokenizer's end-of-text id at loss mask 0, a doc's first
   * token is at mask 0 (nothing of its document precedes it), and a doc longer than `seqLen` is
   * dropped with the audit reason `shard.docTooLong`.
   */
  pack?: 'bfd' | 'greedy' | 'none';
  /**
   * The attention the trainer uses on these shards unless its own `attention` option says
   * otherwise (default `causal`): `document` never lets a token attend across a document
   * boundary (the `.docs` index), `causal` attends over the whole row. Recorded in the manifest.
   */
  attention?: 'document' | 'causal';
}

const VERSION = '1';

const refSchema = z.object({ kind: z.literal('stage'), name: z.string(), pipeline: z.string() });
const schema = z.object({
  tokenizer: z.union([z.string().min(1), refSchema]),
  seqLen: z.number().int().min(1).max(1 << 24).default(1024),
  shardTokens: z.number().int().min(1).default(100_000_000),
  format: z.enum(['bin', 'parquet', 'arrow', 'megatron']).default('bin'),
  shuffle: z.boolean().default(true),
  seed: z.number().int().min(0).max(0xffffffff).default(0),
  valFraction: z.number().min(0).max(0.5).default(0.01),
  chunkSequences: z.number().int().min(1).optional(),
  pack: z.enum(['bfd', 'greedy', 'none']).default('greedy'),
  attention: z.enum(['document', 'causal']).default('causal'),
});

/** Declares the shard stages (see the module comment); use as the operator of `p.stage(name, encoded, …)`. */
export function tokens(options: ShardTokensOptions): StageExpansion<ShardsInfo> {
  const c = parseConfig('shard.tokens', schema, options);
  const layout = c.format;
  if (layout === 'megatron') return megatronTokens(c, options);
  if (c.shardTokens < c.seqLen) throw new Error(`shard.tokens: config key 'shardTokens': ${c.shardTokens} is less than one sequence (seqLen ${c.seqLen})`);
  const shardSequences = Math.floor(c.shardTokens / c.seqLen);
  checkShardFitsS3(c.shardTokens, 1024 + shardSequences * c.seqLen * 4, 1024);
  const chunkSequences = c.chunkSequences ?? Math.max(1, Math.floor((1 << 24) / c.seqLen));
  const tokenizer = c.tokenizer as StageRef | string;
  const tokRef = typeof tokenizer === 'string' ? undefined : tokenizer;
  return {
    kind: 'expansion',
    type: 'shard.tokens',
    name: 'shard.tokens',
    version: VERSION,
    // The defaults (greedy, causal) stay out of the config: shard sets declared before these options existed keep their fingerprints.
    config: { seqLen: c.seqLen, shardTokens: c.shardTokens, format: c.format, shuffle: c.shuffle, seed: c.seed, valFraction: c.valFraction, tokenizer: tokRef ? { stage: tokRef.name } : (tokenizer as string), chunkSequences, ...(c.pack !== 'greedy' ? { pack: c.pack } : {}), ...(c.attention !== 'causal' ? { attention: c.attention } : {}) },
    ...(tokRef ? { refs: [tokRef] } : {}),
    expand(p: PipelineBuilder, name: string, inputs: StageRef[], opts: StageOptions): StageRef<ShardsInfo> {
      const pack = p.stage(`${name}.pack`, packStage(inputs, { seqLen: c.seqLen, chunkSequences, pack: c.pack, tokenizer }, VERSION), undefined, opts);
      const write = p.stage(
        `${name}.write`,
        writeStage(pack, { layout, seqLen: c.seqLen, shardSequences, shuffle: c.shuffle, seed: c.seed, valFraction: c.valFraction, tokenizer }, VERSION),
        undefined,
        opts,
      );
      return p.stage(name, manifestStage(pack, write, { shuffle: c.shuffle, seed: c.seed, valFraction: c.valFraction, shardSequences, ...(c.attention !== 'causal' ? { attention: c.attention } : {}) }), undefined, opts);
    },
  };
}

/**
 * A shard is one object: with the multipart part size ($SLUICE_S3_PART_SIZE, default 16 MiB) it
 * must fit S3's 10,000 parts. `maxBytes` is the largest the shard can get (tokens at 4 bytes plus
 * `headerBytes`); the error names the largest `shardTokens` that fits.
 */
function checkShardFitsS3(shardTokens: number, maxBytes: number, headerBytes: number): void {
  const partSize = s3PartSize();
  const maxObject = 10_000 * partSize;
  if (maxBytes > maxObject) throw new Error(`shard.tokens: config key 'shardTokens': a shard of ${shardTokens} tokens can reach ${maxBytes} bytes, over S3's 10,000 parts of ${partSize} bytes; use at most ${Math.floor((maxObject - headerBytes) / 4)}`);
}

/** `shard.tokens` in the megatron layout: pack (seqLen 1: the plain token stream) → Megatron writer → manifest. */
function megatronTokens(c: z.output<typeof schema>, options: ShardTokensOptions): StageExpansion<ShardsInfo> {
  if (options.seqLen !== undefined) throw new Error(`shard.tokens: config key 'seqLen': not used by format 'megatron' (one sequence per whole document; Megatron-LM cuts --seq-length samples itself)`);
  if (c.pack !== 'greedy') throw new Error(`shard.tokens: config key 'pack': not used by format 'megatron' (one sequence per whole document, unpacked)`);
  checkShardFitsS3(c.shardTokens, c.shardTokens * 4, 0);
  const chunkSequences = c.chunkSequences ?? 1 << 24;
  const tokenizer = c.tokenizer as StageRef | string;
  const tokRef = typeof tokenizer === 'string' ? undefined : tokenizer;
  return {
    kind: 'expansion',
    type: 'shard.tokens',
    name: 'shard.tokens',
    version: VERSION,
    config: { seqLen: 0, shardTokens: c.shardTokens, format: c.format, shuffle: c.shuffle, seed: c.seed, valFraction: c.valFraction, tokenizer: tokRef ? { stage: tokRef.name } : (tokenizer as string), chunkSequences },
    ...(tokRef ? { refs: [tokRef] } : {}),
    expand(p: PipelineBuilder, name: string, inputs: StageRef[], opts: StageOptions): StageRef<ShardsInfo> {
      const pack = p.stage(`${name}.pack`, packStage(inputs, { seqLen: 1, chunkSequences, pack: 'greedy', tokenizer }, VERSION), undefined, opts);
      const write = p.stage(`${name}.write`, megatronWriteStage(pack, { shardTokens: c.shardTokens, shuffle: c.shuffle, seed: c.seed, valFraction: c.valFraction, tokenizer }, VERSION), undefined, opts);
      return p.stage(name, manifestStage(pack, write, { shuffle: c.shuffle, seed: c.seed, valFraction: c.valFraction, shardSequences: 0 }), undefined, opts);
    },
  };
}

/** The final stage: gathers the shards the write stage wrote into one {@link ShardManifest} (`shards.json` + info). */
function manifestStage(pack: StageRef<PackInfo>, write: StageRef<WriteInfo>, o: { shuffle: boolean; seed: number; valFraction: number; shardSequences: number; attention?: 'document' | 'causal' }): CustomStage<ShardsInfo, [StageRef<PackInfo>, StageRef<WriteInfo>]> {
  return {
    kind: 'custom',
    type: 'shard.tokens.manifest',
    name: 'shard.tokens.manifest',
    version: VERSION,
    config: { ...o },
    inputs: [pack, write],
    output: 'artifact',
    async run(ctx) {
      const [packDs, writeDs] = ctx.inputs;
      const pi = packDs.manifest.info;
      const wi = writeDs.manifest.info;
      if (!pi || !wi) throw new Error(`shard.tokens: stage '${pi ? writeDs.stage : packDs.stage}' has no info in its manifest`);
      // Each shard is a file of the write stage: its manifest entry has the sequences (rows), bytes and sha256.
      const files = writeDs.manifest.files;
      const paths = new Set(files.map((f) => f.path));
      const indexExt = DOC_INDEX_EXT[wi.layout];
      const shards = files
        .map((f) => ({ f, name: parseShardFileName(f.path) }))
        .filter((x): x is { f: ManifestFile; name: NonNullable<ReturnType<typeof parseShardFileName>> } => x.name !== null && x.name.ext === SHARD_EXT[wi.layout])
        .sort((a, b) => (a.name.split === b.name.split ? a.name.k - b.name.k : a.name.split === 'train' ? -1 : 1));
      const megatron = wi.layout === 'megatron';
      // Megatron shards are whole documents: their token count is the .bin's size over the token width.
      const width = wi.dtype === 'uint16' ? 2 : 4;
      const toEntry = ({ f, name }: (typeof shards)[number]): ShardEntry => {
        const stem = shardName(name.split, name.k);
        const docs = indexExt ? `${stem}.${indexExt}` : null;
        const mask = wi.layout === 'bin' ? `${stem}.${MASK_EXT}` : null;
        return {
          uri: ctx.storage.join(writeDs.dir, f.path),
          path: f.path,
          ...(docs && paths.has(docs) ? { docs } : {}),
          ...(mask && paths.has(mask) ? { mask } : {}),
          ...(megatron ? { prefix: ctx.storage.join(writeDs.dir, stem) } : {}),
          sequences: f.rows,
          tokens: megatron ? f.bytes / width : f.rows * pi.seqLen,
          bytes: f.bytes,
          sha256: f.sha256,
        };
      };
      const train = shards.filter((s) => s.name.split === 'train').map(toEntry);
      const val = shards.filter((s) => s.name.split === 'val').map(toEntry);
      // Megatron shards are cut by document lengths: the writer reports how many it planned.
      const plan = megatron ? megatronCounts(wi) : splitPlan(pi.sequences, o);
      if (train.length !== plan.trainShards || val.length !== plan.valShards) throw new Error(`shard.tokens: expected ${plan.trainShards} train and ${plan.valShards} val shards, found ${train.length} and ${val.length}`);
      const sum = (l: ShardEntry[], k: 'sequences' | 'tokens') => l.reduce((a, s) => a + s[k], 0);
      const m: ShardManifest = {
        format: 'sluice.tokens/1',
        layout: wi.layout,
        dtype: wi.dtype,
        seqLen: megatron ? 0 : pi.seqLen,
        vocabSize: wi.vocabSize,
        eotToken: wi.eotToken,
        tokenizer: { name: wi.tokenizerName, fingerprint: wi.tokenizerFingerprint },
        shuffle: o.shuffle,
        seed: o.seed,
        valFraction: o.valFraction,
        pack: pi.pack ?? 'greedy',
        attention: o.attention ?? 'causal',
        padToken: pi.padToken ?? null,
        padTokens: pi.padTokens ?? 0,
        maskedTokens: pi.masks ? (pi.maskedTokens ?? 0) : 0,
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
      const units = m.layout === 'megatron' ? 'documents' : `sequences of ${m.seqLen}`;
      const total = (m.sequences.train + m.sequences.val) * m.seqLen;
      const padNote = m.padTokens && total ? `, ${m.pack} packing ${(((total - m.padTokens) / total) * 100).toFixed(1)}% non-pad` : '';
      const summary = `${fmt(m.tokens.train)} train + ${fmt(m.tokens.val)} validation tokens in ${fmt(m.sequences.train + m.sequences.val)} ${units} (${m.dtype}, ${m.layout}${padNote}), from ${fmt(m.docs)} docs`;
      ctx.setInfo({ ...m, summary });
    },
  };
}
