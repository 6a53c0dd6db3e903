/**
 * fastText's dictionary (fastText 0.9.2 `Dictionary`): the vocabulary as a model file stores it
 * — words first, then labels, each with its count and type — and the pruning index of quantized
 * models; plus `getLine`, the tokenizer that turns a line into the input rows to average.
 *
 * Tokenizing is byte-exact with fastText: a token is a maximal run of bytes other than space,
 * `\n`, `\r`, `\t`, `\v`, `\f` and NUL; the line ends with the end-of-sentence token `</s>`; a
 * known word contributes its row (and, when `maxn > 0`, its character n-grams' rows); an unknown
 * word contributes only its character n-grams; tokens starting with `__label__` are labels, not
 * input; word n-grams of 2..wordNgrams consecutive tokens (unknown ones included) add hashed
 * bucket rows.
 */
import type { ModelReader, ByteWriter } from './bytes.ts';
import { FastTextFormatError } from './bytes.ts';
import type { FastTextArgs } from './args.ts';
import { LABEL_PREFIX } from './args.ts';
import { fnv1a, NgramHash } from './hash.ts';
import { Int32List as Ids } from '../../../formats/int32-list.ts';

const EOS = new TextEncoder().encode('</s>');
const BOW = 0x3c; // '<'
const EOW = 0x3e; // '>'
const LABEL = new TextEncoder().encode(LABEL_PREFIX);
const decoder = new TextDecoder();

/** A growable list of int32 row ids, reused across lines. */
export { Ids };

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9 || c === 11 || c === 12 || c === 0;
}

function startsWith(b: Uint8Array, s: number, e: number, prefix: Uint8Array): boolean {
  if (e - s < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[s + i] !== prefix[i]) return false;
  return true;
}

export class Dictionary {
  /** Every entry's bytes, concatenated; entry i is `pool[start[i], start[i] + len[i])`. */
  private readonly pool: Uint8Array;
  private readonly start: Uint32Array;
  private readonly len: Uint32Array;
  private readonly table: Int32Array;
  private readonly mask: number;
  private readonly subwords: Array<Int32Array | undefined>;
  private readonly pruneMap: Map<number, number> | undefined;
  private readonly ngram = new NgramHash();
  private readonly hashes = new Ids();
  private scratch = new Uint8Array(64);

  private constructor(
    private readonly args: FastTextArgs,
    readonly size: number,
    readonly nwords: number,
    readonly nlabels: number,
    readonly ntokens: number,
    /** -1: not pruned; otherwise the number of (bucket → row) pairs in `prunePairs`. */
    readonly pruneidxSize: number,
    private readonly prunePairs: Int32Array,
    pool: Uint8Array,
    start: Uint32Array,
    len: Uint32Array,
    readonly counts: Float64Array,
    readonly types: Uint8Array,
  ) {
    this.pool = pool;
    this.start = start;
    this.len = len;
    let cap = 16;
    while (cap < size * 2) cap *= 2;
    this.table = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
    for (let i = 0; i < size; i++) {
      let slot = fnv1a(pool, start[i]!, start[i]! + len[i]!) & this.mask;
      while (this.table[slot] !== -1) slot = (slot + 1) & this.mask;
      this.table[slot] = i;
    }
    this.subwords = new Array(size);
    if (pruneidxSize > 0) {
      this.pruneMap = new Map();
      for (let i = 0; i < prunePairs.length; i += 2) this.pruneMap.set(prunePairs[i]!, prunePairs[i + 1]!);
    }
  }

  /** Builds a dictionary from its entries (bytes, count, type 0 = word / 1 = label). */
  static fromEntries(args: FastTextArgs, entries: Array<{ word: Uint8Array; count: number; type: number }>, ntokens: number, pruneidxSize = -1, prunePairs = new Int32Array(0)): Dictionary {
    let total = 0;
    for (const e of entries) total += e.word.length;
    const pool = new Uint8Array(total);
    const start = new Uint32Array(entries.length);
    const len = new Uint32Array(entries.length);
    const counts = new Float64Array(entries.length);
    const types = new Uint8Array(entries.length);
    let off = 0;
    let nwords = 0;
    entries.forEach((e, i) => {
      pool.set(e.word, off);
      start[i] = off;
      len[i] = e.word.length;
      off += e.word.length;
      counts[i] = e.count;
      types[i] = e.type;
      if (e.type === 0) nwords++;
    });
    return new Dictionary(args, entries.length, nwords, entries.length - nwords, ntokens, pruneidxSize, prunePairs, pool, start, len, counts, types);
  }

