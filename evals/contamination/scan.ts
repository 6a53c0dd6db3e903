/**
 * The streaming contamination scanner: training documents stream past the benchmark n-gram
 * index once; memory is the index plus per-gram hit counters, whatever the corpus size.
 *
 * Per gram it counts the distinct training docs containing it (a gram found in more than
 * `maxDocs` docs is boilerplate and ignored, GPT-3 used 10) and keeps the first `maxDocs` of them
 * as provenance. `result()` turns that into per-item matches, fractions and source documents.
 */
import { createHash } from 'node:crypto';
import type { Doc, Json } from '../../engine/types.ts';
import { hashTokens, hashWords, prefixSums, UnitBuffer } from '../../formats/contamination/normalize.ts';
import { matchUnits } from '../../formats/contamination/match.ts';
import { type NgramIndex, type IndexFields, type NgramOption, type NgramUnit } from '../../formats/contamination/ngram-index.ts';

/** When an item counts as dirty: any matched n-gram (GPT-3), or at least a fraction of its n-grams (PaLM: 0.7). */
export type DirtyRule = { type: 'any' } | { type: 'fraction'; min: number };

export interface ScanOptions {
  /** Ignore n-grams found in more than this many training docs (default 10, as GPT-3). */
  maxDocs?: number;
  /** Dirty rule (default any overlap). */
  rule?: DirtyRule;
  /** Matched n-gram texts and source docs kept per item in the result (default 20 each). */
  keepPerItem?: number;
  /**
   * An item is dirty only if some field's matched n-grams carry at least this share of the
   * field's IDF mass (n-grams weighted by ln(1 + D / (1 + df)) over the D scanned training docs,
   * after allenai/decon). Default 0.5: a leaked field matches whole (share 1), while an n-gram a
   * field shares with common text carries little weight. 0 gives GPT-3's any-overlap rule.
   */
  minIdfShare?: number;
  /**
   * Answer-proximity check: when a question (context, passage) matches, the gold answer is looked
   * for within this many units after the match; found, half of `minIdfShare` on the question is
   * enough (default 50; 0 turns the check off). Not "whatever the share": MMLU's moral scenarios
   * share a template sentence and the answers "Wrong"/"Not wrong", and dev vs test matched so at
   * shares of 0.04–0.07.
   */
  answerWindow?: number;
}

/** How one field (or concatenation) of an item matched. */
export interface FieldMatch {
  /** `question`, `choice 2 (gold)`, `question+answer`, … */
  field: string;
  /** Its distinct n-grams and how many were matched. */
  grams: number;
  matched: number;
  /** IDF-weighted share of the field's n-grams that matched (0..1). */
  share: number;
}

/** A training document that contained benchmark n-grams. */
export interface SourceDoc {
  id: string;
  url?: string;
  /** Distinct item n-grams it contained. */
  grams: number;
}

/** What the scan found for one benchmark item. */
export interface ItemContamination {
  id: string;
  index: number;
  /** Distinct n-grams of the item (0: shorter than the index's minimum length, never flagged). */
  grams: number;
  /** Matched n-grams (found in 1..maxDocs training docs). */
  matched: number;
  /** N-grams found in more than maxDocs docs, ignored as boilerplate. */
  ignored: number;
  /** Matched fraction of the n-grams of the item's best-matching rendering (prompt or solved example). */
  fraction: number;
  /** Indexed whole (shorter than N). */
  short: boolean;
  /** The item's score: the best IDF-weighted share of any field (0..1); dirty needs ≥ minIdfShare. */
  score: number;
  /** The field with that share (the report's "which field matched"). */
  field: string;
  /** Every field with a match, best first. */
  fields: FieldMatch[];
  /** The gold answer was found within `answerWindow` units after a question match. */
  answerNear: boolean;
  dirty: boolean;
  /** Up to `keepPerItem` matched n-grams, normalised text. */
  ngrams: string[];
  /** Up to `keepPerItem` training docs the matches came from, most matches first. */
  sources: SourceDoc[];
}

/** Per-benchmark scan result. Only items with a match or an ignored gram are listed in `items`. */
export interface BenchmarkContamination {
  name: string;
  total: number;
  /** Items with no n-gram at all (shorter than the minimum length). */
  unindexed: number;
  /** Items indexed whole because shorter than N. */
  short: number;
  dirty: number;
  dirtyFraction: number;
  /** Ids of the dirty items, in benchmark order. */
  dirtyIds: string[];
  items: ItemContamination[];
}

