/**
 * The n-gram index of benchmark items: the contamination check indexes the benchmarks (small)
 * and streams the training data past them (large), GPT-3 style.
 *
 * Each item contributes the n-grams of its indexed text (question, answers or both, in order,
 * normalised). An item shorter than N units (but at least `minLength`) contributes its whole
 * normalised text as one shorter gram, so it is flagged only when all of it appears verbatim:
 * 45% of PIQA's items have no field of 13 words, and 8 have only 5 words in all.
 *
 * Storage: 64-bit keys as two Int32Arrays in an open-addressing table (load ≤ 0.5, linear
 * probing), gram → items as CSR arrays, and a one-probe bit filter (16 bits per gram, ~6% false
 * positives) checked before the table so most training positions touch only L2-sized memory.
 */
import type { EvalItem } from '../loaders.ts';
import { finishKey1, gramKey2, rawGram1, hashTokens, hashWords, MAX_NGRAM, normalizeWords, pairKey, prefixSums, UnitBuffer, NORMALISATION } from './normalize.ts';

/** Which text of an item is indexed: its question/context, its answers, or both (default). */
export type IndexFields = 'question' | 'answer' | 'both';
/** Words (normalised text) or token ids (token-shard training data; needs `encode`). */
export type NgramUnit = 'words' | 'tokens';

export interface IndexOptions {
  /** N, in units (default 13 as GPT-3; 8 for PaLM/Llama-style checks). */
  ngram?: number;
  /** Text indexed per item (default `both`). */
  fields?: IndexFields;
  /** Items (token mode: fields) shorter than N but at least this long are indexed whole (default 5). */
  minLength?: number;
  /** Unit of the n-grams (default `words`). */
  unit?: NgramUnit;
  /** Token mode: the training data's tokenizer (no special tokens). */
  encode?: (text: string) => number[];
  /**
   * An n-gram shared by more than this many items of the indexed benchmarks is template text
   * (MMLU's "For which of these two scenarios does the main character …"), not evidence about any
   * one item: it is left out of the index (default 3).
   */
  maxItems?: number;
}

/** The texts of an item that `fields` selects, in order. */
export function itemTexts(item: EvalItem, fields: IndexFields): string[] {
  let q: string[], a: string[];
  switch (item.kind) {
    case 'choice':
      q = [item.question];
      a = item.choices;
      break;
    case 'partial':
      // The sentence as written is the gold option's context plus the shared continuation.
      q = [item.contexts[item.gold]!];
      a = [item.continuation];
      break;
    case 'cloze':
      q = [item.context];
      a = [item.continuation];
      break;
    default: {
      const never: never = item;
      throw new Error(`unknown item kind ${JSON.stringify(never)}`);
    }
  }
  switch (fields) {
    case 'question':
      return q;
    case 'answer':
      return a;
    case 'both':
      return [...q, ...a];
    default: {
      const never: never = fields;
      throw new Error(`unknown fields '${String(never)}'`);
    }
  }
}

/** One indexed item. */
export interface IndexedItem {
  benchmark: string;
  id: string;
  /** Index into the benchmark's items. */
  index: number;
  /** Distinct grams of the item (0 when it is shorter than `minLength`). */
  grams: number;
  /** Length of its indexed text in units. */
  length: number;
  /** Indexed whole because it is shorter than N. */
  short: boolean;
}

/** A benchmark's span of the index's items. */
export interface IndexedBenchmark {
  name: string;
  first: number;
  count: number;
}

/** The n-gram index of a set of benchmarks. Build it with `buildIndex`. */
export class NgramIndex {
  readonly ngram: number;
  readonly fields: IndexFields;
  readonly minLength: number;
  readonly unit: NgramUnit;
  readonly maxItems: number;
  /** Grams left out as template text (shared by more than `maxItems` items). */
  templateGrams = 0;
  readonly items: IndexedItem[] = [];
  readonly benchmarks: IndexedBenchmark[] = [];
  /** Per item, its units as text (words, or token ids), for showing matched grams. */
  readonly itemUnits: string[][] = [];
  /** Open-addressing table: key halves and gram ids (-1 empty). */
  keys1 = new Int32Array(0);
  keys2 = new Int32Array(0);
  slots = new Int32Array(0);
  mask = 0;
  /** Bit filter over the high bits of the raw first key half (one probe): bit = raw >>> filterShift. */
  filter = new Int32Array(0);
  filterShift = 0;
  /** Gram lengths shorter than N present in the index, and a bit filter over their first two units. */
  shortLengths: number[] = [];
  pairFilter = new Int32Array(0);
  pairShift = 0;
  /** Gram → items (CSR) and a representative occurrence (item, unit offset) and length. */
  gramItemStart = new Int32Array(1);
  gramItems = new Int32Array(0);
  gramRepItem = new Int32Array(0);
  gramRepPos = new Int32Array(0);
  gramLen = new Int32Array(0);
  gramCount = 0;

