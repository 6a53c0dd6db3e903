/**
 * Byte-level BPE encoder/decoder, byte-exact with tiktoken (rank files) and with Hugging Face
 * `tokenizers` (merge lists).
 *
 * Encoding a text: split at allowed special tokens; split each segment into pre-tokens (the
 * pattern); for each pre-token, (1) look the whole string up among the tokens (tiktoken does this
 * first, HF does when `ignore_merges`), (2) else look it up in a bounded cache, (3) else run the
 * merge loop over its UTF-8 bytes: repeatedly merge the adjacent pair of lowest rank, leftmost
 * first. Pair ranks come from a {@link PairTable}: for tiktoken vocabularies every split of every
 * token into two tokens (rank = the token's rank, exactly tiktoken's "concatenation is a token"
 * rule); for merge lists, the listed pairs (rank = list position). Pieces up to 64 bytes use an
 * array scan; longer ones a heap over a linked list, so a 1 MB run without spaces is O(n log n),
 * not O(n²).
 */
import { createHash } from 'node:crypto';
import { latin1, strictUtf8, utf8Scratch } from './bytes.ts';
import { PairTable } from './pair-table.ts';
import { PieceTable } from './piece-table.ts';
import { preTokenizer, type PreTokenizer } from './pattern.ts';

/** What defines a byte-level BPE tokenizer. */
export interface BpeDefinition {
  /** Name for messages and manifests, e.g. `cl100k_base` or the stage that trained it. */
  name: string;
  /** The bytes of each ordinary token, indexed by id (holes allowed, e.g. where specials sit). */
  tokens: Array<Uint8Array | undefined>;
  /**
   * Merge list in priority order, as pairs of token ids (HF semantics). Absent: tiktoken
   * semantics, where a token's id is its rank and any split into two tokens may merge into it.
   */
  merges?: Array<[number, number]>;
  /** Special tokens: string → id. */
  specials: Record<string, number>;
  /** Pre-tokenisation pattern (tiktoken dialect) or preset name (`gpt2`, `cl100k`, `o200k`). */
  pattern: string;
  /** Look the whole pre-token up before merging (tiktoken: always; HF: `ignore_merges`). Default true. */
  wholeTokenFirst?: boolean;
  /** The end-of-text special (default `<|endoftext|>` when present). */
  eot?: string;
}

/** Which special tokens `encode` recognises in text (default: none; they encode as plain text). */
export interface EncodeOptions {
  allowedSpecial?: 'all' | Iterable<string>;
}

const INF = 0x7fffffff;
const SMALL = 64;
const CACHE_MAX = 200_000;

/** A loaded byte-level BPE tokenizer: `encode`, `encodeOrdinary`, `decode`. */
export class BpeTokenizer {
  readonly name: string;
  readonly pattern: string;
  readonly specials: ReadonlyMap<string, number>;
  /** One past the largest id (ordinary or special): the size an embedding table needs. */
  readonly vocabSize: number;
  /** Id of the end-of-text token, or undefined when the vocabulary has none. */
  readonly eotId: number | undefined;
  readonly definition: BpeDefinition;

  private readonly pre: PreTokenizer;
  private readonly pairs: PairTable;
  private readonly byteIds = new Int32Array(256).fill(-1);
  private readonly pieces: PieceTable;
  private readonly bytesById: Array<Uint8Array | undefined>;
  private specialRe: RegExp | undefined;
  private fp: string | undefined;
  // Output buffer, grown as needed.
  private out = new Uint32Array(1 << 12);
  private n = 0;
  // Merge-loop scratch.
  private sIds = new Int32Array(SMALL);
  private sRanks = new Int32Array(SMALL);
  private sSlots = new Int32Array(SMALL);

