/**
 * The n-gram index of benchmark items: the contamination check indexes the benchmarks (small)
 * and streams the training data past them (large), GPT-3 style.
 *
 * Each item contributes the n-grams of its segments, normalised: with fields `both`, a
 * multiple-choice item is indexed as its test prompt (question then every choice, in order), as
 * a solved example (question then the gold answer), the two ways it leaks into web text, and
 * field by field: the question alone and each answer choice alone (a passage or context alone
 * for the other kinds). Fields matter for short items: a quiz page that writes "A)" or
 * "Answer:" between question and answer breaks every n-gram spanning the seam, so a question of
 * fewer than N words is found only as a field of its own.
 *
 * N is per benchmark: `ngram: 'auto'` (default) takes GPT-3's rule (appendix C), the 5th
 * percentile of the benchmark's item length in words, clipped to [8, 13]. A question, passage or
 * concatenation shorter than its benchmark's N (but at least `minLength`) is indexed whole, as
 * one shorter gram, so it is flagged only when all of it appears verbatim: 45% of PIQA's items
 * have no field of 13 words, and 8 have only 5 words in all. An answer choice is distinctive only
 * with N words or more (ARC's "the Sun", "a rock" are not evidence of anything), so shorter
 * choices get no segment of their own.
 *
 * Storage: 64-bit keys in an interleaved open-addressing table (key halves and gram id side by
 * side, load ≤ 0.75, linear probing), gram → segments as CSR arrays, and a word-blocked Bloom
 * filter (~16 bits per gram, two bits in one 32-bit word, at most 1 MiB) checked first, so
 * most training positions touch only cache-resident memory.
 */
import type { EvalItem } from '../benchmarks.ts';
import { Int32List } from '../int32-list.ts';
import { finishKey1, gramKey2, rawGram1, hashTokens, hashWords, MAX_NGRAM, normalizeWords, pairKey, prefixSums, UnitBuffer, NORMALISATION } from './normalize.ts';

/** The two filter bits of a raw key (bits 27–31 and 22–26 of a multiplicative mix). */
export function filterBits(raw: number): number {
  const m = Math.imul(raw, 0x9e3779b1);
  return (1 << (m >>> 27)) | (1 << ((m >>> 22) & 31));
}

/** Which text of an item is indexed: its question/context, its answers, or both (default). */
export type IndexFields = 'question' | 'answer' | 'both';
/** Words (normalised text) or token ids (token-shard training data; needs `encode`). */
export type NgramUnit = 'words' | 'tokens';
/** N: a fixed number of units, or `auto` (per benchmark, GPT-3's 5th percentile rule). */
export type NgramOption = 'auto' | number;

/** The smallest and largest N `ngram: 'auto'` picks (GPT-3 appendix C). */
export const AUTO_NGRAM_RANGE: readonly [number, number] = [8, 13];

/**
 * GPT-3's per-benchmark N (appendix C): the 5th percentile of the items' lengths in units,
 * clipped to [8, 13]. An empty benchmark gets 13.
 */
export function autoNgram(lengths: number[]): number {
  if (lengths.length === 0) return AUTO_NGRAM_RANGE[1];
  const sorted = [...lengths].sort((a, b) => a - b);
  const p5 = sorted[Math.floor(0.05 * (sorted.length - 1))]!;
  return Math.min(AUTO_NGRAM_RANGE[1], Math.max(AUTO_NGRAM_RANGE[0], p5));
}