  constructor(opts: Required<Omit<IndexOptions, 'encode'>>) {
    this.ngram = opts.ngram;
    this.fields = opts.fields;
    this.minLength = opts.minLength;
    this.unit = opts.unit;
    this.maxItems = opts.maxItems;
  }

  /** The gram id of a 64-bit key, or -1. */
  lookup(k1: number, k2: number): number {
    const keys1 = this.keys1, keys2 = this.keys2, slots = this.slots, mask = this.mask;
    let s = k1 & mask;
    for (;;) {
      const g = slots[s]!;
      if (g < 0) return -1;
      if (keys1[s] === k1 && keys2[s] === k2) return g;
      s = (s + 1) & mask;
    }
  }

  /** The text of a gram (its first occurrence in the benchmarks). */
  gramText(g: number): string {
    const units = this.itemUnits[this.gramRepItem[g]!]!;
    const p = this.gramRepPos[g]!;
    return units.slice(p, p + this.gramLen[g]!).join(' ');
  }

  /** Approximate bytes of the index's typed arrays (the figure the report prints). */
  bytes(): number {
    return [this.keys1, this.keys2, this.slots, this.filter, this.pairFilter, this.gramItemStart, this.gramItems, this.gramRepItem, this.gramRepPos, this.gramLen].reduce((s, a) => s + a.byteLength, 0);
  }

  /** The method card's description of this index. */
  describe(): { normalisation: string; ngram: number; unit: NgramUnit; fields: IndexFields; minLength: number; maxItems: number; templateGrams: number; grams: number; items: number; indexBytes: number } {
    return {
      normalisation: this.unit === 'words' ? NORMALISATION : 'token ids of the training tokenizer (each field encoded with a leading space; its first and last token dropped)',
      ngram: this.ngram,
      unit: this.unit,
      fields: this.fields,
      minLength: this.minLength,
      maxItems: this.maxItems,
      templateGrams: this.templateGrams,
      grams: this.gramCount - this.templateGrams,
      items: this.items.length,
      indexBytes: this.bytes(),
    };
  }
}

class Growable {
  a = new Int32Array(1 << 14);
  n = 0;
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
}

const nextPow2 = (x: number) => 2 ** Math.ceil(Math.log2(Math.max(2, x)));

/**
 * Builds the index of the given benchmarks' items. Defaults: N = 13 words, fields `both`,
 * `minLength` 5. Token mode needs `encode`.
 */
