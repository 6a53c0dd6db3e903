/**
 * Streams token shards (local or `s3://`) as deterministic training batches, in the order the
 * shards are given (the manifest's). The shards form one virtual token stream; a micro-batch is
 * B·T+1 contiguous tokens from the current position (inputs = first B·T, targets = shifted by
 * one), the position advances by B·T, and wraps to the start (a new epoch) when fewer than B·T+1
 * tokens remain. The position `{ pos, epoch }` is all a checkpoint needs to resume exactly.
 * trainer/torch/gpt.py implements the same rules, so both backends see the same tokens.
 *
 * Memory stays bounded: tokens are read through ranged reads in windows of `windowTokens`.
 */
import { storage as defaultStorage, type Storage } from '../../engine/storage/index.ts';
import { readRange, readShardHeader } from './bin.ts';
import { BIN_HEADER_BYTES, type BinHeader } from '../../formats/bin.ts';

/** A shard and its header. */
export interface ShardInfo extends BinHeader {
  uri: string;
}

/** Reads the headers of shards, in order. */
export async function describeShards(uris: string[], store: Storage = defaultStorage): Promise<ShardInfo[]> {
  if (uris.length === 0) throw new Error('trainer: no token shards given');
  return Promise.all(uris.map(async (uri) => ({ uri, ...(await readShardHeader(uri, store)) })));
}

/** Token range `[start, end)` of the concatenation of `shards`. */
export class TokenStream {
  private readonly offsets: number[] = [0];
  readonly start: number;
  readonly end: number;
  private window: { shard: number; from: number; tokens: Uint32Array } | null = null;

  constructor(
    readonly shards: ShardInfo[],
    start = 0,
    end?: number,
    private readonly store: Storage = defaultStorage,
    private readonly windowTokens = 1 << 20,
  ) {
    for (const s of shards) this.offsets.push(this.offsets[this.offsets.length - 1]! + s.tokens);
    const total = this.offsets[this.offsets.length - 1]!;
    this.start = start;
    this.end = end ?? total;
    if (!(0 <= this.start && this.start <= this.end && this.end <= total)) throw new Error(`trainer: token range [${start}, ${end}) outside the ${total} tokens of the shards`);
  }

  get length(): number {
    return this.end - this.start;
  }

  /** Tokens `[pos, pos+n)` of this stream (pos relative to its start). */
  async read(pos: number, n: number): Promise<Int32Array> {
    if (pos < 0 || pos + n > this.length) throw new Error(`trainer: read [${pos}, ${pos + n}) outside a stream of ${this.length} tokens`);
    const out = new Int32Array(n);
    let g = this.start + pos;
    let done = 0;
    let i = 0;
    while (this.offsets[i + 1]! <= g) i++;
    while (done < n) {
      const local = g - this.offsets[i]!;
      const take = Math.min(n - done, this.shards[i]!.tokens - local);
      if (take > 0) {
        await this.copy(i, local, take, out, done);
        done += take;
        g += take;
      }
      i++;
    }
    return out;
  }

  private async copy(shard: number, from: number, n: number, out: Int32Array, at: number): Promise<void> {
    let w = this.window;
    if (!w || w.shard !== shard || from < w.from || from + n > w.from + w.tokens.length) {
      const info = this.shards[shard]!;
      const len = Math.min(info.tokens - from, Math.max(n, this.windowTokens));
      const bytes = await readRange(info.uri, BIN_HEADER_BYTES + from * info.bytesPerToken, BIN_HEADER_BYTES + (from + len) * info.bytesPerToken, this.store);
      if (bytes.byteLength !== len * info.bytesPerToken) throw new Error(`${info.uri}: short read at token ${from} (${bytes.byteLength} of ${len * info.bytesPerToken} bytes)`);
      const tokens = new Uint32Array(len);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (info.bytesPerToken === 2) for (let k = 0; k < len; k++) tokens[k] = dv.getUint16(2 * k, true);
      else for (let k = 0; k < len; k++) tokens[k] = dv.getUint32(4 * k, true);
      w = this.window = { shard, from, tokens };
    }
    const off = from - w.from;
    for (let k = 0; k < n; k++) out[at + k] = w.tokens[off + k]!;
  }
}

/** Where a batch iterator stands: enough to resume it exactly. */
export interface LoaderPosition {
  pos: number;
  epoch: number;
}

/** One micro-batch: `x` and `y` are `[batch, ctx]` row-major, `y` shifted by one token. */
export interface Batch {
  x: Int32Array;
  y: Int32Array;
}

/** Deterministic micro-batches over a stream (see the module comment for the rule). */
export class BatchIterator {
  pos: number;
  epoch: number;
  constructor(
    readonly stream: TokenStream,
    readonly batch: number,
    readonly ctx: number,
    at: LoaderPosition = { pos: 0, epoch: 0 },
  ) {
    if (stream.length < batch * ctx + 1) throw new Error(`trainer: ${stream.length} tokens is less than one batch (${batch}×${ctx}+1)`);
    this.pos = at.pos;
    this.epoch = at.epoch;
  }
  get position(): LoaderPosition {
    return { pos: this.pos, epoch: this.epoch };
  }
  async next(): Promise<Batch> {
    const span = this.batch * this.ctx;
    if (this.pos + span + 1 > this.stream.length) {
      this.pos = 0;
      this.epoch++;
    }
    const buf = await this.stream.read(this.pos, span + 1);
    this.pos += span;
    return { x: buf.subarray(0, span), y: buf.subarray(1, span + 1) };
  }
}

/**
 * The train and validation streams. With validation shards they are separate; without, the last
 * `valTokens` tokens (default 5% of all, at most 1M, at least one batch) are the validation split.
 */
export async function splitStreams(
  train: string[],
  val: string[] | undefined,
  valTokens: number | undefined,
  span: number,
  store: Storage = defaultStorage,
): Promise<{ train: TokenStream; val: TokenStream }> {
  const shards = await describeShards(train, store);
  const full = new TokenStream(shards, 0, undefined, store);
  if (val && val.length) return { train: full, val: new TokenStream(await describeShards(val, store), 0, undefined, store) };
  const total = full.length;
  const hold = Math.max(valTokens ?? Math.min(Math.floor(total * 0.05), 1_000_000), span);
  if (total - hold < span) throw new Error(`trainer: ${total} tokens cannot hold a validation split of ${hold} and a training batch of ${span}`);
  return { train: new TokenStream(shards, 0, total - hold, store), val: new TokenStream(shards, total - hold, total, store) };
}
