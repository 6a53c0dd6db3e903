/**
 * The `<name>.write` stage of `shard.tokens({ format: 'megatron' })`: Megatron-LM indexed
 * datasets (`<split>-NNNNN.bin` + `.idx`, byte layout in formats/megatron.ts), one sequence per
 * document, documents whole.
 *
 * The pack stage runs with `seqLen` 1, so its chunks are the plain concatenated token stream and
 * its `.starts` files the document boundaries. Each task reads those boundaries (4 bytes per
 * document), recomputes the seeded document order (a Fisher–Yates permutation of documents, the
 * identity with `shuffle: false`), takes the last `round(D × valFraction)` documents of it as the
 * validation split, and cuts each split greedily into shards of at most `shardTokens` tokens (a
 * longer document gets a shard of its own). It then streams its shard's documents from the packed
 * chunks into `.bin` (windows of {@link WINDOW} tokens: positioned reads locally, coalesced ranged
 * reads on S3) and writes `.idx` after `.bin` is committed, so a complete `.idx` always has its
 * complete `.bin`.
 */
import { open } from 'node:fs/promises';
import { isRemote, storage } from '../../engine/storage/index.ts';
import type { CustomStage, CustomTaskContext, Dataset, StageFileWriter, StageInfo, StageRef, StageRefs } from '../../engine/types.ts';
import { megatronDtypeFor, readRange, writeMegatronIndex } from '../../formats/megatron.ts';
import { loadTokenizer } from '../tokenize/load.ts';
import { packedChunkName as chunkName, packedStartsName as startsName, shardName, type PackInfo, type ShardSplit, type WriteInfo } from '../../formats/shards.ts';
import { sequenceOrder, splitPlan } from './write.ts';

/** Options the Megatron writer needs (validated by `shard.tokens`). */
export interface MegatronWriteOptions {
  shardTokens: number;
  shuffle: boolean;
  seed: number;
  valFraction: number;
  tokenizer: StageRef | string;
}

/** Tokens gathered per write: 16 MiB of uint32 read buffer. */
const WINDOW = 1 << 22;
/** On S3, documents closer than this many tokens (1 MiB) share one ranged GET. */
const GAP = 1 << 18;

/** One output shard: positions `[from, to)` of the document order. */
export interface MegatronShard {
  split: ShardSplit;
  k: number;
  from: number;
  to: number;
  tokens: number;
  name: string;
}

/** Token count of every packed document, in input order, from the pack stage's `.starts` files. */
export async function documentLengths(pack: Dataset<PackInfo>, info: PackInfo): Promise<Uint32Array> {
  if (info.seqLen !== 1) throw new Error(`shard.tokens: the megatron writer needs a pack stage with seqLen 1, got ${info.seqLen}`);
  const lengths = new Uint32Array(info.docs);
  let d = 0;
  let prev = -1;
  const put = (start: number) => {
    if (prev >= 0) {
      const len = start - prev;
      if (len <= 0 || len > 0xffffffff) throw new Error(`${pack.dir}: document ${d - 1} has ${len} tokens`);
      lengths[d - 1] = len;
    }
    prev = start;
  };
  for (let c = 0; c < info.chunks; c++) {
    const raw = await storage.read(storage.join(pack.dir, startsName(c)));
    const starts = new Uint32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    for (const s of starts) {
      if (d >= info.docs) throw new Error(`${pack.dir}: more document starts than the ${info.docs} documents packed`);
      put(c * info.chunkSequences + s);
      d++;
    }
  }
  if (d !== info.docs) throw new Error(`${pack.dir}: ${d} document starts for ${info.docs} documents packed`);
  if (d > 0) put(info.sequences);
  return lengths;
}

/** The document order and its shards: train shards first, then validation shards. */
export function megatronPlan(lengths: Uint32Array, o: Pick<MegatronWriteOptions, 'shardTokens' | 'shuffle' | 'seed' | 'valFraction'>): { order: Uint32Array; shards: MegatronShard[] } {
  const n = lengths.length;
  const order = sequenceOrder(n, o.shuffle, o.seed);
  const { train } = splitPlan(n, { valFraction: o.valFraction, shardSequences: 1 });
  const shards: MegatronShard[] = [];
  const cut = (split: ShardSplit, from: number, to: number) => {
    let k = 0;
    let start = from;
    let tokens = 0;
    for (let p = from; p < to; p++) {
      const len = lengths[order[p]!]!;
      if (p > start && tokens + len > o.shardTokens) {
        shards.push({ split, k, from: start, to: p, tokens, name: shardName(split, k) });
        k++;
        start = p;
        tokens = 0;
      }
      tokens += len;
    }
    if (to > start) shards.push({ split, k, from: start, to, tokens, name: shardName(split, k) });
  };
  cut('train', 0, train);
  cut('val', train, n);
  return { order, shards };
}