export interface IndexOptions {
  /** N, in units: `auto` (default: per benchmark, 5th percentile of item length clipped to [8, 13], GPT-3), or a number for every benchmark (13 as GPT-3's ceiling; 8 for PaLM/Llama-style checks). */
  ngram?: NgramOption;
  /** Text indexed per item (default `both`). */
  fields?: IndexFields;
  /** Questions, passages and renderings (token mode: fields) shorter than N but at least this long are indexed whole (default 5). */
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

/** One segment of an item: a field on its own or a concatenation, with its label for the report. */
export interface ItemSegment {
  /** `question`, `choice 2 (gold)`, `context`, `passage`, `question+choices`, `question+answer`, … */
  field: string;
  /** Texts read in sequence (joined with a newline). */
  texts: string[];
  /** A question, context or passage: the field after which the answer-proximity check looks for the gold answer. */
  question: boolean;
  /** An answer choice or continuation: distinctive only with N units or more (never indexed whole). */
  answer: boolean;
}

/**
 * Every segment of an item that `fields` selects: its renderings (`itemRenderings`, labelled
 * `question+choices`, `question+answer`, …) and its fields one by one, deduplicated by text
 * (first label wins, renderings first).
 */
export function itemSegments(item: EvalItem, fields: IndexFields): ItemSegment[] {
  const out: ItemSegment[] = [];
  const seen = new Set<string>();
  const add = (field: string, texts: string[], question: boolean, answer: boolean) => {
    const key = texts.join('\n');
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ field, texts, question, answer });
  };
  const wantQ = fields !== 'answer', wantA = fields !== 'question';
  const rs = itemRenderings(item, fields);
  switch (item.kind) {
    case 'choice': {
      const names = fields === 'question' ? ['question'] : fields === 'answer' ? ['choices', 'answer'] : ['question+choices', 'question+answer'];
      rs.forEach((r, i) => add(names[i]!, r, fields === 'question', false));
      if (wantQ) add('question', [item.question], true, false);
      if (wantA) item.choices.forEach((c, k) => add(`choice ${k + 1}${k === item.gold ? ' (gold)' : ''}`, [c], false, true));
      break;
    }
    case 'partial':
      rs.forEach((r) => add(fields === 'both' ? 'context+continuation' : fields === 'question' ? 'context' : 'continuation', r, fields === 'question', fields === 'answer'));
      if (wantQ) add('context', [item.contexts[item.gold]!], true, false);
      if (wantA) add('continuation', [item.continuation], false, true);
      break;
    case 'cloze':
      rs.forEach((r) => add(fields === 'both' ? 'passage+continuation' : fields === 'question' ? 'passage' : 'continuation', r, fields === 'question', fields === 'answer'));
      if (wantQ) add('passage', [item.context], true, false);
      if (wantA) add('continuation', [item.continuation], false, true);
      break;
    default: {
      const never: never = item;
      throw new Error(`unknown item kind ${JSON.stringify(never)}`);
    }
  }
  return out;
}

/** The gold answer's text of an item (the answer-proximity check's target). */
export function goldAnswer(item: EvalItem): string {
  switch (item.kind) {
    case 'choice':
      return item.choices[item.gold]!;
    case 'partial':
    case 'cloze':
      return item.continuation;
    default: {
      const never: never = item;
      throw new Error(`unknown item kind ${JSON.stringify(never)}`);
    }
  }
}

/**
 * The renderings of an item that `fields` selects, each a list of texts read in sequence: for
 * `both`, a choice item is [question, ...choices] and [question, gold choice].
 */
export function itemRenderings(item: EvalItem, fields: IndexFields): string[][] {
  const main = itemTexts(item, fields);
  if (item.kind !== 'choice' || fields === 'question') return [main];
  const solved = fields === 'both' ? [item.question, item.choices[item.gold]!] : [item.choices[item.gold]!];
  return solved.join('\n') === main.join('\n') ? [main] : [main, solved];
}

/** One indexed item. */
export interface IndexedItem {
  benchmark: string;
  id: string;
  /** Index into the benchmark's items. */
  index: number;
  /** Distinct grams of the item over all its segments (0 when it is shorter than `minLength`). */
  grams: number;
  /** Length of its main rendering in units. */
  length: number;
  /** Its main rendering is shorter than N (indexed whole). */
  short: boolean;
  /** Its segments: `[first, first + count)` of the index's segments. */
  firstSegment: number;
  segments: number;
}

/** A benchmark's span of the index's items. */
export interface IndexedBenchmark {
  name: string;
  first: number;
  count: number;
  /** Its N (GPT-3's per-benchmark rule under `ngram: 'auto'`). */
  ngram: number;
}