/** The method card: everything needed to reproduce the check. */
export interface ContaminationMethod {
  normalisation: string;
  /** The option: `auto` or a number. */
  ngram: NgramOption;
  /** The N each benchmark got. */
  ngrams: Record<string, number>;
  minIdfShare: number;
  answerWindow: number;
  unit: NgramUnit;
  fields: IndexFields;
  minLength: number;
  /** N-grams shared by more than this many benchmark items were left out as template text. */
  maxItems: number;
  templateGrams: number;
  maxDocs: number;
  rule: DirtyRule;
  ruleText: string;
  indexGrams: number;
  indexBytes: number;
}

/** The scanned training corpus. */
export interface CorpusInfo {
  /** sha256 (first 16 hex) of the sorted source descriptions (dataset fingerprints or file sizes/mtimes). */
  fingerprint: string;
  sources: string[];
  docs: number;
  bytes: number;
  units: number;
}

export interface ScanResult {
  method: ContaminationMethod;
  corpus: CorpusInfo;
  benchmarks: BenchmarkContamination[];
}

/** A human description of a dirty rule. */
export function ruleText(rule: DirtyRule): string {
  switch (rule.type) {
    case 'any':
      return 'dirty if any n-gram of the item appears in the training data (GPT-3)';
    case 'fraction':
      return `dirty if at least ${(rule.min * 100).toFixed(0)}% of the item's n-grams appear in the training data (PaLM-style)`;
    default: {
      const never: never = rule;
      throw new Error(`unknown rule ${JSON.stringify(never)}`);
    }
  }
}

/** Streams training documents past a benchmark index and accumulates per-gram hits. */
export class ContaminationScanner {
  readonly maxDocs: number;
  readonly rule: DirtyRule;
  readonly keep: number;
  readonly minIdfShare: number;
  readonly answerWindow: number;
  docs = 0;
  bytes = 0;
  units = 0;
  private readonly buf = new UnitBuffer();
  private readonly docCount: Int32Array;
  private readonly lastDoc: Int32Array;
  /** Gram → ordinals of the first maxDocs docs it was found in. */
  private readonly gramDocs = new Map<number, number[]>();
  /** Ordinal → identity of docs with at least one hit. */
  private readonly hitDocs = new Map<number, { id: string; url?: string }>();
  private readonly sources: string[] = [];
  private curDoc = -1;
  private curId = '';
  private curUrl: string | undefined;
  /** Per gram: 1 if some segment containing it is a question (answer-proximity candidates). */
  private readonly gramQuestion: Uint8Array;
  /** This doc's question matches: item → end unit of its last matched question gram. */
  private readonly pending = new Map<number, number>();
  /** Items whose gold answer followed a question match. */
  private readonly answerNear = new Set<number>();
  private readonly onHit = (pos: number, len: number, g: number) => {
    if (this.gramQuestion[g] && this.answerWindow > 0) {
      const idx = this.index;
      for (let j = idx.gramSegStart[g]!; j < idx.gramSegStart[g + 1]!; j++) {
        const sg = idx.gramSegs[j]!;
        if (!idx.segQuestion[sg]) continue;
        const it = idx.segItem[sg]!;
        if (!this.answerNear.has(it)) this.pending.set(it, Math.max(this.pending.get(it) ?? 0, pos + len));
      }
    }
    if (this.lastDoc[g] === this.curDoc) return;
    this.lastDoc[g] = this.curDoc;
    const c = ++this.docCount[g]!;
    if (c <= this.maxDocs) {
      let l = this.gramDocs.get(g);
      if (!l) this.gramDocs.set(g, (l = []));
      l.push(this.curDoc);
      if (!this.hitDocs.has(this.curDoc)) this.hitDocs.set(this.curDoc, this.curUrl === undefined ? { id: this.curId } : { id: this.curId, url: this.curUrl });
    }
  };

  constructor(
    readonly index: NgramIndex,
    opts: ScanOptions = {},
  ) {
    this.maxDocs = opts.maxDocs ?? 10;
    this.rule = opts.rule ?? { type: 'any' };
    this.keep = opts.keepPerItem ?? 20;
    this.minIdfShare = opts.minIdfShare ?? 0.5;
    this.answerWindow = opts.answerWindow ?? 50;
    if (!(this.minIdfShare >= 0 && this.minIdfShare <= 1)) throw new Error(`contamination scan: 'minIdfShare' must be in [0, 1], got ${this.minIdfShare}`);
    if (!Number.isInteger(this.answerWindow) || this.answerWindow < 0) throw new Error(`contamination scan: 'answerWindow' must be a non-negative integer, got ${this.answerWindow}`);
    if (!Number.isInteger(this.maxDocs) || this.maxDocs < 1) throw new Error(`contamination scan: 'maxDocs' must be a positive integer, got ${this.maxDocs}`);
    if (this.rule.type === 'fraction' && !(this.rule.min > 0 && this.rule.min <= 1)) throw new Error(`contamination scan: rule 'fraction' needs 0 < min ≤ 1, got ${this.rule.min}`);
    this.docCount = new Int32Array(index.gramCount);
    this.lastDoc = new Int32Array(index.gramCount).fill(-1);
    this.gramQuestion = new Uint8Array(index.gramCount);
    for (let g = 0; g < index.gramCount; g++)
      for (let j = index.gramSegStart[g]!; j < index.gramSegStart[g + 1]!; j++) if (index.segQuestion[index.gramSegs[j]!]) this.gramQuestion[g] = 1;
  }