/** A token range of the packed stream and where it goes in the window. */
interface Piece {
  start: number;
  len: number;
  dst: number;
}

/** Reads `pieces` (global token ranges) of the packed chunks into `window` at their `dst`. */
async function gatherPieces(pack: Dataset<PackInfo>, chunkTokens: number, pieces: Piece[], window: Uint32Array): Promise<void> {
  // Split at chunk boundaries, then read chunk by chunk in stream order.
  const parts: Array<Piece & { chunk: number }> = [];
  for (const p of pieces) {
    let s = p.start;
    let dst = p.dst;
    const end = p.start + p.len;
    while (s < end) {
      const chunk = Math.floor(s / chunkTokens);
      const take = Math.min(end, (chunk + 1) * chunkTokens) - s;
      parts.push({ chunk, start: s - chunk * chunkTokens, len: take, dst });
      s += take;
      dst += take;
    }
  }
  parts.sort((a, b) => a.chunk - b.chunk || a.start - b.start);
  const bytes = new Uint8Array(window.buffer, window.byteOffset, window.byteLength);
  let i = 0;
  while (i < parts.length) {
    const chunk = parts[i]!.chunk;
    let j = i;
    while (j < parts.length && parts[j]!.chunk === chunk) j++;
    const uri = storage.join(pack.dir, chunkName(chunk));
    if (!isRemote(uri)) {
      const fh = await open(uri.replace(/^file:\/\//, ''), 'r');
      try {
        for (let k = i; k < j; k++) {
          const p = parts[k]!;
          const { bytesRead } = await fh.read(bytes, p.dst * 4, p.len * 4, p.start * 4);
          if (bytesRead !== p.len * 4) throw new Error(`${uri}: short read at token ${p.start} (${bytesRead} of ${p.len * 4} bytes)`);
        }
      } finally {
        await fh.close();
      }
    } else {
      let a = i;
      while (a < j) {
        let b = a + 1;
        let end = parts[a]!.start + parts[a]!.len;
        while (b < j && parts[b]!.start - end <= GAP && parts[b]!.start + parts[b]!.len - parts[a]!.start <= WINDOW) {
          end = Math.max(end, parts[b]!.start + parts[b]!.len);
          b++;
        }
        const first = parts[a]!.start;
        const range = await readRange(storage, uri, first * 4, (end - first) * 4);
        for (let k = a; k < b; k++) {
          const p = parts[k]!;
          bytes.set(range.subarray((p.start - first) * 4, (p.start - first + p.len) * 4), p.dst * 4);
        }
        a = b;
      }
    }
    i = j;
  }
}

/** Streams the documents `ids` (in this order) of the packed stream into `out` as `dtype`. */
async function writeDocuments(ctx: CustomTaskContext<StageInfo, StageRefs>, pack: Dataset<PackInfo>, info: PackInfo, ids: Uint32Array, starts: Float64Array, lengths: Uint32Array, dtype: 'uint16' | 'int32', out: StageFileWriter): Promise<void> {
  const window = new Uint32Array(Math.min(WINDOW, Math.max(1, info.sequences)));
  let pieces: Piece[] = [];
  let fill = 0;
  let docs = 0;
  const flush = async () => {
    if (!fill) return;
    await gatherPieces(pack, info.chunkSequences, pieces, window);
    const t = window.subarray(0, fill);
    // int32: ids are below the vocabulary size (≤ 2^31, checked), so uint32 bytes are int32 bytes.
    const data = dtype === 'uint16' ? Uint16Array.from(t) : t;
    await out.write(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    ctx.progress.add(docs, data.byteLength);
    pieces = [];
    fill = 0;
    docs = 0;
  };
  for (let r = 0; r < ids.length; r++) {
    let s = starts[r]!;
    let left = lengths[ids[r]!]!;
    docs++;
    // A document longer than the window streams through in window-sized pieces.
    while (left > 0) {
      if (fill === window.length) await flush();
      const take = Math.min(left, window.length - fill);
      pieces.push({ start: s, len: take, dst: fill });
      fill += take;
      s += take;
      left -= take;
    }
  }
  await flush();
}

/** Builds the Megatron write stage over the pack stage (one task per output shard). */
export function megatronWriteStage(pack: StageRef<PackInfo>, o: MegatronWriteOptions, version: string): CustomStage<WriteInfo, [StageRef<PackInfo>]> {
  const tokRef = typeof o.tokenizer === 'string' ? undefined : o.tokenizer;
  const packInfo = (ds: Dataset<PackInfo>): PackInfo => {
    if (!ds.manifest.info) throw new Error(`shard.tokens: stage '${ds.stage}' has no pack info in its manifest (${ds.dir})`);
    return ds.manifest.info;
  };
  return {
    kind: 'custom',
    type: 'shard.tokens.write',
    name: 'shard.tokens.write',
    version,
    config: { layout: 'megatron', shardTokens: o.shardTokens, shuffle: o.shuffle, seed: o.seed, valFraction: o.valFraction, tokenizer: tokRef ? { stage: tokRef.name } : (o.tokenizer as string) },
    inputs: [pack],
    ...(tokRef ? { refs: [tokRef] } : {}),
    output: 'artifact',
    async taskCount(_ctx, inputs) {
      const info = packInfo(inputs[0]);
      return Math.max(1, megatronPlan(await documentLengths(inputs[0], info), o).shards.length);
    },
    async run(ctx) {
      if (!ctx.fileWriter) throw new Error('shard.tokens: the megatron layout streams its files and needs a task context with fileWriter');
      const packDs = ctx.inputs[0];
      const info = packInfo(packDs);
      const tok = await loadTokenizer(tokRef ? (await ctx.dataset(tokRef)).dir : (o.tokenizer as string), ctx.storage);
      const dtype = megatronDtypeFor(tok.vocabSize);
      if (info.maxToken >= tok.vocabSize) throw new Error(`shard.tokens: token id ${info.maxToken} in the input is outside the vocabulary of '${tok.name}' (${tok.vocabSize}); were the docs encoded with another tokenizer?`);
      const lengths = await documentLengths(packDs, info);
      const { order, shards } = megatronPlan(lengths, o);
      const counts = { train: shards.filter((s) => s.split === 'train').length, val: shards.filter((s) => s.split === 'val').length };
      const common: WriteInfo = { layout: 'megatron', dtype, seqLen: 0, vocabSize: tok.vocabSize, eotToken: tok.eotId ?? null, tokenizerName: tok.name, tokenizerFingerprint: tok.fingerprint, shardCounts: counts };
      if (!shards.length) {
        ctx.setInfo({ ...common, empty: true });
        ctx.log('no document in the input: no shards written');
        return;
      }
      const shard = shards[ctx.index]!;
      const ids = order.slice(shard.from, shard.to);
      // Global start of each of this shard's documents: one pass over the lengths in input order.
      const rows = [...ids.keys()].sort((a, b) => ids[a]! - ids[b]!);
      const starts = new Float64Array(ids.length);
      let acc = 0;
      let next = 0;
      for (let d = 0; d < lengths.length && next < rows.length; d++) {
        while (next < rows.length && ids[rows[next]!] === d) starts[rows[next++]!] = acc;
        acc += lengths[d]!;
      }
      const bin = `${shard.name}.bin`;
      const idx = `${shard.name}.idx`;
      const binOut = await ctx.fileWriter(bin);
      await writeDocuments(ctx, packDs, info, ids, starts, lengths, dtype, binOut);
      await binOut.commit(ids.length);
      const shardLengths = Uint32Array.from(ids, (id) => lengths[id]!);
      const idxOut = await ctx.fileWriter(idx);
      await writeMegatronIndex(idxOut, dtype, shardLengths);
      await idxOut.commit(ids.length);
      // The manifest stage reads this shard's documents (rows), bytes and sha256 from the .bin's manifest entry.
      ctx.setInfo(common);
      ctx.log(`${shard.name}.{bin,idx}: ${ids.length} documents, ${shard.tokens} tokens (${dtype})`);
    },
  };
}