/** The n-gram index of a set of benchmarks. Build it with `buildIndex`. */
export class NgramIndex {
  /**
   * The largest N of any benchmark: the length the scanner probes at every position. Grams of a
   * benchmark with a smaller N go the way of short whole fields (the pair prefilter,
   * `shortLengths`): under `auto` those are the few small benchmarks (COPA, Winogrande), while
   * probing every position at several lengths, or at the smallest with a trigger for longer
   * ones, halved the scan speed (the Bloom filter holds twice the keys; 27 vs 46 MB/s).
   */
  ngram: number;
  /** The option as given (`auto` or a number). */
  readonly ngramOption: NgramOption;
  /** Distinct N values of the benchmarks (ascending). */
  ngrams: number[] = [];
  readonly fields: IndexFields;
  readonly minLength: number;
  readonly unit: NgramUnit;
  readonly maxItems: number;
  /** Grams left out as template text (shared by more than `maxItems` items). */
  templateGrams = 0;
  readonly items: IndexedItem[] = [];
  readonly benchmarks: IndexedBenchmark[] = [];
  /** Per segment: its item and distinct (non-template) grams. */
  segItem = new Int32Array(0);
  segGrams = new Int32Array(0);
  /**
   * Per segment, for showing matches: its units as text (token mode), or its text, normalised into
   * words only when a gram of it is shown (word mode). Keeping every segment's words cost the
   * build of MMLU + ARC-Challenge (15k items) 1.7 s, most of it collecting the 1M+ retained word
   * strings; few segments are ever shown.
   */
  readonly segUnits: Array<string[] | string> = [];
  /** Per segment: its field label (`question`, `choice 2 (gold)`, `question+choices`, …). */
  readonly segField: string[] = [];
  /** Per segment: 1 if a question/context/passage (the answer-proximity check starts after it). */
  segQuestion = new Uint8Array(0);
  /** Per item: the first unit hashes of its gold answer (answer-proximity check; empty: none). */
  readonly answerH1: Int32Array[] = [];
  /**
   * Open-addressing table, interleaved so a probe touches one cache line: slot `s` is
   * `table[3s]` = key half 1, `table[3s+1]` = key half 2, `table[3s+2]` = gram id (-1 empty).
   */
  table = new Int32Array(0);
  mask = 0;
  /**
   * Word-blocked Bloom filter over the raw first key half: word `raw >>> filterShift`, two bits
   * from `filterBits(raw)` in it (one memory access per probe).
   */
  filter = new Int32Array(0);
  filterShift = 0;
  /** Gram lengths shorter than N present in the index (longest first). */
  shortLengths: number[] = [];
  /**
   * Short-gram prefilter keyed by the hash of a gram's first two units (`pairKey >>> pairShift`):
   * a bitmask over `shortLengths` (bit k = the k-th length, k < 15; bit 15 = "some length from the
   * 16th on", check those), so a position checks only the lengths that can match there. Uint16 and
   * at most 2^19 entries (1 MiB): with per-benchmark N, PIQA's and OpenBookQA's 10-grams come this
   * way, and an Int32 table of 2^20 entries (4 MiB) missed cache at every position (37 vs 50 MB/s).
   */
  pairLengths = new Uint16Array(0);
  pairShift = 0;
  /** Gram → segments (CSR; empty for template grams) and a representative occurrence (segment, unit offset) and length. */
  gramSegStart = new Int32Array(1);
  gramSegs = new Int32Array(0);
  gramRepSeg = new Int32Array(0);
  gramRepPos = new Int32Array(0);
  gramLen = new Uint16Array(0);
  gramCount = 0;

  constructor(opts: Required<Omit<IndexOptions, 'encode'>>) {
    this.ngramOption = opts.ngram;
    this.ngram = typeof opts.ngram === 'number' ? opts.ngram : AUTO_NGRAM_RANGE[1];
    this.fields = opts.fields;
    this.minLength = opts.minLength;
    this.unit = opts.unit;
    this.maxItems = opts.maxItems;
  }

  /** Calls `fn(item)` for each distinct item containing gram `g` (none for template grams). */
  forEachItem(g: number, fn: (item: number) => void): void {
    let last = -1;
    for (let j = this.gramSegStart[g]!; j < this.gramSegStart[g + 1]!; j++) {
      const it = this.segItem[this.gramSegs[j]!]!;
      if (it !== last) fn(it);
      last = it;
    }
  }

  /** The gram id of a 64-bit key, or -1. */
  lookup(k1: number, k2: number): number {
    const t = this.table, mask = this.mask;
    let s = k1 & mask;
    for (;;) {
      const o = s * 3;
      const g = t[o + 2]!;
      if (g < 0) return -1;
      if (t[o] === k1 && t[o + 1] === k2) return g;
      s = (s + 1) & mask;
    }
  }

  /** The text of a gram (its first occurrence in the benchmarks). */
  gramText(g: number): string {
    const seg = this.gramRepSeg[g]!;
    let units = this.segUnits[seg]!;
    if (typeof units === 'string') this.segUnits[seg] = units = normalizeWords(units);
    const p = this.gramRepPos[g]!;
    return units.slice(p, p + this.gramLen[g]!).join(' ');
  }