  /** Records a description of a scanned source (dataset fingerprint, file with size) for the corpus fingerprint. */
  addSource(desc: string): void {
    this.sources.push(desc);
  }

  /** Scans one document's text (word mode). */
  scanText(id: string, text: string, url?: string): void {
    if (this.index.unit !== 'words') throw new Error(`contamination scan: the index is token-level; scan token ids (doc ${id} has none)`);
    this.begin(id, url);
    const n = hashWords(text, this.buf);
    this.bytes += Buffer.byteLength(text, 'utf8');
    this.finish(n);
  }

  /** Scans one document's token ids (token mode). */
  scanTokens(id: string, tokens: ArrayLike<number>, url?: string): void {
    if (this.index.unit !== 'tokens') throw new Error(`contamination scan: the index is word-level; scan text, not token ids (doc ${id})`);
    this.begin(id, url);
    const n = hashTokens(tokens, this.buf);
    this.bytes += n * (tokens instanceof Uint16Array ? 2 : 4);
    this.finish(n);
  }

  /** Scans a stream of doc batches: text in word mode, `doc.tokens` in token mode. */
  async scanDocs(stream: AsyncIterable<Doc[]>, onBatch?: (docs: number, bytes: number) => void): Promise<void> {
    for await (const batch of stream) {
      const b0 = this.bytes;
      for (const d of batch) {
        const url = typeof d.meta?.url === 'string' ? d.meta.url : undefined;
        if (this.index.unit === 'tokens') {
          if (!d.tokens) throw new Error(`contamination scan: token-level index but doc ${d.id} carries no tokens`);
          this.scanTokens(d.id, d.tokens, url);
        } else this.scanText(d.id, d.text, url);
      }
      onBatch?.(batch.length, this.bytes - b0);
    }
  }

  private begin(id: string, url?: string): void {
    this.curDoc = this.docs++;
    this.curId = id;
    this.curUrl = url;
  }

  private finish(n: number): void {
    this.units += n;
    prefixSums(this.buf, n);
    matchUnits(this.index, this.buf, n, this.onHit);
    if (this.pending.size) {
      for (const [it, end] of this.pending) if (answerFollows(this.index.answerH1[it]!, this.buf.h1, end, n, this.answerWindow)) this.answerNear.add(it);
      this.pending.clear();
    }
  }

