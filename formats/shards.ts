/**
 * Token shards (`sluice.tokens/1`): what `shard.tokens` writes and the trainer, `evaluate` and
 * `scaling.sweep` read, and the contracts between its three stages. Keep this stable: external
 * tools depend on it.
 *
 * ## Stages
 * `p.stage('shards', encoded, shard.tokens({...}))` declares three stages:
 * - `shards.pack` (1 task): streams the encoded docs in input order (only their `id`, `url`,
 *   `tokens` and `loss_mask` columns) and fills rows of exactly `seqLen` tokens as `pack` says
 *   ({@link PackMode}: `greedy` concatenates and cuts, the tail shorter than `seqLen` dropped and
 *   counted; `bfd` and `none` place whole docs and pad, see operators/shard/pack.ts). Writes
 *   {@link packedChunkName} `packed-NNNNN.bin` (raw little-endian uint32, no header,
 *   `chunkSequences` sequences each), {@link packedStartsName} `packed-NNNNN.starts` (uint32 LE:
 *   offsets within the chunk where a document starts) and {@link packedMaskName}
 *   `packed-NNNNN.mask` (uint8, one per token: the loss mask). Its manifest info is {@link PackInfo}.
 * - `shards.write` (one task per output shard, so a failed run resumes shard by shard): sequence
 *   order is a seeded Fisher–Yates permutation of all N sequences (identity when
 *   `shuffle: false`); the last `round(N × valFraction)` positions of that order are the
 *   validation split, the rest the training split; each split is cut into shards of
 *   `floor(shardTokens / seqLen)` sequences. Shard `k` of a split holds positions
 *   `[k·S, (k+1)·S)` of it, in order. Its files are named by {@link shardFileName}; its manifest
 *   info is {@link WriteInfo} (the same for every task); each shard's counts and checksum are its
 *   manifest file entry (rows = sequences).
 * - `shards` (1 task): writes `shards.json` and the same object (plus a `summary` line) as its
 *   manifest `info` ({@link ShardManifest}): the shard lists with absolute URIs, counts, dtype,
 *   tokenizer.
 *
 * ## Files (in `shards.write`'s directory), named `<split>-<5 digits>.<ext>`, split `train` | `val`
 * - `bin` (formats/bin.ts: the nanoGPT/llm.c layout). Beside it `<name>.docs` (uint32 LE):
 *   positions within the shard's token stream where a document starts (the document-boundary
 *   index), and, when any token of the shard set is untrained ({@link ShardManifest.maskedTokens}
 *   > 0: chat docs with a loss mask, or pads), `<name>.mask`: the loss mask, one uint8 per token
 *   of the `.bin` in the same order, no header (`np.fromfile(name + '.mask', np.uint8)`). 1: the
 *   token is a training target; 0: context only (prompts, a padded row's first doc token) or a
 *   pad. No `.mask` file (shards written before masks existed, or pretraining data with
 *   nothing masked) means every token is trained.
 * - `parquet` (zstd) and `arrow` (Arrow IPC file): one row per sequence; columns `seq` (int64,
 *   the sequence's index in the packed stream), `tokens` (list<uint16|uint32>, `seqLen` items),
 *   `doc_starts` (list<int32>: positions within the sequence where a document starts),
 *   `loss_mask` (list<uint8>, `seqLen` items, the same values as the `.mask` file; absent in
 *   shards written before it existed: every token trained).
 *
 * Pads (`pack: 'bfd' | 'none'`) are the tokenizer's end-of-text id ({@link ShardManifest.padToken})
 * at mask 0, after the last document of a row; they start no document. `attention` in the
 * manifest is what the trainer uses by default: `document` keeps every token's attention inside
 * its own document (the `.docs` index), `causal` lets it see the whole row.
 * - `megatron`: Megatron-LM indexed datasets, `<name>.bin` + `<name>.idx` (`docs` in the entry),
 *   one sequence per whole document, written by operators/shard/megatron.ts (its own write stage;
 *   the pack stage runs with seqLen 1); byte layout in formats/megatron.ts; dtype uint16 or int32.
 *
 * dtype follows formats/tokens.ts: uint16 when the tokenizer's vocabulary (specials included) has
 * ≤ 65,536 ids, else uint32. A shard is written with one atomic write (multipart on S3, 16 MiB
 * parts: the factory rejects a `shardTokens` whose shard could exceed S3's 10,000 parts).
 */