  constructor(def: BpeDefinition) {
    this.definition = def;
    this.name = def.name;
    this.pre = preTokenizer(def.pattern);
    this.pattern = this.pre.pattern;
    this.specials = new Map(Object.entries(def.specials));
    this.bytesById = def.tokens.slice();
    const byKey = new Map<string, number>();
    let maxId = -1;
    def.tokens.forEach((b, id) => {
      if (!b) return;
      if (b.length === 0) throw new Error(`${def.name}: token ${id} is empty`);
      const key = latin1(b);
      if (byKey.has(key)) throw new Error(`${def.name}: tokens ${byKey.get(key)} and ${id} have the same bytes`);
      byKey.set(key, id);
      if (b.length === 1) this.byteIds[b[0]!] = id;
      maxId = Math.max(maxId, id);
    });
    for (let b = 0; b < 256; b++) if (this.byteIds[b] === -1) throw new Error(`${def.name}: byte ${b} has no token (not a byte-level vocabulary)`);
    for (const [s, id] of this.specials) {
      maxId = Math.max(maxId, id);
      if (def.tokens[id]) throw new Error(`${def.name}: special token ${JSON.stringify(s)} reuses ordinary id ${id}`);
      this.bytesById[id] = new TextEncoder().encode(s);
    }
    this.vocabSize = maxId + 1;
    const eot = def.eot ?? '<|endoftext|>';
    this.eotId = this.specials.get(eot);
    if (def.eot && this.eotId === undefined) throw new Error(`${def.name}: end-of-text token ${JSON.stringify(def.eot)} is not a special token`);

    if (def.merges) {
      this.pairs = new PairTable(def.merges.length + 1);
      def.merges.forEach(([a, b], rank) => {
        const ba = def.tokens[a];
        const bb = def.tokens[b];
        if (!ba || !bb) throw new Error(`${def.name}: merge ${rank} refers to unknown token ids ${a}, ${b}`);
        const joined = new Uint8Array(ba.length + bb.length);
        joined.set(ba);
        joined.set(bb, ba.length);
        const id = byKey.get(latin1(joined));
        if (id === undefined) throw new Error(`${def.name}: merge ${rank} (${a} + ${b}) produces bytes that are not a token`);
        this.pairs.set(a, b, rank, id);
      });
    } else {
      // Every split of every token into two tokens; collected first so the table is sized to
      // the pairs that exist (cl100k: 233k of 544k splits), not to the splits tried.
      const found: number[] = [];
      def.tokens.forEach((b, id) => {
        if (!b || b.length < 2) return;
        const key = latin1(b);
        for (let k = 1; k < key.length; k++) {
          const l = byKey.get(key.slice(0, k));
          if (l === undefined) continue;
          const r = byKey.get(key.slice(k));
          if (r !== undefined) found.push(l, r, id);
        }
      });
      this.pairs = new PairTable(found.length / 3 + 1);
      for (let i = 0; i < found.length; i += 3) this.pairs.set(found[i]!, found[i + 1]!, found[i + 2]!, found[i + 2]!);
    }
    const whole = def.wholeTokenFirst ?? true;
    this.pieces = new PieceTable(whole ? def.tokens.length : 0, CACHE_MAX);
    if (whole) {
      def.tokens.forEach((b, id) => {
        if (!b) return;
        const s = strictUtf8(b);
        if (s !== undefined) this.pieces.addStatic(s, id);
      });
    }
  }

  /** The bytes of a token (ordinary or special). */
  tokenBytes(id: number): Uint8Array {
    const b = this.bytesById[id];
    if (!b) throw new Error(`${this.name}: unknown token id ${id}`);
    return b;
  }

  /** A sha256 over the pattern, tokens, merges and specials: identifies the vocabulary. */
  get fingerprint(): string {
    if (this.fp) return this.fp;
    const h = createHash('sha256');
    h.update(`sluice.bpe/1\n${this.pattern}\n`);
    for (const [s, id] of [...this.specials].sort((a, b) => a[1] - b[1])) h.update(`special ${id} ${s}\n`);
    const len = Buffer.alloc(4);
    this.definition.tokens.forEach((b, id) => {
      if (!b) return;
      len.writeUInt32LE(id);
      h.update(len);
      len.writeUInt32LE(b.length);
      h.update(len);
      h.update(b);
    });
    if (this.definition.merges) for (const [a, b] of this.definition.merges) h.update(`${a} ${b}\n`);
    this.fp = h.digest('hex');
    return this.fp;
  }