  /** Reads `Dictionary::save`'s layout. */
  static read(r: ModelReader, args: FastTextArgs): Dictionary {
    const size = r.i32('dictionary size');
    const nwords = r.i32('nwords');
    const nlabels = r.i32('nlabels');
    const ntokens = r.i64('ntokens');
    const pruneidxSize = r.i64('pruneidx_size');
    if (size < 0 || nwords < 0 || nlabels < 0 || nwords + nlabels !== size) {
      throw new FastTextFormatError(`${r.source}: not a fastText model: dictionary of ${size} entries with ${nwords} words and ${nlabels} labels`);
    }
    const startPos = r.pos;
    const entries: Array<{ word: Uint8Array; count: number; type: number }> = [];
    for (let i = 0; i < size; i++) {
      const word = r.cstring(`dictionary entry ${i}`);
      const count = r.i64(`count of entry ${i}`);
      const type = r.u8(`type of entry ${i}`);
      if (type > 1 || (type === 1) !== i >= nwords) {
        throw new FastTextFormatError(`${r.source}: not a fastText model: dictionary entry ${i} at offset ${startPos} has type ${type}`);
      }
      entries.push({ word, count, type });
    }
    const pairs = new Int32Array(Math.max(0, pruneidxSize) * 2);
    for (let i = 0; i < pairs.length; i++) pairs[i] = r.i32('pruneidx');
    return Dictionary.fromEntries(args, entries, ntokens, pruneidxSize, pairs);
  }

  /** Writes `Dictionary::save`'s layout. */
  write(w: ByteWriter): void {
    w.i32(this.size);
    w.i32(this.nwords);
    w.i32(this.nlabels);
    w.i64(this.ntokens);
    w.i64(this.pruneidxSize);
    for (let i = 0; i < this.size; i++) {
      w.cstring(this.pool.subarray(this.start[i]!, this.start[i]! + this.len[i]!));
      w.i64(this.counts[i]!);
      w.u8(this.types[i]!);
    }
    for (const v of this.prunePairs) w.i32(v);
  }

  /** Whether a quantized model dropped rows (then a dense input matrix is invalid, as in fastText). */
  get isPruned(): boolean {
    return this.pruneidxSize >= 0;
  }

  /** The entry's text (UTF-8 decoded). */
  word(i: number): string {
    return decoder.decode(this.pool.subarray(this.start[i]!, this.start[i]! + this.len[i]!));
  }

  /** Label i's full name, e.g. `__label__en`. */
  label(i: number): string {
    return this.word(this.nwords + i);
  }

  /** Label counts in label order (they build the hierarchical-softmax tree). */
  labelCounts(): number[] {
    return Array.from(this.counts.subarray(this.nwords));
  }