  /** Approximate bytes of the index's typed arrays (the figure the report prints). */
  bytes(): number {
    return [this.table, this.filter, this.pairLengths, this.gramSegStart, this.gramSegs, this.gramRepSeg, this.gramRepPos, this.gramLen, this.segItem, this.segGrams].reduce((s, a) => s + a.byteLength, 0);
  }

  /** The method card's description of this index. */
  describe(): { normalisation: string; ngram: NgramOption; ngrams: Record<string, number>; unit: NgramUnit; fields: IndexFields; minLength: number; maxItems: number; templateGrams: number; grams: number; items: number; indexBytes: number } {
    return {
      normalisation: this.unit === 'words' ? NORMALISATION : 'token ids of the training tokenizer (each field encoded with a leading space; its first and last token dropped)',
      ngram: this.ngramOption,
      ngrams: Object.fromEntries(this.benchmarks.map((b) => [b.name, b.ngram])),
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

/** 16384 ints to start with: the index's arrays hold a benchmark's grams. */
const growable = () => new Int32List(1 << 14);

const nextPow2 = (x: number) => 2 ** Math.ceil(Math.log2(Math.max(2, x)));

/**
 * Builds the index of the given benchmarks' items. Defaults: N `auto` (per benchmark, 5th
 * percentile of item length clipped to [8, 13]), fields `both`, `minLength` 5, `maxItems` 3.
 * Token mode needs `encode`.
 */
export function buildIndex(benchmarks: Array<{ name: string; items: EvalItem[] }>, opts: IndexOptions = {}): NgramIndex {
  const ngramOpt = opts.ngram ?? 'auto';
  const fields = opts.fields ?? 'both';
  const minLength = opts.minLength ?? 5;
  const unit = opts.unit ?? 'words';
  const maxItems = opts.maxItems ?? 3;
  if (!Number.isInteger(maxItems) || maxItems < 1) throw new Error(`contamination index: 'maxItems' must be a positive integer, got ${maxItems}`);
  if (ngramOpt !== 'auto' && (!Number.isInteger(ngramOpt) || ngramOpt < 1 || ngramOpt > MAX_NGRAM)) throw new Error(`contamination index: 'ngram' must be 'auto' or an integer in 1..${MAX_NGRAM}, got ${JSON.stringify(ngramOpt)}`);
  if (!Number.isInteger(minLength) || minLength < 2) throw new Error(`contamination index: 'minLength' must be an integer ≥ 2, got ${minLength}`);
  if (fields !== 'question' && fields !== 'answer' && fields !== 'both') throw new Error(`contamination index: 'fields' must be 'question', 'answer' or 'both', got ${JSON.stringify(fields)}`);
  if (unit === 'tokens' && !opts.encode) throw new Error(`contamination index: unit 'tokens' needs the training tokenizer's 'encode'`);
  const index = new NgramIndex({ ngram: ngramOpt, fields, minLength, unit, maxItems });
  const buf = new UnitBuffer();
  // The units of a text: words (hashed) or the inner tokens of the field (token mode: the first
  // and last token of a field merge differently with whatever surrounds it).
  const units = (text: string): { n: number; words: string[] | string } => {
    // Word mode: the text itself, normalised when shown (NgramIndex.segUnits). Hashing and
    // normalizeWords split alike: test/evals/contamination.test.ts compares them.
    if (unit === 'words') return { n: hashWords(text, buf), words: text };
    const toks = opts.encode!(' ' + text.trim());
    const inner = toks.length > 2 ? toks.slice(1, -1) : toks;
    return { n: hashTokens(inner, buf), words: inner.map((t) => `#${t}`) };
  };
  // Per-benchmark N first: the probe length is the smallest of them.
  const perBench = benchmarks.map((b) => {
    if (ngramOpt !== 'auto') return ngramOpt;
    return autoNgram(b.items.map((it) => {
      const main = itemRenderings(it, fields)[0]!;
      return unit === 'words' ? hashWords(main.join('\n'), buf) : main.reduce((s, t) => s + units(t).n, 0);
    }));
  });
  const probe = perBench.length ? Math.max(...perBench) : typeof ngramOpt === 'number' ? ngramOpt : AUTO_NGRAM_RANGE[1];
  index.ngram = probe;
  index.ngrams = [...new Set(perBench)].sort((a, b) => a - b);
  // Raw occurrences: raw and final key halves, length, segment, position. Deduplicated below.
  const RAW = growable(), K1 = growable(), K2 = growable(), LEN = growable(), SEG = growable(), POS = growable();
  const segItem = growable();
  const segQ: number[] = [];
  const shortLens = new Set<number>();
  const pairKeys: Array<[number, number]> = [];
  /** Adds the n-grams of the segment whose `n` unit hashes are in `buf` (prefix sums filled). */
  const addSegment = (seg: number, n: number, N: number, whole: boolean) => {
    const emit = (i: number, len: number) => {
      const raw = rawGram1(buf.p1, i, len);
      const k1 = finishKey1(raw, len);
      RAW.push(raw);
      K1.push(k1);
      K2.push(gramKey2(buf.p2, i, len, k1));
      LEN.push(len);
      SEG.push(seg);
      POS.push(i);
      if (len < probe) {
        shortLens.add(len);
        pairKeys.push([pairKey(buf.h1, i), len]);
      }
    };
    if (n >= N) for (let i = 0; i + N <= n; i++) emit(i, N);
    else if (whole && n >= minLength) emit(0, n);
  };
  benchmarks.forEach((b, bi) => {
    const N = perBench[bi]!;
    const first = index.items.length;
    for (const item of b.items) {
      const itemIdx = index.items.length;
      const firstSegment = segItem.n;
      // Words: one segment per rendering and per field; tokens: BPE merges across field
      // boundaries depend on the format, so token n-grams stay within a field.
      const segs = unit === 'words' ? itemSegments(item, fields) : itemSegments(item, fields).filter((sg) => sg.texts.length === 1);
      let mainLength = -1;
      for (const sg of segs) {
        const seg = segItem.n;
        segItem.push(itemIdx);
        const u = units(sg.texts.join('\n'));
        index.segUnits.push(u.words);
        index.segField.push(sg.field);
        segQ.push(sg.question ? 1 : 0);
        prefixSums(buf, u.n);
        addSegment(seg, u.n, N, !sg.answer);
        if (mainLength < 0) mainLength = u.n;
      }
      const ans = units(goldAnswer(item));
      index.answerH1.push(buf.h1.slice(0, ans.n));
      index.items.push({ benchmark: b.name, id: item.id, index: item.index, grams: 0, length: mainLength, short: mainLength < N, firstSegment, segments: segItem.n - firstSegment });
    }
    index.benchmarks.push({ name: b.name, first, count: index.items.length - first, ngram: N });
  });
  index.segQuestion = Uint8Array.from(segQ);
  const nSegs = segItem.n;
  index.segItem = segItem.a.slice(0, nSegs);
  index.segGrams = new Int32Array(nSegs);

  // Insert distinct keys into the table.
  const total = K1.n;
  // Load factor ≤ 0.75 (occurrences bound the distinct keys): 12 bytes per slot.
  const size = nextPow2(Math.ceil(total / 0.75) + 1);
  index.table = new Int32Array(size * 3);
  for (let s = 0; s < size; s++) index.table[s * 3 + 2] = -1;
  index.mask = size - 1;
  const gramOf = new Int32Array(total);
  const repRaw = growable(), repSeg = growable(), repPos = growable(), glen = growable();
  let grams = 0;
  for (let j = 0; j < total; j++) {
    const k1 = K1.a[j]!, k2 = K2.a[j]!;
    let s = k1 & index.mask;
    let g = -1;
    const t = index.table;
    for (;;) {
      const cur = t[s * 3 + 2]!;
      if (cur < 0) break;
      if (t[s * 3] === k1 && t[s * 3 + 1] === k2) {
        g = cur;
        break;
      }
      s = (s + 1) & index.mask;
    }
    if (g < 0) {
      g = grams++;
      t[s * 3 + 2] = g;
      t[s * 3] = k1;
      t[s * 3 + 1] = k2;
      repRaw.push(RAW.a[j]!);
      repSeg.push(SEG.a[j]!);
      repPos.push(POS.a[j]!);
      glen.push(LEN.a[j]!);
    }
    gramOf[j] = g;
  }
  index.gramCount = grams;
  // Re-hash into a table sized for the distinct keys (a question's n-grams occur in both of its
  // renderings, so occurrences overcount them about twofold).
  {
    const old = index.table, oldSize = index.mask + 1;
    const fresh = nextPow2(Math.ceil(grams / 0.75) + 1);
    if (fresh < oldSize) {
      const t = new Int32Array(fresh * 3);
      for (let s = 0; s < fresh; s++) t[s * 3 + 2] = -1;
      const mask = fresh - 1;
      for (let o = 0; o < oldSize; o++) {
        const g = old[o * 3 + 2]!;
        if (g < 0) continue;
        let s = old[o * 3]! & mask;
        while (t[s * 3 + 2]! >= 0) s = (s + 1) & mask;
        t[s * 3] = old[o * 3]!;
        t[s * 3 + 1] = old[o * 3 + 1]!;
        t[s * 3 + 2] = g;
      }
      index.table = t;
      index.mask = mask;
    }
  }
  index.gramRepSeg = repSeg.a.slice(0, grams);
  index.gramRepPos = repPos.a.slice(0, grams);
  index.gramLen = Uint16Array.from(glen.a.subarray(0, grams));
  // Occurrences arrive grouped by segment and segments grouped by item, so "last seen" markers
  // deduplicate. Template grams: in more than maxItems distinct items.
  const lastItem = new Int32Array(grams).fill(-1);
  const itemCount = new Int32Array(grams);
  for (let j = 0; j < total; j++) {
    const g = gramOf[j]!, it = index.segItem[SEG.a[j]!]!;
    if (lastItem[g] === it) continue;
    lastItem[g] = it;
    itemCount[g]!++;
  }
  const template = new Uint8Array(grams);
  for (let g = 0; g < grams; g++) {
    if (itemCount[g]! > maxItems) {
      template[g] = 1;
      index.templateGrams++;
    }
  }
  // CSR gram → segments, without template grams; distinct grams per segment and per item.
  const lastSeg = new Int32Array(grams).fill(-1);
  const counts = new Int32Array(grams + 1);
  for (let j = 0; j < total; j++) {
    const g = gramOf[j]!, sg = SEG.a[j]!;
    if (template[g] || lastSeg[g] === sg) continue;
    lastSeg[g] = sg;
    counts[g + 1]!++;
    index.segGrams[sg]!++;
  }
  for (let g = 0; g < grams; g++) counts[g + 1]! += counts[g]!;
  index.gramSegStart = counts;
  const fill = counts.slice(0, grams);
  const gs = new Int32Array(counts[grams]!);
  lastSeg.fill(-1);
  lastItem.fill(-1);
  for (let j = 0; j < total; j++) {
    const g = gramOf[j]!, sg = SEG.a[j]!, it = index.segItem[sg]!;
    if (template[g]) continue;
    if (lastItem[g] !== it) {
      lastItem[g] = it;
      index.items[it]!.grams++;
    }
    if (lastSeg[g] === sg) continue;
    lastSeg[g] = sg;
    gs[fill[g]!++] = sg;
  }
  index.gramSegs = gs;

  // Word-blocked Bloom filter: ~16 bits per gram, at most 2^23 bits (1 MiB). On the 1.2M-gram
  // index of every mc-eval set, tinyshakespeare passes 7.2% of positions (one bit in 1 MiB:
  // 13.6%; two bits in 4 MiB: 0.8%, but under load the 4 MiB probe itself missed cache and the
  // scan was no faster per CPU-second).
  const flog = Math.min(23, Math.max(10, Math.ceil(Math.log2(Math.max(1, grams) * 16))));
  index.filter = new Int32Array((2 ** flog) >>> 5);
  index.filterShift = 32 - (flog - 5);
  for (let g = 0; g < grams; g++) {
    if (template[g]) continue;
    const raw = repRaw.a[g]!;
    index.filter[raw >>> index.filterShift]! |= filterBits(raw);
  }
  // Short grams: length masks over their first-two-unit pair (~8 entries per short gram).
  index.shortLengths = [...shortLens].sort((a, b) => b - a);
  const plog = Math.min(19, Math.max(8, Math.ceil(Math.log2(Math.max(1, pairKeys.length) * 8))));
  index.pairLengths = new Uint16Array(2 ** plog);
  index.pairShift = 32 - plog;
  const bitOf = new Map(index.shortLengths.map((L, k) => [L, 1 << Math.min(k, 15)]));
  for (const [k, len] of pairKeys) index.pairLengths[k >>> index.pairShift]! |= bitOf.get(len)!;
  return index;
}
