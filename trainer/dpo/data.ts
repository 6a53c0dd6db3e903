/**
 * Tokenized preference pairs and their fixed batch layout: what the `train.dpo` reference stage
 * writes and the DPO loops of both backends read.
 *
 * A sequence is the rendered prompt + response, as token ids with a parallel loss mask (1 = a
 * response token). Position j's token is predicted from tokens [0, j), so a sequence of L tokens
 * is L − 1 predictions, and its log-probability is the sum over the positions j ≥ 1 whose mask is 1.
 *
 * The layout fixes, once, which pairs are held out (the last `heldout` share in an order hashed
 * from the pair ids and the seed: a split by pair, stable when pairs are added or removed) and
 * which pairs share a micro-batch. Both the reference pass and training run these same
 * micro-batches with the same padding, so with policy = reference their log-probabilities are
 * bit-identical and the first sigmoid loss is exactly ln 2. Epochs revisit the training
 * micro-batches in a seeded order per epoch (`epochOrder`).
 *
 * On disk (a directory): `pairs.json` (this header: ids, offsets, lengths, split, micro-batches,
 * the reference log-probabilities), `tokens.bin` (int32 little-endian, every sequence back to back)
 * and `mask.bin` (uint8, parallel to tokens.bin). numpy reads both with `np.fromfile`.
 */
import { createHash } from 'node:crypto';

/** One tokenized sequence. */
export interface PairSequence {
  tokens: ArrayLike<number>;
  /** Parallel to `tokens`: 1 = a response token (scored), 0 = prompt / template. */
  mask: ArrayLike<number>;
}

/** A pair to lay out. */
export interface TokenizedPair {
  id: string;
  chosen: PairSequence;
  rejected: PairSequence;
}

/** One pair in a {@link PairSet}: where its two sequences are in the token arrays. */
export interface PairEntry {
  id: string;
  /** [offset, length] of the chosen and rejected sequences in `tokens`/`mask`. */
  chosen: [number, number];
  rejected: [number, number];
  /** Response tokens (mask = 1 at positions ≥ 1) of each. */
  nChosen: number;
  nRejected: number;
}

/** The header of a pair set (`pairs.json`). */
export interface PairSetHeader {
  format: 'sluice.dpo-pairs/1';
  /** Longest sequence allowed: the model's context length + 1. */
  maxTokens: number;
  batchSize: number;
  seed: number;
  heldout: number;
  pairs: PairEntry[];
  /** Micro-batches (pair indices) of the training and the held-out split. */
  train: number[][];
  heldoutBatches: number[][];
  /** Reference log-probabilities per pair (null until the reference pass ran). */
  ref: { chosen: number[]; rejected: number[]; backend: string; model: string } | null;
}

/** A pair set in memory. */
export interface PairSet {
  header: PairSetHeader;
  tokens: Int32Array;
  mask: Uint8Array;
}

/** Response tokens of a sequence: mask = 1 at positions ≥ 1 (position 0 has no prediction). */
export function responseTokens(s: PairSequence): number {
  let n = 0;
  for (let j = 1; j < s.mask.length; j++) if (s.mask[j]) n++;
  return n;
}

function hashKey(seed: number, id: string): string {
  return createHash('sha256').update(`${seed}\u0000${id}`).digest('hex');
}

/**
 * Lays pairs out (see the module comment). Throws on a sequence longer than `maxTokens`, a
 * sequence without response tokens, or a duplicate id: the caller drops such pairs with an audit
 * reason before.
 */
