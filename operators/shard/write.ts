/**
 * The `<name>.write` stage of `shard.tokens`: one task per output shard. Each task recomputes the
 * seeded sequence order (O(N) time, 4 bytes per sequence), takes its shard's positions, reads
 * exactly those sequences from the packed chunks (positioned reads locally, coalesced ranged
 * reads on S3), and writes the shard in the chosen layout (formats/shards.ts, formats/bin.ts).
 */
import { open } from 'node:fs/promises';
import * as arrow from 'apache-arrow';
import { parquetWasm } from '../../engine/parquet.ts';
import { isRemote, storage } from '../../engine/storage/index.ts';
import type { CustomStage, Dataset, StageRef } from '../../engine/types.ts';
import { binHeader } from '../../formats/bin.ts';
import { DOC_INDEX_EXT, MASK_EXT, packedChunkName, packedMaskName, packedStartsName, shardFileName, shardName, type PackInfo, type ShardLayout, type ShardSplit, type WriteInfo } from '../../formats/shards.ts';
import { dtypeOf, narrowTokens, tokenBytes, tokenDtype, type TokenIds } from '../../formats/tokens.ts';
import { loadTokenizer } from '../tokenize/load.ts';

/** The layouts of packed fixed-length sequences (megatron has its own writer: megatron.ts). */
export type PackedLayout = Exclude<ShardLayout, 'megatron'>;

/** Options the writer needs (validated by `shard.tokens`). */
export interface WriteOptions {
  layout: PackedLayout;
  seqLen: number;
  shardSequences: number;
  shuffle: boolean;
  seed: number;
  valFraction: number;
  tokenizer: StageRef | string;
}

/** Train/val sizes and shard counts for N sequences. */
export function splitPlan(n: number, o: Pick<WriteOptions, 'valFraction' | 'shardSequences'>): { val: number; train: number; trainShards: number; valShards: number } {
  let val = o.valFraction > 0 ? Math.max(1, Math.round(n * o.valFraction)) : 0;
  if (val >= n) val = Math.max(0, n - 1);
  const train = n - val;
  return { val, train, trainShards: Math.ceil(train / o.shardSequences), valShards: Math.ceil(val / o.shardSequences) };
}