  /** Per-item and per-benchmark results of everything scanned so far. */
  result(): ScanResult {
    const index = this.index;
    const nSegs = index.segItem.length;
    const segMatched = new Int32Array(nSegs);
    // IDF weights over the scanned docs: an n-gram in df docs weighs ln(1 + D / (1 + df)); the
    // mass of a segment starts at every n-gram unseen (df 0) and is corrected for the seen ones.
    const D = this.docs;
    const w = (df: number) => Math.log1p(D / (1 + df));
    const w0 = w(0);
    const segMass = new Float64Array(nSegs);
    const segHitMass = new Float64Array(nSegs);
    for (let sg = 0; sg < nSegs; sg++) segMass[sg] = index.segGrams[sg]! * w0;
    // Per item with a hit: its matched and ignored (boilerplate) grams, distinct across segments.
    const itemGrams = new Map<number, Set<number>>();
    const itemIgnored = new Map<number, Set<number>>();
    const itemDocs = new Map<number, Map<number, number>>();
    for (let g = 0; g < index.gramCount; g++) {
      const c = this.docCount[g]!;
      if (c === 0) continue;
      const boiler = c > this.maxDocs;
      const wg = w(c);
      for (let j = index.gramSegStart[g]!; j < index.gramSegStart[g + 1]!; j++) {
        const sg = index.gramSegs[j]!;
        segMass[sg]! += wg - w0;
        if (boiler) continue;
        segMatched[sg]!++;
        segHitMass[sg]! += wg;
      }
      index.forEachItem(g, (it) => {
        const target = boiler ? itemIgnored : itemGrams;
        let set = target.get(it);
        if (!set) target.set(it, (set = new Set()));
        set.add(g);
        if (boiler) return;
        let dm = itemDocs.get(it);
        if (!dm) itemDocs.set(it, (dm = new Map()));
        for (const d of this.gramDocs.get(g) ?? []) dm.set(d, (dm.get(d) ?? 0) + 1);
      });
    }
    const benchmarks: BenchmarkContamination[] = index.benchmarks.map((b) => {
      const items: ItemContamination[] = [];
      const dirtyIds: string[] = [];
      let unindexed = 0, short = 0;
      for (let it = b.first; it < b.first + b.count; it++) {
        const info = index.items[it]!;
        if (info.grams === 0) unindexed++;
        else if (info.short) short++;
        const matchedSet = itemGrams.get(it);
        const ignored = itemIgnored.get(it)?.size ?? 0;
        if (!matchedSet && !ignored) continue;
        const matched = matchedSet?.size ?? 0;
        // The fraction is that of the item's best-matching segment (field or rendering); the
        // score its best IDF-weighted share.
        let fraction = 0, qShare = 0;
        const fields: FieldMatch[] = [];
        for (let sg = info.firstSegment; sg < info.firstSegment + info.segments; sg++) {
          if (index.segGrams[sg]! === 0) continue;
          fraction = Math.max(fraction, segMatched[sg]! / index.segGrams[sg]!);
          if (segMatched[sg]! === 0) continue;
          const share = segMass[sg]! > 0 ? Math.min(1, segHitMass[sg]! / segMass[sg]!) : 1;
          if (index.segQuestion[sg]) qShare = Math.max(qShare, share);
          fields.push({ field: index.segField[sg]!, grams: index.segGrams[sg]!, matched: segMatched[sg]!, share });
        }
        fields.sort((x, y) => y.share - x.share || y.matched - x.matched);
        const score = fields[0]?.share ?? 0;
        const answerNear = this.answerNear.has(it) && qShare > 0;
        const dirty = this.isDirty(matched, fraction) && (score >= this.minIdfShare || (answerNear && qShare >= this.minIdfShare / 2));
        if (dirty) dirtyIds.push(info.id);
        const docs = [...(itemDocs.get(it) ?? new Map<number, number>()).entries()].sort((x, y) => y[1] - x[1] || x[0] - y[0]).slice(0, this.keep);
        items.push({
          id: info.id,
          index: info.index,
          grams: info.grams,
          matched,
          ignored,
          fraction,
          short: info.short,
          score,
          field: fields[0]?.field ?? '',
          fields,
          answerNear,
          dirty,
          ngrams: [...(matchedSet ?? [])].slice(0, this.keep).map((g) => index.gramText(g)),
          sources: docs.map(([d, grams]) => ({ ...this.hitDocs.get(d)!, grams })),
        });
      }
      return { name: b.name, total: b.count, unindexed, short, dirty: dirtyIds.length, dirtyFraction: b.count ? dirtyIds.length / b.count : 0, dirtyIds, items };
    });
    const d = index.describe();
    return {
      method: { normalisation: d.normalisation, ngram: d.ngram, ngrams: d.ngrams, minIdfShare: this.minIdfShare, answerWindow: this.answerWindow, unit: d.unit, fields: d.fields, minLength: d.minLength, maxItems: d.maxItems, templateGrams: d.templateGrams, maxDocs: this.maxDocs, rule: this.rule, ruleText: ruleText(this.rule), indexGrams: d.grams, indexBytes: d.indexBytes },
      corpus: { fingerprint: corpusFingerprint(this.sources), sources: [...this.sources], docs: this.docs, bytes: this.bytes, units: this.units },
      benchmarks,
    };
  }

  private isDirty(matched: number, fraction: number): boolean {
    if (matched === 0) return false;
    switch (this.rule.type) {
      case 'any':
        return true;
      case 'fraction':
        return fraction >= this.rule.min;
      default: {
        const never: never = this.rule;
        throw new Error(`unknown rule ${JSON.stringify(never)}`);
      }
    }
  }
}

/**
 * Whether the `answer` unit hashes occur in `h1` starting within `window` units after `end`
 * (and before `n`). An empty answer never matches.
 */
export function answerFollows(answer: Int32Array, h1: Int32Array, end: number, n: number, window: number): boolean {
  const m = answer.length;
  if (m === 0) return false;
  const last = Math.min(n - m, end + window);
  outer: for (let p = end; p <= last; p++) {
    for (let k = 0; k < m; k++) if (h1[p + k] !== answer[k]) continue outer;
    return true;
  }
  return false;
}

/** sha256 (16 hex) of the sorted source descriptions. */
export function corpusFingerprint(sources: string[]): string {
  return createHash('sha256').update([...sources].sort().join('\n')).digest('hex').slice(0, 16);
}

/** A `Json` view of a scan result (it is plain data already; this narrows the type). */
export function scanResultJson(r: ScanResult): Json {
  return JSON.parse(JSON.stringify(r)) as Json;
}
