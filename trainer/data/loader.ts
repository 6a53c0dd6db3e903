/**
 * Streams token shards (local or `s3://`) as deterministic training batches, in the order the
 * shards are given (the manifest's). The shards form one virtual token stream; a micro-batch is
 * B·T+1 contiguous tokens from the current position (inputs = first B·T, targets = shifted by
 * one), the position advances by B·T, and wraps to the start (a new epoch) when fewer than B·T+1
 * tokens remain. The position `{ pos, epoch }` is all a checkpoint needs to resume exactly.
 * trainer/torch/gpt.py implements the same rules, so both backends see the same tokens.
 *
 * Beside each `<name>.bin` the loader reads, when present, `<name>.mask` (the loss mask, uint8
 * per token; absent: every token trained) and, for document attention, `<name>.docs` (document
 * starts). A batch then carries `mask` (1 where the target `y` is trained) and, with document
 * attention, `segments` and `positions` (see {@link Batch}).
 *
 * Memory stays bounded: tokens and masks are read through ranged reads in windows of
 * `windowTokens`; document starts (4 bytes per document) are held whole.
 */
import { storage as defaultStorage, type Storage } from '../../engine/storage/index.ts';
import { readRange, readShardHeader } from './bin.ts';
import { BIN_HEADER_BYTES, type BinHeader } from '../../formats/bin.ts';
import { DOC_INDEX_EXT, MASK_EXT, type AttentionMode } from '../../formats/shards.ts';

/** A shard and its header, its loss mask's URI (null: every token trained) and, when loaded, its document starts. */
export interface ShardInfo extends BinHeader {
  uri: string;
  mask: string | null;
  docStarts: Uint32Array | null;
}

/** `<name>.<ext>` beside `<name>.bin`. */
export function siblingUri(uri: string, ext: string): string {
  return uri.replace(/\.bin$/, '') + '.' + ext;
}

/**
 * Reads the headers of shards, in order, and finds each one's `.mask`. With `docs`, also loads
 * each one's `.docs` (document starts), which document attention needs: a shard without one is
 * an error naming it.
 */
export async function describeShards(uris: string[], store: Storage = defaultStorage, opts: { docs?: boolean } = {}): Promise<ShardInfo[]> {
  if (uris.length === 0) throw new Error('trainer: no token shards given');
  return Promise.all(
    uris.map(async (uri) => {
      const h = await readShardHeader(uri, store);
      const maskUri = siblingUri(uri, MASK_EXT);
      const mask = (await store.exists(maskUri)) ? maskUri : null;
      if (mask) {
        const st = await store.stat(mask);
        if (st && st.size !== h.tokens) throw new Error(`${mask}: ${st.size} mask bytes for the ${h.tokens} tokens of ${uri}`);
      }
      let docStarts: Uint32Array | null = null;
      if (opts.docs) {
        const docsUri = siblingUri(uri, DOC_INDEX_EXT.bin!);
        if (!(await store.exists(docsUri))) throw new Error(`${uri}: attention 'document' needs the document index ${docsUri}, which does not exist (shards written by shard.tokens have one; use attention 'causal' for others)`);
        const raw = await store.read(docsUri);
        if (raw.byteLength % 4) throw new Error(`${docsUri}: ${raw.byteLength} bytes, not a list of uint32`);
        docStarts = new Uint32Array(Uint8Array.prototype.slice.call(raw).buffer);
        for (let i = 0; i < docStarts.length; i++) {
          if (docStarts[i]! >= h.tokens || (i > 0 && docStarts[i]! <= docStarts[i - 1]!)) throw new Error(`${docsUri}: entry ${i} (${docStarts[i]}) is not an increasing position below ${h.tokens}`);
        }
      }
      return { uri, ...h, mask, docStarts };
    }),
  );
}