export function layoutPairs(pairs: readonly TokenizedPair[], o: { maxTokens: number; batchSize: number; heldout: number; seed: number }): PairSet {
  if (!(o.heldout >= 0 && o.heldout < 1)) throw new Error(`train.dpo: heldout must be in [0, 1), got ${o.heldout}`);
  const seen = new Set<string>();
  const order = pairs.map((p, i) => ({ i, key: hashKey(o.seed, p.id) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  let total = 0;
  for (const p of pairs) {
    if (seen.has(p.id)) throw new Error(`train.dpo: two pairs have the id ${JSON.stringify(p.id)}`);
    seen.add(p.id);
    for (const [which, s] of [['chosen', p.chosen], ['rejected', p.rejected]] as const) {
      if (s.tokens.length !== s.mask.length) throw new Error(`train.dpo: pair ${p.id}: ${which} has ${s.tokens.length} tokens and ${s.mask.length} mask entries`);
      if (s.tokens.length > o.maxTokens) throw new Error(`train.dpo: pair ${p.id}: ${which} has ${s.tokens.length} tokens, more than ${o.maxTokens}`);
      if (responseTokens(s) < 1) throw new Error(`train.dpo: pair ${p.id}: ${which} has no response token`);
      total += s.tokens.length;
    }
  }
  const tokens = new Int32Array(total);
  const mask = new Uint8Array(total);
  const entries: PairEntry[] = [];
  let at = 0;
  const put = (s: PairSequence): [number, number] => {
    const start = at;
    for (let j = 0; j < s.tokens.length; j++) {
      tokens[at] = s.tokens[j]!;
      mask[at] = s.mask[j] ? 1 : 0;
      at++;
    }
    return [start, s.tokens.length];
  };
  for (const { i } of order) {
    const p = pairs[i]!;
    entries.push({ id: p.id, chosen: put(p.chosen), rejected: put(p.rejected), nChosen: responseTokens(p.chosen), nRejected: responseTokens(p.rejected) });
  }
  const n = entries.length;
  let k = Math.round(o.heldout * n);
  if (o.heldout > 0 && n >= 2) k = Math.min(n - 1, Math.max(1, k));
  const chunk = (from: number, to: number): number[][] => {
    const out: number[][] = [];
    for (let s = from; s < to; s += o.batchSize) out.push(Array.from({ length: Math.min(o.batchSize, to - s) }, (_, j) => s + j));
    return out;
  };
  return {
    header: { format: 'sluice.dpo-pairs/1', maxTokens: o.maxTokens, batchSize: o.batchSize, seed: o.seed, heldout: o.heldout, pairs: entries, train: chunk(0, n - k), heldoutBatches: chunk(n - k, n), ref: null },
    tokens,
    mask,
  };
}

/** The order in which epoch `epoch` visits the `count` training micro-batches (a seeded Fisher–Yates shuffle). */
export function epochOrder(count: number, seed: number, epoch: number): number[] {
  const out = Array.from({ length: count }, (_, i) => i);
  let s = (Math.imul(seed ^ 0x9e3779b9, 2654435761) + epoch * 0x6d2b79f5) >>> 0;
  const rand = () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Padded width of a micro-batch: its longest sequence minus one, rounded up to a multiple of 8, at most `maxTokens − 1`. */
export function batchWidth(set: PairSet, batch: readonly number[]): number {
  let longest = 2;
  for (const i of batch) {
    const p = set.header.pairs[i]!;
    longest = Math.max(longest, p.chosen[1], p.rejected[1]);
  }
  return Math.min(set.header.maxTokens - 1, Math.ceil((longest - 1) / 8) * 8);
}

/** A micro-batch as model inputs: rows = the chosen sequences, then the rejected ones. */
export interface PairBatch {
  /** Pairs in the batch (P); rows S = 2P. */
  pairs: number;
  /** Padded width T. */
  width: number;
  /** Inputs and targets `[S, T]` row-major; padding is token 0. */
  x: Int32Array;
  y: Int32Array;
  /** 1 where the target is a response token, `[S, T]`. */
  weight: Float32Array;
  /** Response token counts per pair. */
  lenChosen: Float64Array;
  lenRejected: Float64Array;
  refChosen: Float64Array;
  refRejected: Float64Array;
}

/** Builds the inputs of micro-batch `batch` (pair indices). */
export function pairBatch(set: PairSet, batch: readonly number[]): PairBatch {
  const P = batch.length;
  const S = 2 * P;
  const T = batchWidth(set, batch);
  const x = new Int32Array(S * T);
  const y = new Int32Array(S * T);
  const weight = new Float32Array(S * T);
  const fill = (row: number, [off, len]: [number, number]) => {
    for (let j = 0; j + 1 < len; j++) {
      x[row * T + j] = set.tokens[off + j]!;
      y[row * T + j] = set.tokens[off + j + 1]!;
      weight[row * T + j] = set.mask[off + j + 1]!;
    }
  };
  const b: PairBatch = { pairs: P, width: T, x, y, weight, lenChosen: new Float64Array(P), lenRejected: new Float64Array(P), refChosen: new Float64Array(P), refRejected: new Float64Array(P) };
  const ref = set.header.ref;
  batch.forEach((i, r) => {
    const p = set.header.pairs[i]!;
    fill(r, p.chosen);
    fill(P + r, p.rejected);
    b.lenChosen[r] = p.nChosen;
    b.lenRejected[r] = p.nRejected;
    b.refChosen[r] = ref ? ref.chosen[i]! : Number.NaN;
    b.refRejected[r] = ref ? ref.rejected[i]! : Number.NaN;
  });
  return b;
}

/** Files of a pair set directory. */
export const PAIR_FILES = { header: 'pairs.json', tokens: 'tokens.bin', mask: 'mask.bin' } as const;

/** The three files of a pair set, as bytes. */
export function encodePairSet(set: PairSet): Record<keyof typeof PAIR_FILES, Uint8Array> {
  return {
    header: Buffer.from(JSON.stringify(set.header)),
    tokens: new Uint8Array(set.tokens.buffer, set.tokens.byteOffset, set.tokens.byteLength),
    mask: set.mask,
  };
}

/** Reads a pair set from its three files; errors name `where`. */
export function decodePairSet(files: Record<keyof typeof PAIR_FILES, Uint8Array>, where: string): PairSet {
  let header: PairSetHeader;
  try {
    header = JSON.parse(Buffer.from(files.header).toString('utf8')) as PairSetHeader;
  } catch (e) {
    throw new Error(`${where}/${PAIR_FILES.header}: invalid JSON: ${(e as Error).message}`);
  }
  if (header.format !== 'sluice.dpo-pairs/1') throw new Error(`${where}/${PAIR_FILES.header}: format ${JSON.stringify(header.format)}, expected "sluice.dpo-pairs/1"`);
  if (files.tokens.byteLength % 4) throw new Error(`${where}/${PAIR_FILES.tokens}: ${files.tokens.byteLength} bytes is not a whole number of int32 tokens`);
  const tokens = new Int32Array(Uint8Array.prototype.slice.call(files.tokens).buffer);
  if (files.mask.byteLength !== tokens.length) throw new Error(`${where}/${PAIR_FILES.mask}: ${files.mask.byteLength} entries for ${tokens.length} tokens`);
  return { header, tokens, mask: Uint8Array.prototype.slice.call(files.mask) };
}
