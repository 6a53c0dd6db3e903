/**
 * Byte-level BPE training.
 *
 * 1. Counting (streaming): texts are split at special tokens (which never merge with their
 *    neighbours), pre-tokenised with the pattern, and each pre-token string counted. Memory is
 *    bounded by `maxWords` distinct pre-tokens: past it, the rarest entries are pruned (all
 *    counts ≤ t, for the smallest t that frees a quarter of the table), and the stats say so.
 *    Below the cap, training is exact.
 * 2. Merging: pair counts are kept incrementally. Each merge touches only the words that hold
 *    the pair (an index pair → words); a max-heap with lazy invalidation yields the most frequent
 *    pair, ties broken by the lexicographically greater pair of byte strings (the rule of the
 *    CS336 reference and of HF `tokenizers`' trainer on equal counts).
 *
 * Ids: specials first (0…k−1), then the 256 bytes in GPT-2's `bytes_to_unicode` order, then one
 * id per merge, in merge order — the layout of the CS336 reference vocabulary.
 */
import { gpt2ByteOrder, utf8Scratch } from './bytes.ts';
import { preTokenizer, type PreTokenizer } from './pattern.ts';
import type { BpeDefinition } from './tokenizer.ts';

/** Options of {@link BpeTrainer}. */
export interface BpeTrainOptions {
  /** Final vocabulary size, specials and the 256 byte tokens included. */
  vocabSize: number;
  /** Special tokens (default `['<|endoftext|>']`); the first is the end-of-text token. */
  specials?: string[];
  /** Pre-tokenisation pattern or preset `gpt2` | `cl100k` | `o200k` (default `gpt2`). */
  pattern?: string;
  /** Distinct pre-tokens kept while counting before the rarest are pruned (default 4,000,000). */
  maxWords?: number;
  /** Stop merging when the best pair occurs fewer times than this (default 1: merge until the vocabulary is full). */
  minFrequency?: number;
  /** Name recorded in the definition (default `bpe`). */
  name?: string;
}

/** What training did, for manifests and logs. */
export interface BpeTrainStats {
  /** Characters (UTF-16 units) of text counted. */
  chars: number;
  /** Pre-tokens counted (with repetition). */
  words: number;
  /** Distinct pre-tokens trained on. */
  distinctWords: number;
  /** Distinct pre-tokens dropped by pruning (0: training was exact). */
  prunedWords: number;
  /** Largest count pruned. */
  pruneThreshold: number;
  merges: number;
  /** Seconds spent merging (counting is streamed by the caller). */
  mergeSeconds: number;
}

/** Counts pre-tokens streamed in with `add`, then `train()` learns the merges. */
export class BpeTrainer {
  readonly vocabSize: number;
  readonly specials: string[];
  readonly pattern: string;
  private readonly pre: PreTokenizer;
  private readonly maxWords: number;
  private readonly minFrequency: number;
  private readonly name: string;
  private counts = new Map<string, number>();
  private readonly specialRe: RegExp | undefined;
  private stats = { chars: 0, words: 0, prunedWords: 0, pruneThreshold: 0 };