  /** The id of the entry with bytes `b[s, e)` and FNV hash `h`, or -1. */
  private find(b: Uint8Array, s: number, e: number, h: number): number {
    const n = e - s;
    let slot = h & this.mask;
    for (;;) {
      const id = this.table[slot]!;
      if (id === -1) return -1;
      if (this.len[id] === n) {
        const o = this.start[id]!;
        let j = 0;
        while (j < n && this.pool[o + j] === b[s + j]) j++;
        if (j === n) return id;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** The id of a label name (with or without the `__label__` prefix), or -1. */
  labelId(name: string): number {
    const full = name.startsWith(LABEL_PREFIX) ? name : LABEL_PREFIX + name;
    const b = new TextEncoder().encode(full);
    const id = this.find(b, 0, b.length, fnv1a(b, 0, b.length));
    return id >= this.nwords ? id - this.nwords : -1;
  }

  /** `Dictionary::pushHash`: maps a bucket through the pruning index, if any. */
  private pushHash(out: Ids, id: number): void {
    if (this.pruneidxSize === 0 || id < 0) return;
    if (this.pruneidxSize > 0) {
      const m = this.pruneMap!.get(id);
      if (m === undefined) return;
      id = m;
    }
    out.push(this.nwords + id);
  }

  /** `Dictionary::computeSubwords` over `word` (which includes the `<` `>` markers). */
  private computeSubwords(word: Uint8Array, wlen: number, out: Ids): void {
    const { minn, maxn, bucket } = this.args;
    if (bucket <= 0) return;
    for (let i = 0; i < wlen; i++) {
      if ((word[i]! & 0xc0) === 0x80) continue;
      let j = i;
      for (let n = 1; j < wlen && n <= maxn; n++) {
        j++;
        while (j < wlen && (word[j]! & 0xc0) === 0x80) j++;
        if (n >= minn && !(n === 1 && (i === 0 || j === wlen))) {
          this.pushHash(out, fnv1a(word, i, j) % bucket);
        }
      }
    }
  }

  /** `<` + bytes + `>` in the scratch buffer; returns its length. */
  private wrap(b: Uint8Array, s: number, e: number): number {
    const n = e - s + 2;
    if (this.scratch.length < n) this.scratch = new Uint8Array(n * 2);
    this.scratch[0] = BOW;
    this.scratch.set(b.subarray(s, e), 1);
    this.scratch[n - 1] = EOW;
    return n;
  }

  private addSubwords(out: Ids, b: Uint8Array, s: number, e: number, wid: number): void {
    if (wid < 0) {
      if (this.args.maxn > 0 && !(e - s === EOS.length && startsWith(b, s, e, EOS))) {
        const n = this.wrap(b, s, e); // may replace this.scratch: read it after
        this.computeSubwords(this.scratch, n, out);
      }
    } else if (this.args.maxn <= 0) {
      out.push(wid);
    } else {
      let sw = this.subwords[wid];
      if (!sw) {
        const tmp = new Ids();
        tmp.push(wid);
        const o = this.start[wid]!;
        const l = this.len[wid]!;
        if (!(l === EOS.length && startsWith(this.pool, o, o + l, EOS))) {
          const n = this.wrap(this.pool, o, o + l);
          this.computeSubwords(this.scratch, n, tmp);
        }
        sw = tmp.a.slice(0, tmp.n);
        this.subwords[wid] = sw;
      }
      for (let k = 0; k < sw.length; k++) out.push(sw[k]!);
    }
  }

  /** One token `b[s, e)`: its rows go to `out`, its hash to the word-n-gram list if it is a word. */
  private token(out: Ids, b: Uint8Array, s: number, e: number): void {
    const h = fnv1a(b, s, e);
    const wid = this.find(b, s, e, h);
    const isLabel = wid < 0 ? startsWith(b, s, e, LABEL) : this.types[wid] === 1;
    if (isLabel) return;
    this.addSubwords(out, b, s, e, wid);
    this.hashes.push(h);
  }

  /**
   * The input rows of one line of UTF-8 `bytes[0, n)` as fastText's supervised `getLine` builds
   * them, followed by `</s>` (unless `eos` is false). Every whitespace byte, newlines included, separates tokens: the
   * whole text is one example (fastText itself would stop at the first newline).
   */
  lineIds(bytes: Uint8Array, n: number, out: Ids, eos = true): void {
    out.n = 0;
    this.hashes.n = 0;
    let s = -1;
    for (let i = 0; i < n; i++) {
      if (isSpace(bytes[i]!)) {
        if (s >= 0) this.token(out, bytes, s, i);
        s = -1;
      } else if (s < 0) s = i;
    }
    if (s >= 0) this.token(out, bytes, s, n);
    // fastText reads `</s>` from the newline: its CLI's last line, unterminated, has none.
    if (eos) this.token(out, EOS, 0, EOS.length);
    const k = this.args.wordNgrams;
    if (k > 1 && this.args.bucket > 0) {
      const hs = this.hashes.a;
      const m = this.hashes.n;
      const g = this.ngram;
      const bucket = this.args.bucket;
      for (let i = 0; i < m; i++) {
        g.reset(hs[i]!);
        for (let j = i + 1; j < m && j < i + k; j++) {
          g.push(hs[j]!);
          this.pushHash(out, g.mod(bucket));
        }
      }
    }
  }
}