/** Token range `[start, end)` of the concatenation of `shards`. */
export class TokenStream {
  private readonly offsets: number[] = [0];
  readonly start: number;
  readonly end: number;
  private window: { shard: number; from: number; tokens: Uint32Array } | null = null;
  private maskWindow: { shard: number; from: number; bytes: Uint8Array } | null = null;
  /** Document starts within this stream (relative to `start`), ascending; null when not loaded. */
  readonly docStarts: Int32Array | null;
  /** Whether any shard has a loss mask. */
  readonly masked: boolean;

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
    this.masked = shards.some((s) => s.mask !== null);
    if (shards.every((s) => s.docStarts)) {
      const all: number[] = [];
      shards.forEach((s, i) => {
        for (const d of s.docStarts!) {
          const g = this.offsets[i]! + d;
          if (g >= this.start && g < this.end) all.push(g - this.start);
        }
      });
      this.docStarts = Int32Array.from(all);
    } else this.docStarts = null;
  }

  /** Positions (relative to `pos`) of the document starts in `[pos, pos+n)`. */
  docStartsIn(pos: number, n: number): number[] {
    const d = this.docStarts;
    if (!d) throw new Error('trainer: document starts were not loaded for this stream');
    let a = 0;
    let b = d.length;
    while (a < b) {
      const m = (a + b) >> 1;
      if (d[m]! < pos) a = m + 1;
      else b = m;
    }
    const out: number[] = [];
    for (let k = a; k < d.length && d[k]! < pos + n; k++) out.push(d[k]! - pos);
    return out;
  }

  /** Loss-mask bytes `[pos, pos+n)` (1 for shards without a mask). */
  async readMask(pos: number, n: number): Promise<Uint8Array> {
    this.checkRange(pos, n, 'mask read');
    const out = new Uint8Array(n);
    for (const { shard: i, local, take, done } of this.pieces(pos, n)) {
      const info = this.shards[i]!;
      if (!info.mask) out.fill(1, done, done + take);
      else {
        let w = this.maskWindow;
        if (!w || w.shard !== i || local < w.from || local + take > w.from + w.bytes.length) {
          const len = Math.min(info.tokens - local, Math.max(take, this.windowTokens));
          const bytes = await readRange(info.mask, local, local + len, this.store);
          if (bytes.byteLength !== len) throw new Error(`${info.mask}: short read at token ${local} (${bytes.byteLength} of ${len} bytes)`);
          w = this.maskWindow = { shard: i, from: local, bytes: Uint8Array.prototype.slice.call(bytes) };
        }
        out.set(w.bytes.subarray(local - w.from, local - w.from + take), done);
      }
    }
    return out;
  }

  get length(): number {
    return this.end - this.start;
  }

  /** Tokens `[pos, pos+n)` of this stream (pos relative to its start). */
  async read(pos: number, n: number): Promise<Int32Array> {
    this.checkRange(pos, n, 'read');
    const out = new Int32Array(n);
    for (const { shard, local, take, done } of this.pieces(pos, n)) await this.copy(shard, local, take, out, done);
    return out;
  }

  /** Throws unless `[pos, pos+n)` lies within the stream; `what` names the read. */
  private checkRange(pos: number, n: number, what: string): void {
    if (pos < 0 || pos + n > this.length) throw new Error(`trainer: ${what} [${pos}, ${pos + n}) outside a stream of ${this.length} tokens`);
  }

  /**
   * The pieces of `[pos, pos+n)` (a checked range) in order, one per shard it crosses: the shard,
   * the piece's first token within it (`local`), its length (`take`) and the tokens before it.
   */
  private *pieces(pos: number, n: number): Generator<{ shard: number; local: number; take: number; done: number }> {
    let g = this.start + pos;
    let done = 0;
    let i = 0;
    while (this.offsets[i + 1]! <= g) i++;
    while (done < n) {
      const local = g - this.offsets[i]!;
      const take = Math.min(n - done, this.shards[i]!.tokens - local);
      if (take > 0) {
        yield { shard: i, local, take, done };
        done += take;
        g += take;
      }
      i++;
    }
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

/**
 * One micro-batch: `x` and `y` are `[batch, ctx]` row-major, `y` shifted by one token.
 *
 * `mask` (`[batch·ctx]`, present when the shards have a loss mask or attention is `document`):
 * 1 where the target `y` is trained, 0 where it is not (the shards' mask byte of the target
 * token; with document attention also 0 where the target starts a document, since nothing of
 * its own document precedes it).
 *
 * `segments` and `positions` (`[batch·ctx]`, document attention only): a token attends to the
 * tokens at or before it with the same segment id in its row; a segment starts at each row start
 * and at each document start. `positions` restart at 0 at every segment start, so a document
 * packed after others sees exactly the positions it would see alone: packed and one-by-one
 * losses are then equal (to float rounding), which a test checks on both backends.
 */
export interface Batch {
  x: Int32Array;
  y: Int32Array;
  mask?: Float32Array;
  segments?: Int32Array;
  positions?: Int32Array;
}

/** Segment ids and restarted positions of `[batch, ctx]` rows whose document starts (relative to the batch's first token) are `starts`. */
export function documentLayout(batch: number, ctx: number, starts: readonly number[]): { segments: Int32Array; positions: Int32Array } {
  const n = batch * ctx;
  const isStart = new Uint8Array(n);
  for (const s of starts) if (s < n) isStart[s] = 1;
  const segments = new Int32Array(n);
  const positions = new Int32Array(n);
  let seg = -1;
  let segStart = 0;
  for (let i = 0; i < n; i++) {
    if (i % ctx === 0 || isStart[i]) {
      seg++;
      segStart = i;
    }
    segments[i] = seg;
    positions[i] = i - segStart;
  }
  return { segments, positions };
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
    readonly attention: AttentionMode = 'causal',
  ) {
    if (stream.length < batch * ctx + 1) throw new Error(`trainer: ${stream.length} tokens is less than one batch (${batch}×${ctx}+1)`);
    if (attention === 'document' && !stream.docStarts) throw new Error(`trainer: attention 'document' needs the shards' document starts (describeShards with docs)`);
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
    const at = this.pos;
    const buf = await this.stream.read(at, span + 1);
    this.pos += span;
    const out: Batch = { x: buf.subarray(0, span), y: buf.subarray(1, span + 1) };
    const doc = this.attention === 'document';
    if (this.stream.masked || doc) {
      const bytes = await this.stream.readMask(at + 1, span);
      const mask = new Float32Array(span);
      for (let i = 0; i < span; i++) mask[i] = bytes[i]!;
      if (doc) {
        const starts = this.stream.docStartsIn(at, span + 1);
        for (const s of starts) if (s >= 1) mask[s - 1] = 0;
        Object.assign(out, documentLayout(this.batch, this.ctx, starts));
      }
      out.mask = mask;
    }
    return out;
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
  attention: AttentionMode = 'causal',
): Promise<{ train: TokenStream; val: TokenStream }> {
  const docs = attention === 'document';
  const shards = await describeShards(train, store, { docs });
  const full = new TokenStream(shards, 0, undefined, store);
  if (val && val.length) return { train: full, val: new TokenStream(await describeShards(val, store, { docs }), 0, undefined, store) };
  const total = full.length;
  const hold = Math.max(valTokens ?? Math.min(Math.floor(total * 0.05), 1_000_000), span);
  if (total - hold < span) throw new Error(`trainer: ${total} tokens cannot hold a validation split of ${hold} and a training batch of ${span}`);
  return { train: new TokenStream(shards, 0, total - hold, store), val: new TokenStream(shards, total - hold, total, store) };
}
