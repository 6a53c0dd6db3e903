/**
 * Token shard format (`sluice.tokens/1`), written by `shard.tokens` and read by the trainer.
 * Keep this stable: the trainer (`trainer/`) and external tools depend on it.
 *
 * ## Stages
 * `p.stage('shards', encoded, shard.tokens({...}))` declares three stages:
 * - `shards.pack` (1 task): streams the encoded docs in input order, concatenates their tokens
 *   (each doc already ends with EOS, see `tokenize.encode`) and cuts the stream into sequences of
 *   exactly `seqLen` tokens (the tail shorter than `seqLen` is dropped and counted). Writes
 *   `packed-NNNNN.bin` (raw little-endian uint32, no header, `chunkSequences` sequences each) and
 *   `packed-NNNNN.starts` (uint32 LE: offsets within the chunk where a document starts).
 * - `shards.write` (one task per output shard, so a failed run resumes shard by shard): sequence
 *   order is a seeded Fisher–Yates permutation of all N sequences (identity when
 *   `shuffle: false`); the last `round(N × valFraction)` positions of that order are the
 *   validation split, the rest the training split; each split is cut into shards of
 *   `floor(shardTokens / seqLen)` sequences. Shard `k` of a split holds positions
 *   `[k·S, (k+1)·S)` of it, in order.
 * - `shards` (1 task): writes `shards.json` and the same object as its manifest `info`
 *   ({@link ShardManifest}): the shard lists with absolute URIs, counts, dtype, tokenizer.
 *
 * ## Files (in `shards.write`'s directory), named `<split>-<5 digits>.<ext>`, split `train` | `val`
 * - `bin` (nanoGPT/llm.c layout): 256 little-endian int32 header — `[0]` magic 20240520,
 *   `[1]` version (1: uint16 tokens, 2: uint32 tokens), `[2]` token count, rest 0 — then the
 *   tokens, little-endian. Beside it `<name>.docs` (uint32 LE): positions within the shard's
 *   token stream where a document starts (the document-boundary index).
 * - `parquet` (zstd) and `arrow` (Arrow IPC file): one row per sequence; columns `seq` (int64,
 *   the sequence's index in the packed stream), `tokens` (list<uint16|uint32>, `seqLen` items),
 *   `doc_starts` (list<int32>: positions within the sequence where a document starts).
 *
 * - `megatron`: Megatron-LM indexed datasets, `<name>.bin` + `<name>.idx` (`docs` in the entry),
 *   one sequence per whole document, written by megatron.ts (its own write stage; the pack stage
 *   runs with seqLen 1); byte layout in formats/megatron.ts; dtype uint16 or int32.
 *
 * dtype is uint16 when the tokenizer's vocabulary (specials included) has ≤ 65,536 ids, else
 * uint32. A shard is written with one atomic write (multipart on S3, 16 MiB parts: the factory
 * rejects a `shardTokens` whose shard could exceed S3's 10,000 parts).
 */
import type { Dataset, Json } from '../../engine/types.ts';

/** Magic and header size of `.bin` shards (shared with trainer/data/bin.ts). */
export const BIN_MAGIC = 20240520;
export const BIN_HEADER_BYTES = 1024;

/** Token width of a shard (`int32`: the megatron layout's wide tokens, Megatron-LM's own choice). */
export type TokenDtype = 'uint16' | 'uint32';
/** Shard file layout. */
export type ShardLayout = 'bin' | 'parquet' | 'arrow' | 'megatron';

/** One shard in {@link ShardManifest}. */
export interface ShardEntry {
  /** Absolute URI (local path or s3://). */
  uri: string;
  /** Path relative to the `shards.write` stage directory. */
  path: string;
  /** Document-boundary index file: bin layout `<name>.docs`, megatron layout the `<name>.idx`. */
  docs?: string;
  /** Megatron layout: the URI without `.bin`/`.idx`, what Megatron-LM's `--data-path` takes. */
  prefix?: string;
  sequences: number;
  tokens: number;
  bytes: number;
  sha256: string;
}