  /** Encodes text; special tokens are recognised only when allowed (default: none, plain text). */
  encode(text: string, opts: EncodeOptions = {}): Uint32Array {
    this.n = 0;
    const re = opts.allowedSpecial ? this.specialRegex(opts.allowedSpecial) : undefined;
    if (!re) this.encodeSegment(text);
    else {
      let pos = 0;
      re.lastIndex = 0;
      for (let m = re.exec(text); m; m = re.exec(text)) {
        if (m.index > pos) this.encodeSegment(text.slice(pos, m.index));
        this.push(this.specials.get(m[0])!);
        pos = m.index + m[0].length;
      }
      if (pos < text.length) this.encodeSegment(pos === 0 ? text : text.slice(pos));
    }
    return this.out.slice(0, this.n);
  }

  /** Encodes text with no special-token recognition (`<|endoftext|>` in the text is plain text). */
  encodeOrdinary(text: string): Uint32Array {
    return this.encode(text);
  }

  /** Splits text into pre-tokens (what the encoder merges within). */
  preTokens(text: string): string[] {
    const out: string[] = [];
    for (let pos = 0; pos < text.length; ) {
      const end = this.pre.next(text, pos);
      if (end < 0) break;
      out.push(text.slice(this.pre.start, end));
      pos = end;
    }
    return out;
  }

  /** The bytes of a sequence of ids. */
  decodeBytes(ids: ArrayLike<number>): Uint8Array {
    let total = 0;
    for (let i = 0; i < ids.length; i++) total += this.tokenBytes(ids[i]!).length;
    const out = new Uint8Array(total);
    let o = 0;
    for (let i = 0; i < ids.length; i++) {
      const b = this.bytesById[ids[i]!]!;
      out.set(b, o);
      o += b.length;
    }
    return out;
  }

  /** Decodes ids to text; invalid UTF-8 (a split multi-byte char) becomes U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    return Buffer.from(this.decodeBytes(ids)).toString('utf8');
  }

  private specialRegex(allowed: 'all' | Iterable<string>): RegExp | undefined {
    if (allowed === 'all') {
      if (this.specials.size === 0) return undefined;
      return (this.specialRe ??= buildSpecialRegex([...this.specials.keys()]));
    }
    const list = [...allowed];
    for (const s of list) if (!this.specials.has(s)) throw new Error(`${this.name}: ${JSON.stringify(s)} is not a special token of this vocabulary`);
    return list.length ? buildSpecialRegex(list) : undefined;
  }

  private push(id: number): void {
    if (this.n === this.out.length) {
      const o = new Uint32Array(this.out.length * 2);
      o.set(this.out);
      this.out = o;
    }
    this.out[this.n++] = id;
  }

  private encodeSegment(text: string): void {
    const pre = this.pre;
    const pieces = this.pieces;
    const len = text.length;
    // Worst case one token per UTF-16 unit, plus the specials already there.
    if (this.out.length < this.n + len + 1) {
      let cap = this.out.length;
      while (cap < this.n + len + 1) cap *= 2;
      const o = new Uint32Array(cap);
      o.set(this.out.subarray(0, this.n));
      this.out = o;
    }
    const out = this.out;
    let n = this.n;
    let pos = 0;
    while (pos < len) {
      const end = pre.next(text, pos);
      if (end < 0) break;
      const start = pre.start;
      pos = end;
      let e = pieces.find(text, start, end);
      if (e < 0) {
        const piece = text.slice(start, end);
        const ids = this.bpe(utf8Scratch(piece));
        pieces.cache(piece, ids);
        if (typeof ids === 'number') out[n++] = ids;
        else {
          out.set(ids, n);
          n += ids.length;
        }
        continue;
      }
      const id = pieces.one(e);
      if (id >= 0) out[n++] = id;
      else {
        const ids = pieces.many(e);
        out.set(ids, n);
        n += ids.length;
      }
    }
    this.n = n;
  }

  /** Merges the bytes of one pre-token into token ids. */
  private bpe(bytes: Uint8Array): number | Uint32Array {
    const n = bytes.length;
    if (n === 1) return this.byteIds[bytes[0]!]!;
    if (n > SMALL) return this.bpeLarge(bytes);
    const ids = this.sIds;
    const ranks = this.sRanks;
    const slots = this.sSlots;
    const pairs = this.pairs;
    const pr = pairs.ranks;
    for (let i = 0; i < n; i++) ids[i] = this.byteIds[bytes[i]!]!;
    for (let i = 0; i < n - 1; i++) {
      const s = pairs.find(ids[i]!, ids[i + 1]!);
      slots[i] = s;
      ranks[i] = s < 0 ? INF : pr[s]!;
    }
    let m = n;
    while (m > 1) {
      let best = INF;
      let at = -1;
      for (let i = 0; i < m - 1; i++) {
        const r = ranks[i]!;
        if (r < best) {
          best = r;
          at = i;
        }
      }
      if (at < 0) break;
      ids[at] = pairs.ids[slots[at]!]!;
      for (let i = at + 1; i < m - 1; i++) {
        ids[i] = ids[i + 1]!;
        ranks[i] = ranks[i + 1]!;
        slots[i] = slots[i + 1]!;
      }
      m--;
      if (at > 0) {
        const s = pairs.find(ids[at - 1]!, ids[at]!);
        slots[at - 1] = s;
        ranks[at - 1] = s < 0 ? INF : pr[s]!;
      }
      if (at < m - 1) {
        const s = pairs.find(ids[at]!, ids[at + 1]!);
        slots[at] = s;
        ranks[at] = s < 0 ? INF : pr[s]!;
      }
    }
    if (m === 1) return ids[0]!;
    return Uint32Array.from(ids.subarray(0, m));
  }