  constructor(opts: BpeTrainOptions) {
    this.specials = opts.specials ?? ['<|endoftext|>'];
    this.vocabSize = opts.vocabSize;
    if (!Number.isInteger(this.vocabSize) || this.vocabSize < this.specials.length + 256) {
      throw new Error(`trainBpe: vocabSize must be an integer ≥ ${this.specials.length + 256} (specials + 256 bytes), got ${opts.vocabSize}`);
    }
    if (new Set(this.specials).size !== this.specials.length || this.specials.some((s) => !s)) throw new Error(`trainBpe: specials must be distinct non-empty strings: ${JSON.stringify(this.specials)}`);
    this.pre = preTokenizer(opts.pattern ?? 'gpt2');
    this.pattern = this.pre.pattern;
    this.maxWords = opts.maxWords ?? 4_000_000;
    this.minFrequency = opts.minFrequency ?? 1;
    this.name = opts.name ?? 'bpe';
    this.specialRe = this.specials.length
      ? new RegExp([...this.specials].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|'), 'g')
      : undefined;
  }

  /** Counts the pre-tokens of one text (special tokens in it separate, and are not counted). */
  add(text: string): void {
    this.stats.chars += text.length;
    if (this.specialRe) {
      this.specialRe.lastIndex = 0;
      let pos = 0;
      for (let m = this.specialRe.exec(text); m; m = this.specialRe.exec(text)) {
        if (m.index > pos) this.count(text.slice(pos, m.index));
        pos = m.index + m[0].length;
      }
      if (pos < text.length) this.count(pos === 0 ? text : text.slice(pos));
    } else this.count(text);
  }

  private count(text: string): void {
    const pre = this.pre;
    const counts = this.counts;
    let pos = 0;
    let n = 0;
    while (pos < text.length) {
      const end = pre.next(text, pos);
      if (end < 0) break;
      const w = text.slice(pre.start, end);
      counts.set(w, (counts.get(w) ?? 0) + 1);
      pos = end;
      n++;
    }
    this.stats.words += n;
    if (counts.size > this.maxWords) this.prune();
  }

  /** Drops the rarest distinct pre-tokens until at most 3/4 of `maxWords` remain. */
  private prune(): void {
    const target = Math.floor(this.maxWords * 0.75);
    const hist = new Map<number, number>();
    for (const c of this.counts.values()) hist.set(c, (hist.get(c) ?? 0) + 1);
    const levels = [...hist.keys()].sort((a, b) => a - b);
    let remaining = this.counts.size;
    let t = 0;
    for (const c of levels) {
      if (remaining <= target) break;
      remaining -= hist.get(c)!;
      t = c;
    }
    const before = this.counts.size;
    for (const [w, c] of this.counts) if (c <= t) this.counts.delete(w);
    this.stats.prunedWords += before - this.counts.size;
    this.stats.pruneThreshold = Math.max(this.stats.pruneThreshold, t);
  }

  /** Learns the merges from the counts; returns the tokenizer definition and what happened. */
  train(): { definition: BpeDefinition; stats: BpeTrainStats } {
    const t0 = performance.now();
    const k = this.specials.length;
    const V = this.vocabSize;
    const tokens: Array<Uint8Array | undefined> = new Array(V);
    const tokStr: string[] = new Array(V); // latin1 spelling, for the lexicographic tie-break
    const byteId = new Int32Array(256);
    gpt2ByteOrder().forEach((b, i) => {
      byteId[b] = k + i;
      tokens[k + i] = Uint8Array.of(b);
      tokStr[k + i] = String.fromCharCode(b);
    });
    const specials: Record<string, number> = {};
    this.specials.forEach((s, i) => (specials[s] = i));

    // Words as symbol arrays with their counts.
    const nWords = this.counts.size;
    const words: Int32Array[] = new Array(nWords);
    const lens = new Int32Array(nWords);
    const wc = new Float64Array(nWords);
    let wi = 0;
    for (const [w, c] of this.counts) {
      const b = utf8Scratch(w);
      const syms = new Int32Array(b.length);
      for (let i = 0; i < b.length; i++) syms[i] = byteId[b[i]!]!;
      words[wi] = syms;
      lens[wi] = b.length;
      wc[wi++] = c;
    }
    this.counts = new Map(); // free the strings

    // Pair counts and the pair → words index.
    const pc = new Map<number, number>();
    const where = new Map<number, number[]>();
    for (let w = 0; w < nWords; w++) {
      const s = words[w]!;
      const c = wc[w]!;
      for (let i = 0; i + 1 < lens[w]!; i++) {
        const key = s[i]! * V + s[i + 1]!;
        pc.set(key, (pc.get(key) ?? 0) + c);
        let list = where.get(key);
        if (!list) where.set(key, (list = []));
        if (list[list.length - 1] !== w) list.push(w);
      }
    }
    const heap = new PairHeap(V, tokStr);
    for (const [key, c] of pc) heap.push(c, key);

    const merges: Array<[number, number]> = [];
    const stamp = new Int32Array(nWords).fill(-1);
    const delta = new Map<number, number>();
    let next = k + 256;
    while (next < V && heap.size > 0) {
      const { c, key } = heap.pop();
      const cur = pc.get(key) ?? 0;
      if (c !== cur) {
        if (cur > 0) heap.push(cur, key);
        continue;
      }
      if (c < this.minFrequency || c <= 0) break;
      const a = Math.floor(key / V);
      const b = key - a * V;
      const z = next++;
      merges.push([a, b]);
      const ba = tokens[a]!;
      const bb = tokens[b]!;
      const bz = new Uint8Array(ba.length + bb.length);
      bz.set(ba);
      bz.set(bb, ba.length);
      tokens[z] = bz;
      tokStr[z] = tokStr[a]! + tokStr[b]!;

      const list = where.get(key) ?? [];
      where.delete(key);
      delta.clear();
      for (const w of list) {
        if (stamp[w] === z) continue;
        stamp[w] = z;
        const s = words[w]!;
        let n = lens[w]!;
        let has = false;
        for (let i = 0; i + 1 < n; i++) if (s[i] === a && s[i + 1] === b) { has = true; break; }
        if (!has) continue;
        const c0 = wc[w]!;
        for (let i = 0; i + 1 < n; i++) {
          const kk = s[i]! * V + s[i + 1]!;
          delta.set(kk, (delta.get(kk) ?? 0) - c0);
        }
        let o = 0;
        for (let i = 0; i < n; ) {
          if (i + 1 < n && s[i] === a && s[i + 1] === b) {
            s[o++] = z;
            i += 2;
          } else s[o++] = s[i++]!;
        }
        n = lens[w] = o;
        for (let i = 0; i + 1 < n; i++) {
          const l = s[i]!;
          const r = s[i + 1]!;
          const kk = l * V + r;
          delta.set(kk, (delta.get(kk) ?? 0) + c0);
          if (l === z || r === z) {
            let wl = where.get(kk);
            if (!wl) where.set(kk, (wl = []));
            if (wl[wl.length - 1] !== w) wl.push(w);
          }
        }
      }
      for (const [kk, d] of delta) {
        if (d === 0) continue;
        const nc = (pc.get(kk) ?? 0) + d;
        if (nc <= 0) pc.delete(kk);
        else pc.set(kk, nc);
        if (d > 0) heap.push(nc, kk);
      }
      pc.delete(key);
    }
    const definition: BpeDefinition = {
      name: this.name,
      tokens: tokens.slice(0, next),
      merges,
      specials,
      pattern: this.pattern,
      wholeTokenFirst: true,
      eot: this.specials[0],
    };
    return {
      definition,
      stats: { ...this.stats, distinctWords: nWords, merges: merges.length, mergeSeconds: (performance.now() - t0) / 1000 },
    };
  }
}

/** Max-heap of (count, pair key); equal counts: the lexicographically greater (left, right) bytes first. */
class PairHeap {
  private c: number[] = [];
  private k: number[] = [];
  constructor(
    private readonly V: number,
    private readonly str: string[],
  ) {}
  get size(): number {
    return this.c.length;
  }
  /** True when entry i ranks above entry j. */
  private above(ci: number, ki: number, cj: number, kj: number): boolean {
    if (ci !== cj) return ci > cj;
    const V = this.V;
    const ai = Math.floor(ki / V);
    const aj = Math.floor(kj / V);
    const sa = this.str[ai]!;
    const sb = this.str[aj]!;
    if (sa !== sb) return sa > sb;
    return this.str[ki - ai * V]! > this.str[kj - aj * V]!;
  }
  push(count: number, key: number): void {
    const c = this.c;
    const k = this.k;
    let i = c.length;
    c.push(count);
    k.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.above(count, key, c[p]!, k[p]!)) break;
      c[i] = c[p]!;
      k[i] = k[p]!;
      i = p;
    }
    c[i] = count;
    k[i] = key;
  }
  pop(): { c: number; key: number } {
    const c = this.c;
    const k = this.k;
    const top = { c: c[0]!, key: k[0]! };
    const lc = c.pop()!;
    const lk = k.pop()!;
    const n = c.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let ch = 2 * i + 1;
        if (ch >= n) break;
        if (ch + 1 < n && this.above(c[ch + 1]!, k[ch + 1]!, c[ch]!, k[ch]!)) ch++;
        if (!this.above(c[ch]!, k[ch]!, lc, lk)) break;
        c[i] = c[ch]!;
        k[i] = k[ch]!;
        i = ch;
      }
      c[i] = lc;
      k[i] = lk;
    }
    return top;
  }
}