/** `shards.json` and the `info` of the `shards` stage manifest. */
export interface ShardManifest {
  format: 'sluice.tokens/1';
  layout: ShardLayout;
  dtype: TokenDtype | 'int32';
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
  /** Docs and tokens read; tokens dropped from the tail (shorter than one sequence). */
  docs: number;
  inputTokens: number;
  droppedTokens: number;
  /** Sequences per split (megatron layout: documents). */
  sequences: { train: number; val: number };
  tokens: { train: number; val: number };
  train: ShardEntry[];
  val: ShardEntry[];
}

/** The 1,024-byte `.bin` header for `tokens` tokens of `dtype`. */
export function binHeader(tokens: number, dtype: TokenDtype): Uint8Array {
  if (tokens > 0x7fffffff) throw new Error(`a .bin shard holds at most 2^31−1 tokens (int32 header), got ${tokens}`);
  const h = new Uint8Array(BIN_HEADER_BYTES);
  const dv = new DataView(h.buffer);
  dv.setInt32(0, BIN_MAGIC, true);
  dv.setInt32(4, dtype === 'uint16' ? 1 : 2, true);
  dv.setInt32(8, tokens, true);
  return h;
}

/** Parses a whole `.bin` shard; throws naming `uri` when the header or size is wrong. */
export function readBin(bytes: Uint8Array, uri = '.bin'): { dtype: TokenDtype; tokens: Uint16Array | Uint32Array } {
  if (bytes.byteLength < BIN_HEADER_BYTES) throw new Error(`${uri}: ${bytes.byteLength} bytes, shorter than the 1024-byte header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, BIN_HEADER_BYTES);
  const magic = dv.getInt32(0, true);
  const version = dv.getInt32(4, true);
  const n = dv.getInt32(8, true);
  if (magic !== BIN_MAGIC || (version !== 1 && version !== 2)) throw new Error(`${uri}: not a token shard (magic ${magic}, version ${version})`);
  const width = version === 1 ? 2 : 4;
  if (bytes.byteLength !== BIN_HEADER_BYTES + n * width) throw new Error(`${uri}: header says ${n} tokens but the file has ${bytes.byteLength - BIN_HEADER_BYTES} bytes of tokens`);
  // Copy (Uint8Array.prototype.slice: a Buffer's own slice is a view on a shared pool).
  const copy = Uint8Array.prototype.slice.call(bytes, BIN_HEADER_BYTES);
  return version === 1 ? { dtype: 'uint16', tokens: new Uint16Array(copy.buffer) } : { dtype: 'uint32', tokens: new Uint32Array(copy.buffer) };
}

/** The shard manifest of a completed `shard.tokens` stage (the dataset of the stage named in `p.stage`). */
export function shardManifest(ds: Dataset): ShardManifest {
  const info = ds.manifest.info as Record<string, Json> | undefined;
  if (!info || info.format !== 'sluice.tokens/1') throw new Error(`stage '${ds.stage}' is not a shard.tokens stage (manifest info.format is ${JSON.stringify(info?.format)})`);
  return info as unknown as ShardManifest;
}

/** What the trainer's `ShardSet` needs, from a shard manifest. */
export function shardSet(m: ShardManifest): { train: string[]; val?: string[]; vocabSize: number; eotToken?: number; tokenizer: string } {
  if (m.layout !== 'bin') throw new Error(`the trainer reads .bin shards; this shard set is ${m.layout}`);
  return {
    train: m.train.map((s) => s.uri),
    ...(m.val.length ? { val: m.val.map((s) => s.uri) } : {}),
    vocabSize: m.vocabSize,
    ...(m.eotToken !== null ? { eotToken: m.eotToken } : {}),
    tokenizer: `${m.tokenizer.name} (${m.tokenizer.fingerprint})`,
  };
}