  /** The merge loop for long pieces: a min-heap of (rank, position) over a linked list. */
  private bpeLarge(bytes: Uint8Array): Uint32Array {
    const n = bytes.length;
    if (n >= 1 << 26) throw new Error(`${this.name}: a single pre-token of ${n} bytes is too long to merge (limit 64 MiB)`);
    const pairs = this.pairs;
    const ids = new Int32Array(n);
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      ids[i] = this.byteIds[bytes[i]!]!;
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    const SHIFT = 67108864; // 2^26: key = rank * 2^26 + position, exact in a double
    const heap = new MinHeap(n);
    const rankAt = (i: number): number => {
      const j = next[i]!;
      if (j < 0) return -1;
      const s = pairs.find(ids[i]!, ids[j]!);
      return s < 0 ? -1 : pairs.ranks[s]!;
    };
    for (let i = 0; i < n - 1; i++) {
      const r = rankAt(i);
      if (r >= 0) heap.push(r * SHIFT + i);
    }
    let count = n;
    while (heap.size > 0) {
      const key = heap.pop();
      const i = key % SHIFT;
      const r = (key - i) / SHIFT;
      if (ids[i] === -1 || rankAt(i) !== r) continue; // stale entry
      const j = next[i]!;
      ids[i] = pairs.ids[pairs.find(ids[i]!, ids[j]!)]!;
      ids[j] = -1;
      next[i] = next[j]!;
      if (next[j]! >= 0) prev[next[j]!] = i;
      count--;
      const p = prev[i]!;
      if (p >= 0) {
        const rp = rankAt(p);
        if (rp >= 0) heap.push(rp * SHIFT + p);
      }
      const rn = rankAt(i);
      if (rn >= 0) heap.push(rn * SHIFT + i);
    }
    const out = new Uint32Array(count);
    let o = 0;
    for (let i = 0; i >= 0; i = next[i]!) out[o++] = ids[i]!;
    return out;
  }
}

/** A binary min-heap of doubles. */
class MinHeap {
  private a: Float64Array;
  size = 0;
  constructor(cap: number) {
    this.a = new Float64Array(Math.max(16, cap));
  }
  push(v: number): void {
    if (this.size === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    const a = this.a;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= v) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = v;
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    const last = a[--this.size]!;
    let i = 0;
    const n = this.size;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && a[c + 1]! < a[c]!) c++;
      if (a[c]! >= last) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

function buildSpecialRegex(list: string[]): RegExp {
  // Longest first, so a special that prefixes another cannot shadow it.
  const sorted = [...list].sort((a, b) => b.length - a.length);
  return new RegExp(sorted.map((s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'), 'gu');
}