import type { Dataset, StageInfo } from '../engine/types.ts';
import type { TokenDtype } from './tokens.ts';

export type { TokenDtype } from './tokens.ts';

/** Shard file layout. */
export type ShardLayout = 'bin' | 'parquet' | 'arrow' | 'megatron';

/** Token width of a shard: the width rule's (formats/tokens.ts), or `int32` for Megatron's wide tokens (Megatron-LM's own choice). */
export type ShardDtype = TokenDtype | 'int32';

/** The two splits of a shard set. */
export type ShardSplit = 'train' | 'val';

/** The file extension of each layout's shard files. */
export const SHARD_EXT: Record<ShardLayout, string> = { bin: 'bin', parquet: 'parquet', arrow: 'arrow', megatron: 'bin' };

/** How `shard.tokens` fills its rows: best-fit decreasing whole docs, concatenate-and-cut, or one doc per row. */
export type PackMode = 'bfd' | 'greedy' | 'none';

/** What the trainer's attention may cross: only tokens of the same document, or the whole row. */
export type AttentionMode = 'document' | 'causal';

/** Extension of the loss mask beside a `.bin` shard (uint8 per token). */
export const MASK_EXT = 'mask';

/** Extension of the document-boundary index beside a shard: `bin` `<name>.docs`, `megatron` `<name>.idx`; none for the Parquet/Arrow layouts (a column). */
export const DOC_INDEX_EXT: Record<ShardLayout, string | null> = { bin: 'docs', parquet: null, arrow: null, megatron: 'idx' };

/** `<split>-<5 digits>` (without extension): the name of shard `k` of a split. */
export function shardName(split: ShardSplit, k: number): string {
  return `${split}-${String(k).padStart(5, '0')}`;
}

/** `<split>-<5 digits>.<ext>`: the file of shard `k` of a split. */
export function shardFileName(split: ShardSplit, k: number, layout: ShardLayout): string {
  return `${shardName(split, k)}.${SHARD_EXT[layout]}`;
}

/** Splits a shard file name into split, index and extension; null for any other file. */
export function parseShardFileName(path: string): { split: ShardSplit; k: number; ext: string } | null {
  const m = /^(train|val)-(\d{5,})\.([a-z]+)$/.exec(path);
  if (!m) return null;
  return { split: m[1] === 'train' ? 'train' : 'val', k: Number(m[2]), ext: m[3]! };
}

/** Name of packed chunk `i` (raw uint32 tokens) in the pack stage's output. */
export const packedChunkName = (i: number) => `packed-${String(i).padStart(5, '0')}.bin`;
/** Name of packed chunk `i`'s document-start index. */
export const packedStartsName = (i: number) => `packed-${String(i).padStart(5, '0')}.starts`;

/** Name of packed chunk `i`'s loss mask (uint8 per token). */
export const packedMaskName = (i: number) => `packed-${String(i).padStart(5, '0')}.mask`;

/** What the pack stage records in its manifest `info`. */
export type PackInfo = {
  sequences: number;
  seqLen: number;
  chunkSequences: number;
  chunks: number;
  docs: number;
  inputTokens: number;
  droppedTokens: number;
  /** Largest token id seen (-1 when none). */
  maxToken: number;
  /** How rows were filled (absent in pack outputs written before packing modes: `greedy`). */
  pack?: PackMode;
  /** Token id of the pads (`bfd`, `none`); null for `greedy`. */
  padToken?: number | null;
  /** Pad tokens written. */
  padTokens?: number;
  /** Tokens at mask 0 (pads included). */
  maskedTokens?: number;
  /** Docs longer than `seqLen`, dropped by `bfd`/`none` (recorded in the audit as `shard.docTooLong`). */
  droppedDocs?: number;
  /** Docs that straddle a row boundary (`greedy` only; 0 otherwise). */
  splitDocs?: number;
  /** True when the stage wrote `packed-NNNNN.mask` files (absent in outputs of older versions). */
  masks?: boolean;
};

/**
 * What every task of the write stage records in its manifest `info`. The shards themselves are
 * its files: each shard file's manifest entry has its sequences (rows), bytes and sha256.
 */