/** The sequence order: a seeded Fisher–Yates permutation (mulberry32), or the identity. */
export function sequenceOrder(n: number, shuffle: boolean, seed: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  if (!shuffle) return order;
  let s = seed >>> 0;
  const rand = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/** Which shard task `index` writes. */
export function shardOfTask(index: number, plan: ReturnType<typeof splitPlan>, shardSequences: number): { split: ShardSplit; k: number; from: number; to: number; name: string } {
  const isTrain = index < plan.trainShards;
  const k = isTrain ? index : index - plan.trainShards;
  const base = isTrain ? 0 : plan.train;
  const count = isTrain ? plan.train : plan.val;
  const from = base + k * shardSequences;
  const to = base + Math.min((k + 1) * shardSequences, count);
  const split = isTrain ? 'train' : 'val';
  return { split, k, from, to, name: shardName(split, k) };
}

/**
 * Reads the `seqLen` items of each wanted sequence (sequence ids in `seqs`) into row `row` of
 * `out`, from the pack stage's chunk files `chunkName(i)` of `width` bytes per token (4: tokens,
 * 1: loss mask).
 */
async function gather(pack: Dataset<PackInfo>, info: PackInfo, seqs: Uint32Array, out: Uint8Array, width: number, chunkName: (i: number) => string): Promise<void> {
  const L = info.seqLen * width;
  const idx = [...seqs.keys()].sort((a, b) => seqs[a]! - seqs[b]!);
  let i = 0;
  while (i < idx.length) {
    const chunk = Math.floor(seqs[idx[i]!]! / info.chunkSequences);
    let j = i;
    while (j < idx.length && Math.floor(seqs[idx[j]!]! / info.chunkSequences) === chunk) j++;
    const uri = storage.join(pack.dir, chunkName(chunk));
    const base = chunk * info.chunkSequences;
    if (!isRemote(uri)) {
      const fh = await open(uri.replace(/^file:\/\//, ''), 'r');
      try {
        for (let k = i; k < j; k++) {
          const row = idx[k]!;
          const local = seqs[row]! - base;
          const dst = out.subarray(row * L, (row + 1) * L);
          const { bytesRead } = await fh.read(dst, 0, L, local * L);
          if (bytesRead !== L) throw new Error(`${uri}: short read of sequence ${seqs[row]} (${bytesRead} of ${L} bytes)`);
        }
      } finally {
        await fh.close();
      }
    } else {
      // Coalesce sequences closer than 1 MiB into one ranged GET.
      const GAP = (1 << 20) / L;
      let a = i;
      while (a < j) {
        let b = a + 1;
        while (b < j && seqs[idx[b]!]! - seqs[idx[b - 1]!]! <= GAP) b++;
        const first = seqs[idx[a]!]! - base;
        const last = seqs[idx[b - 1]!]! - base;
        const stream = await storage.readStream(uri, first * L, (last + 1) * L);
        const parts: Buffer[] = [];
        for await (const c of stream) parts.push(c as Buffer);
        const bytes = Buffer.concat(parts);
        if (bytes.byteLength !== (last + 1 - first) * L) throw new Error(`${uri}: short ranged read (${bytes.byteLength} bytes)`);
        for (let k = a; k < b; k++) {
          const row = idx[k]!;
          const off = (seqs[row]! - base - first) * L;
          out.set(bytes.subarray(off, off + L), row * L);
        }
        a = b;
      }
    }
    i = j;
  }
}

/** Document starts within each wanted sequence, as (row, position) lists. */
async function docStarts(pack: Dataset<PackInfo>, info: PackInfo, seqs: Uint32Array): Promise<number[][]> {
  const L = info.seqLen;
  const out: number[][] = Array.from({ length: seqs.length }, () => []);
  const byChunk = new Map<number, number[]>();
  seqs.forEach((s, row) => {
    const c = Math.floor(s / info.chunkSequences);
    let l = byChunk.get(c);
    if (!l) byChunk.set(c, (l = []));
    l.push(row);
  });
  for (const [chunk, rows] of byChunk) {
    const raw = await storage.read(storage.join(pack.dir, packedStartsName(chunk)));
    const starts = new Uint32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    for (const row of rows) {
      const lo = (seqs[row]! - chunk * info.chunkSequences) * L;
      // First start ≥ lo (binary search), then all < lo + L.
      let a = 0;
      let b = starts.length;
      while (a < b) {
        const m = (a + b) >> 1;
        if (starts[m]! < lo) a = m + 1;
        else b = m;
      }
      for (let k = a; k < starts.length && starts[k]! < lo + L; k++) out[row]!.push(starts[k]! - lo);
    }
  }
  return out;
}

function listColumn(values: arrow.Data, offsets: Int32Array, rows: number, item: arrow.DataType): arrow.Vector {
  const type = new arrow.List(new arrow.Field('item', item, false));
  return arrow.makeVector(arrow.makeData({ type, length: rows, nullCount: 0, valueOffsets: offsets, child: values }));
}

/** The shard as an Arrow table (parquet/arrow layouts); `mask` null: every token trained (all ones). */
function shardTable(tokens: TokenIds, seqs: Uint32Array, starts: number[][], L: number, mask: Uint8Array | null): arrow.Table {
  const rows = seqs.length;
  const tokOffsets = new Int32Array(rows + 1);
  for (let r = 0; r <= rows; r++) tokOffsets[r] = r * L;
  const item = tokens instanceof Uint16Array ? new arrow.Uint16() : new arrow.Uint32();
  const tokData = arrow.makeData({ type: item, length: tokens.length, nullCount: 0, data: tokens } as never);
  const flat: number[] = [];
  const stOffsets = new Int32Array(rows + 1);
  starts.forEach((s, r) => {
    flat.push(...s);
    stOffsets[r + 1] = flat.length;
  });
  const stData = arrow.makeData({ type: new arrow.Int32(), length: flat.length, nullCount: 0, data: Int32Array.from(flat) });
  const maskValues = mask ?? new Uint8Array(tokens.length).fill(1);
  const maskData = arrow.makeData({ type: new arrow.Uint8(), length: maskValues.length, nullCount: 0, data: maskValues });
  return new arrow.Table({
    seq: arrow.makeVector(BigInt64Array.from(seqs, (s) => BigInt(s))),
    tokens: listColumn(tokData as arrow.Data, tokOffsets, rows, item),
    doc_starts: listColumn(stData, stOffsets, rows, new arrow.Int32()),
    loss_mask: listColumn(maskData, tokOffsets, rows, new arrow.Uint8()),
  });
}

/**
 * Encodes one shard in `layout`. Returns the file bytes and, for bin, the doc index bytes and the
 * loss mask bytes (`mask` as given: one uint8 per token; none when `mask` is null, which means
 * every token is trained). Parquet and arrow carry the mask as their `loss_mask` column.
 */
export function encodeShard(layout: PackedLayout, tokens: TokenIds, seqs: Uint32Array, starts: number[][], L: number, mask: Uint8Array | null = null): { data: Uint8Array; docs?: Uint8Array; mask?: Uint8Array } {
  if (mask && mask.length !== tokens.length) throw new Error(`encodeShard: ${mask.length} mask bytes for ${tokens.length} tokens`);
  switch (layout) {
    case 'bin': {
      const header = binHeader(tokens.length, dtypeOf(tokens));
      const data = new Uint8Array(header.length + tokens.byteLength);
      data.set(header);
      data.set(tokenBytes(tokens), header.length);
      const flat: number[] = [];
      starts.forEach((s, r) => s.forEach((p) => flat.push(r * L + p)));
      return { data, docs: new Uint8Array(Uint32Array.from(flat).buffer), ...(mask ? { mask } : {}) };
    }
    case 'parquet': {
      const table = shardTable(tokens, seqs, starts, L, mask);
      const pq = parquetWasm();
      const props = new pq.WriterPropertiesBuilder().setCompression(pq.Compression.ZSTD).setDictionaryEnabled(false).setMaxRowGroupSize(8192).setCreatedBy('sluice shard.tokens').build();
      return { data: pq.writeParquet(pq.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')), props) };
    }
    case 'arrow':
      return { data: arrow.tableToIPC(shardTable(tokens, seqs, starts, L, mask), 'file') };
    default: {
      const never: never = layout;
      throw new Error(`unknown shard layout ${String(never)}`);
    }
  }
}

/** The pack stage's info; an error naming the stage when its manifest has none. */
function packInfo(ds: Dataset<PackInfo>): PackInfo {
  if (!ds.manifest.info) throw new Error(`shard.tokens: stage '${ds.stage}' has no pack info in its manifest (${ds.dir})`);
  return ds.manifest.info;
}

/** Builds the write stage over the pack stage. */
export function writeStage(pack: StageRef<PackInfo>, o: WriteOptions, version: string): CustomStage<WriteInfo, [StageRef<PackInfo>]> {
  const tokRef = typeof o.tokenizer === 'string' ? undefined : o.tokenizer;
  return {
    kind: 'custom',
    type: 'shard.tokens.write',
    name: 'shard.tokens.write',
    version,
    config: { layout: o.layout, seqLen: o.seqLen, shardSequences: o.shardSequences, shuffle: o.shuffle, seed: o.seed, valFraction: o.valFraction, tokenizer: tokRef ? { stage: tokRef.name } : (o.tokenizer as string) },
    inputs: [pack],
    ...(tokRef ? { refs: [tokRef] } : {}),
    output: 'artifact',
    taskCount(_ctx, inputs) {
      const plan = splitPlan(packInfo(inputs[0]).sequences, o);
      return Math.max(1, plan.trainShards + plan.valShards);
    },
    async run(ctx) {
      const packDs = ctx.inputs[0];
      const info = packInfo(packDs);
      const tok = await loadTokenizer(tokRef ? (await ctx.dataset(tokRef)).dir : (o.tokenizer as string), ctx.storage);
      const dtype = tokenDtype(tok.vocabSize);
      if (info.maxToken >= tok.vocabSize) throw new Error(`shard.tokens: token id ${info.maxToken} in the input is outside the vocabulary of '${tok.name}' (${tok.vocabSize}); were the docs encoded with another tokenizer?`);
      const common: WriteInfo = { layout: o.layout, dtype, seqLen: o.seqLen, vocabSize: tok.vocabSize, eotToken: tok.eotId ?? null, tokenizerName: tok.name, tokenizerFingerprint: tok.fingerprint };
      const plan = splitPlan(info.sequences, o);
      if (plan.trainShards + plan.valShards === 0) {
        ctx.setInfo({ ...common, empty: true });
        ctx.log('no complete sequence in the input: no shards written');
        return;
      }
      const shard = shardOfTask(ctx.index, plan, o.shardSequences);
      const order = sequenceOrder(info.sequences, o.shuffle, o.seed);
      const seqs = order.slice(shard.from, shard.to);
      const raw = new Uint32Array(seqs.length * o.seqLen);
      await gather(packDs, info, seqs, new Uint8Array(raw.buffer), 4, packedChunkName);
      const tokens = narrowTokens(raw, dtype);
      const starts = await docStarts(packDs, info, seqs);
      // The mask travels only when some token is untrained: an all-ones mask is the default.
      let mask: Uint8Array | null = null;
      if (info.masks && (info.maskedTokens ?? 0) > 0) {
        mask = new Uint8Array(seqs.length * o.seqLen);
        await gather(packDs, info, seqs, mask, 1, packedMaskName);
      }
      const enc = encodeShard(o.layout, tokens, seqs, starts, o.seqLen, mask);
      // The manifest stage reads each shard's counts and checksum from these files' manifest entries (rows = sequences).
      const path = shardFileName(shard.split, shard.k, o.layout);
      await ctx.writeFile(path, enc.data, seqs.length);
      if (enc.docs) await ctx.writeFile(`${shard.name}.${DOC_INDEX_EXT.bin}`, enc.docs);
      if (enc.mask) await ctx.writeFile(`${shard.name}.${MASK_EXT}`, enc.mask);
      ctx.setInfo(common);
      ctx.log(`${path}: ${seqs.length} sequences, ${tokens.length} tokens`);
    },
  };
}