export function buildIndex(benchmarks: Array<{ name: string; items: EvalItem[] }>, opts: IndexOptions = {}): NgramIndex {
  const ngram = opts.ngram ?? 13;
  const fields = opts.fields ?? 'both';
  const minLength = opts.minLength ?? 5;
  const unit = opts.unit ?? 'words';
  const maxItems = opts.maxItems ?? 3;
  if (!Number.isInteger(maxItems) || maxItems < 1) throw new Error(`contamination index: 'maxItems' must be a positive integer, got ${maxItems}`);
  if (!Number.isInteger(ngram) || ngram < 1 || ngram > MAX_NGRAM) throw new Error(`contamination index: 'ngram' must be an integer in 1..${MAX_NGRAM}, got ${ngram}`);
  if (!Number.isInteger(minLength) || minLength < 2) throw new Error(`contamination index: 'minLength' must be an integer ≥ 2, got ${minLength}`);
  if (unit === 'tokens' && !opts.encode) throw new Error(`contamination index: unit 'tokens' needs the training tokenizer's 'encode'`);
  const index = new NgramIndex({ ngram, fields, minLength, unit, maxItems });
  const buf = new UnitBuffer();
  // Raw occurrences: key halves, length, item, position. Deduplicated below.
  const RAW = new Growable(), K1 = new Growable(), K2 = new Growable(), LEN = new Growable(), IT = new Growable(), POS = new Growable();
  const shortLens = new Set<number>();
  const pairKeys: number[] = [];
  const addSegment = (itemIdx: number, offset: number, n: number): number => {
    // `buf` holds the segment's n unit hashes; prefix sums filled.
    let added = 0;
    const emit = (i: number, len: number) => {
      const raw = rawGram1(buf.p1, i, len);
      const k1 = finishKey1(raw, len);
      RAW.push(raw);
      K1.push(k1);
      K2.push(gramKey2(buf.p2, i, len, k1));
      LEN.push(len);
      IT.push(itemIdx);
      POS.push(offset + i);
      added++;
    };
    if (n >= ngram) for (let i = 0; i + ngram <= n; i++) emit(i, ngram);
    else if (n >= minLength) {
      emit(0, n);
      shortLens.add(n);
      pairKeys.push(pairKey(buf.h1, 0));
    }
    return added;
  };
  for (const b of benchmarks) {
    const first = index.items.length;
    for (const item of b.items) {
      const itemIdx = index.items.length;
      const texts = itemTexts(item, fields);
      let length = 0;
      let units: string[] = [];
      if (unit === 'words') {
        const text = texts.join('\n');
        length = hashWords(text, buf);
        prefixSums(buf);
        units = normalizeWords(text);
        if (units.length !== length) throw new Error(`contamination index: normalisation disagrees with hashing on item ${item.id}`);
        addSegment(itemIdx, 0, length);
      } else {
        for (const t of texts) {
          const toks = opts.encode!(' ' + t.trim());
          // The first and last token of a field merge differently with whatever surrounds it.
          const inner = toks.length > 2 ? toks.slice(1, -1) : toks;
          const n = hashTokens(inner, buf);
          prefixSums(buf);
          addSegment(itemIdx, units.length, n);
          for (const tk of inner) units.push(`#${tk}`);
          length += n;
        }
      }
      index.items.push({ benchmark: b.name, id: item.id, index: item.index, grams: 0, length, short: length < ngram });
      index.itemUnits.push(units);
    }
    index.benchmarks.push({ name: b.name, first, count: index.items.length - first });
  }

  // Insert distinct keys; count distinct grams per item; build gram → items.
  const total = K1.n;
  const size = nextPow2(total * 2);
  index.keys1 = new Int32Array(size);
  index.keys2 = new Int32Array(size);
  index.slots = new Int32Array(size).fill(-1);
  index.mask = size - 1;
  const gramOf = new Int32Array(total);
  const repRaw = new Growable(), repItem = new Growable(), repPos = new Growable(), glen = new Growable();
  let grams = 0;
  for (let j = 0; j < total; j++) {
    const k1 = K1.a[j]!, k2 = K2.a[j]!;
    let s = k1 & index.mask;
    let g = -1;
    for (;;) {
      const cur = index.slots[s]!;
      if (cur < 0) break;
      if (index.keys1[s] === k1 && index.keys2[s] === k2) {
        g = cur;
        break;
      }
      s = (s + 1) & index.mask;
    }
    if (g < 0) {
      g = grams++;
      index.slots[s] = g;
      index.keys1[s] = k1;
      index.keys2[s] = k2;
      repRaw.push(RAW.a[j]!);
      repItem.push(IT.a[j]!);
      repPos.push(POS.a[j]!);
      glen.push(LEN.a[j]!);
    }
    gramOf[j] = g;
  }
  index.gramCount = grams;
  index.gramRepItem = repItem.a.slice(0, grams);
  index.gramRepPos = repPos.a.slice(0, grams);
  index.gramLen = glen.a.slice(0, grams);
  // CSR of distinct (gram, item) pairs. Occurrences arrive grouped by item, so a per-gram
  // "last item" marker deduplicates repeats within an item.
  const last = new Int32Array(grams).fill(-1);
  const counts = new Int32Array(grams + 1);
  for (let j = 0; j < total; j++) {
    const g = gramOf[j]!, it = IT.a[j]!;
    if (last[g] === it) continue;
    last[g] = it;
    counts[g + 1]!++;
  }
  // Template grams: shared by more than maxItems items. They stay in the table (so a lookup
  // finds them) but lose their postings and filter bits, so they never match.
  const template = new Uint8Array(grams);
  for (let g = 0; g < grams; g++) {
    if (counts[g + 1]! > maxItems) {
      template[g] = 1;
      counts[g + 1] = 0;
      index.templateGrams++;
    }
  }
  for (let g = 0; g < grams; g++) counts[g + 1]! += counts[g]!;
  index.gramItemStart = counts;
  const fill = counts.slice(0, grams);
  const gi = new Int32Array(counts[grams]!);
  last.fill(-1);
  for (let j = 0; j < total; j++) {
    const g = gramOf[j]!, it = IT.a[j]!;
    if (template[g] || last[g] === it) continue;
    last[g] = it;
    gi[fill[g]!++] = it;
    index.items[it]!.grams++;
  }
  index.gramItems = gi;

  // Bit filters: 16 bits per gram (at most 2^23 bits = 1 MiB, so it stays in cache) over the raw key's high bits; 64 bits per short gram over its
  // first-two-unit pair.
  const flog = Math.min(23, Math.max(10, Math.ceil(Math.log2(Math.max(1, grams) * 16))));
  index.filter = new Int32Array((2 ** flog) >>> 5);
  index.filterShift = 32 - flog;
  for (let g = 0; g < grams; g++) {
    if (template[g]) continue;
    const b = repRaw.a[g]! >>> index.filterShift;
    index.filter[b >>> 5]! |= 1 << (b & 31);
  }
  index.shortLengths = [...shortLens].sort((a, b) => b - a);
  const plog = Math.min(24, Math.max(10, Math.ceil(Math.log2(Math.max(1, pairKeys.length) * 64))));
  index.pairFilter = new Int32Array((2 ** plog) >>> 5);
  index.pairShift = 32 - plog;
  for (const k of pairKeys) {
    const b = k >>> index.pairShift;
    index.pairFilter[b >>> 5]! |= 1 << (b & 31);
  }
  return index;
}