export type WriteInfo = {
  layout: ShardLayout;
  dtype: ShardDtype;
  /** 0 for the megatron layout, whose sequences are whole documents. */
  seqLen: number;
  vocabSize: number;
  eotToken: number | null;
  tokenizerName: string;
  tokenizerFingerprint: string;
  /** True when the input held no complete sequence (no shard written). */
  empty?: boolean;
  /** Megatron layout: how many shards each split has (they are cut by document lengths, not derivable from the pack info). */
  shardCounts?: { train: number; val: number };
};

/** One shard in {@link ShardManifest}. */
export type ShardEntry = {
  /** Absolute URI (local path or s3://). */
  uri: string;
  /** Path relative to the `shards.write` stage directory. */
  path: string;
  /** Document-boundary index file: bin layout `<name>.docs`, megatron layout the `<name>.idx`. */
  docs?: string;
  /** Loss-mask file (bin layout, when the set has masked tokens): `<name>.mask`. */
  mask?: string;
  /** Megatron layout: the URI without `.bin`/`.idx`, what Megatron-LM's `--data-path` takes. */
  prefix?: string;
  sequences: number;
  tokens: number;
  bytes: number;
  sha256: string;
};

/** `shards.json` and the `info` of the `shards` stage manifest. */
export type ShardManifest = {
  format: 'sluice.tokens/1';
  layout: ShardLayout;
  dtype: ShardDtype;
  /** Tokens per sequence; 0 for the megatron layout, whose sequences are whole documents. */
  seqLen: number;
  /** Tokenizer vocabulary size (specials included): what the model's embedding needs. */
  vocabSize: number;
  /** End-of-text token id (the document separator). */
  eotToken: number | null;
  tokenizer: { name: string; fingerprint: string };
  shuffle: boolean;
  seed: number;
  valFraction: number;
  /** How rows were filled (absent in manifests written before packing modes: `greedy`). */
  pack?: PackMode;
  /** The trainer's default attention for these shards (absent: `causal`). */
  attention?: AttentionMode;
  /** Pad token id (`bfd`, `none`), else null. */
  padToken?: number | null;
  /** Pad tokens in all rows; the non-pad share is `1 − padTokens / (sequences × seqLen)`. */
  padTokens?: number;
  /** Tokens at loss mask 0 (pads included) in all rows; 0: no `.mask` files were written. */
  maskedTokens?: number;
  /** Docs packed; tokens read; tokens dropped (`greedy`: the tail shorter than one sequence; `bfd`/`none`: docs longer than `seqLen`). */
  docs: number;
  inputTokens: number;
  droppedTokens: number;
  /** Sequences per split (megatron layout: documents). */
  sequences: { train: number; val: number };
  tokens: { train: number; val: number };
  train: ShardEntry[];
  val: ShardEntry[];
};

/** The `info` of a completed `shard.tokens` stage: the shard manifest and a one-line summary. */
export type ShardsInfo = ShardManifest & { summary: string };

/** Whether a stage's manifest info is a shard manifest. */
export function isShardManifest(info: StageInfo | undefined): info is ShardManifest {
  return info?.format === 'sluice.tokens/1';
}

/** The shard manifest of a completed `shard.tokens` stage (the dataset of the stage named in `p.stage`). */
export function shardManifest(ds: Dataset<StageInfo>): ShardManifest {
  const info = ds.manifest.info;
  if (!isShardManifest(info)) throw new Error(`stage '${ds.stage}' is not a shard.tokens stage (manifest info.format is ${JSON.stringify(info?.format)})`);
  return info;
}

/** What the trainer's `ShardSet` needs, from a shard manifest. */
export function shardSet(m: ShardManifest): { train: string[]; val?: string[]; vocabSize: number; eotToken?: number; tokenizer: string; attention: AttentionMode } {
  if (m.layout !== 'bin') throw new Error(`the trainer reads .bin shards; this shard set is ${m.layout}`);
  return {
    attention: m.attention ?? 'causal',
    train: m.train.map((s) => s.uri),
    ...(m.val.length ? { val: m.val.map((s) => s.uri) } : {}),
    vocabSize: m.vocabSize,
    ...(m.eotToken !== null ? { eotToken: m.eotToken } : {}),
    tokenizer: `${m.tokenizer.name} (${m.tokenizer.fingerprint})`,
  };
}
