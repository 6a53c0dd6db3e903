/**
 * A generator of corpora with planted near-duplicates at known Jaccard similarities, for the
 * dedup tests and benchmark. Base documents are random prose over a synthetic Zipf vocabulary
 * (sentences, paragraphs, capitals, punctuation, numbers), so unrelated documents share almost
 * no 5-gram. Each planted pair is a base document and a variant made by one of four edit kinds:
 *
 * - `edit`: word substitutions at random places;
 * - `insert`: random words inserted;
 * - `boilerplate`: a block of fresh text (header/footer) added at either end, plus light edits;
 * - `reorder`: paragraphs shuffled, plus light edits.
 *
 * The amount of editing is binary-searched until the variant's exact Jaccard (over the same
 * normalised word 5-gram sets dedup uses) is as close to the target as the edit granularity
 * allows; the achieved value is recorded, and is what evaluations bucket by.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Doc } from '../engine/types.ts';
import { jaccard, shingleSet } from '../operators/dedup/minhash/shingle.ts';

/** Deterministic PRNG (mulberry32). */
export { mulberry32 as rng } from '../engine/random.ts';
import { mulberry32 as rng } from '../engine/random.ts';

const SYL = ['ka', 'lo', 'mi', 'ren', 'sto', 'va', 'dul', 'pe', 'qui', 'tor', 'an', 'bel', 'cor', 'dis', 'es', 'fin', 'gra', 'hum', 'im', 'jo', 'lum', 'mar', 'nel', 'or', 'pra', 'ser', 'tul', 'ur', 'vin', 'zo'];

/** Word source: a synthetic vocabulary sampled with a Zipf-like law. */
export class Vocabulary {
  readonly words: string[] = [];
  constructor(size: number, rand: () => number) {
    const seen = new Set<string>();
    while (this.words.length < size) {
      const n = 1 + Math.floor(rand() * 4);
      let w = '';
      for (let i = 0; i < n; i++) w += SYL[Math.floor(rand() * SYL.length)];
      if (!seen.has(w)) {
        seen.add(w);
        this.words.push(w);
      }
    }
  }
  /** A word, rank ~ Zipf(1) over the vocabulary. */
  pick(rand: () => number): string {
    const r = Math.floor(Math.exp(rand() * Math.log(this.words.length))) - 1;
    return this.words[r]!;
  }
}

/** Random prose: paragraphs of sentences. */
export function prose(v: Vocabulary, rand: () => number, words: number): string[][] {
  const paras: string[][] = [];
  let left = words;
  while (left > 0) {
    const p: string[] = [];
    const plen = Math.min(left, 30 + Math.floor(rand() * 60));
    let start = true;
    for (let i = 0; i < plen; i++) {
      let w = rand() < 0.02 ? String(Math.floor(rand() * 10000)) : v.pick(rand);
      if (start) w = w[0]!.toUpperCase() + w.slice(1);
      start = false;
      if (rand() < 0.08 || i === plen - 1) {
        w += '.';
        start = true;
      } else if (rand() < 0.05) w += ',';
      p.push(w);
    }
    paras.push(p);
    left -= plen;
  }
  return paras;
}

export function render(paras: string[][]): string {
  return paras.map((p) => p.join(' ')).join('\n\n');
}

export type EditKind = 'edit' | 'insert' | 'boilerplate' | 'reorder';
export const EDIT_KINDS: EditKind[] = ['edit', 'insert', 'boilerplate', 'reorder'];

/** Applies `amount` ∈ [0,1] of an edit kind, deterministically from `seed`. */
function variant(base: string[][], kind: EditKind, amount: number, v: Vocabulary, seed: number): string[][] {
  const rand = rng(seed);
  const paras = base.map((p) => p.slice());
  const total = paras.reduce((s, p) => s + p.length, 0);
  const touch = (count: number, fn: (p: string[], i: number) => void) => {
    for (let k = 0; k < count; k++) {
      const pi = Math.floor(rand() * paras.length);
      const p = paras[pi]!;
      fn(p, Math.floor(rand() * p.length));
    }
  };
  switch (kind) {
    case 'edit':
      touch(Math.round(amount * total), (p, i) => (p[i] = v.pick(rand)));
      break;
    case 'insert':
      touch(Math.round(amount * total), (p, i) => p.splice(i, 0, v.pick(rand)));
      break;
    case 'boilerplate': {
      const extra = prose(v, rand, Math.max(1, Math.round(amount * total * 2))).flat();
      touch(Math.round(amount * total * 0.1), (p, i) => (p[i] = v.pick(rand)));
      if (rand() < 0.5) paras.push(extra);
      else paras.unshift(extra);
      break;
    }
    case 'reorder': {
      for (let i = paras.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [paras[i], paras[j]] = [paras[j]!, paras[i]!];
      }
      touch(Math.round(amount * total * 0.8), (p, i) => (p[i] = v.pick(rand)));
      break;
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown edit kind ${String(never)}`);
    }
  }
  return paras;
}

/** A variant of `base` whose exact Jaccard is as close to `target` as found by 14 bisection steps. */
export function plantVariant(base: string[][], target: number, kind: EditKind, v: Vocabulary, seed: number, ngram = 5): { text: string; jaccard: number } {
  const baseSet = shingleSet(render(base), ngram);
  let lo = 0;
  let hi = 1;
  let best = { text: render(base), jaccard: 1 };
  for (let step = 0; step < 14; step++) {
    const mid = (lo + hi) / 2;
    const text = render(variant(base, kind, mid, v, seed));
    const j = jaccard(baseSet, shingleSet(text, ngram));
    if (Math.abs(j - target) < Math.abs(best.jaccard - target)) best = { text, jaccard: j };
    if (j > target) lo = mid;
    else hi = mid;
  }
  return best;
}

export interface CorpusOptions {
  /** Unrelated base documents (default 1000). */
  docs?: number;
  /** Fraction of base documents given a planted variant (default 0.5). */
  pairFraction?: number;
  /** Target Jaccards of planted pairs, cycled (default 0.50, 0.55, …, 1.00). */
  targets?: number[];
  /** Words per base document, uniform in [min, max] (default 100..600). */
  minWords?: number;
  maxWords?: number;
  seed?: number;
  vocabulary?: number;
}

/** Ground truth of one planted pair. */
export interface PlantedPair {
  base: string;
  variant: string;
  kind: EditKind;
  target: number;
  jaccard: number;
}

export const DEFAULT_TARGETS = Array.from({ length: 11 }, (_, i) => Math.round((0.5 + i * 0.05) * 100) / 100);

/**
 * Generates the corpus as a stream of docs in a shuffled order (a pair's two documents land
 * far apart, typically in different files), calling `onPair` with each planted pair's truth.
 */
export function* generateCorpus(opts: CorpusOptions = {}, onPair?: (p: PlantedPair) => void): Generator<Doc> {
  const n = opts.docs ?? 1000;
  const rand = rng(opts.seed ?? 42);
  const v = new Vocabulary(opts.vocabulary ?? 20000, rand);
  const targets = opts.targets ?? DEFAULT_TARGETS;
  const minW = opts.minWords ?? 100;
  const maxW = opts.maxWords ?? 600;
  // Positions: a random permutation of slots decides output order in blocks of 4096 docs, so
  // memory stays bounded for any corpus size while pairs still land apart.
  const block = 4096;
  let buffer: Doc[] = [];
  let pairNo = 0;
  const flush = function* () {
    for (let i = buffer.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [buffer[i], buffer[j]] = [buffer[j]!, buffer[i]!];
    }
    yield* buffer;
    buffer = [];
  };
  for (let d = 0; d < n; d++) {
    const paras = prose(v, rand, minW + Math.floor(rand() * (maxW - minW + 1)));
    const id = `doc-${String(d).padStart(8, '0')}`;
    const date = new Date(Date.UTC(2024, 0, 1) + Math.floor(rand() * 365) * 86400000).toISOString();
    buffer.push({ id, text: render(paras), meta: { url: `https://site${d % 997}.example/page/${d}`, crawlDate: date } });
    if (rand() < (opts.pairFraction ?? 0.5)) {
      const target = targets[pairNo % targets.length]!;
      const kind = EDIT_KINDS[Math.floor(pairNo / targets.length) % EDIT_KINDS.length]!;
      const vid = `${id}-v`;
      const planted = target >= 1 ? { text: render(paras), jaccard: 1 } : plantVariant(paras, target, kind, v, (opts.seed ?? 42) * 1000003 + d);
      buffer.push({ id: vid, text: planted.text, meta: { url: `https://mirror${d % 13}.example/copy/${d}`, crawlDate: date } });
      onPair?.({ base: id, variant: vid, kind, target, jaccard: planted.jaccard });
      pairNo++;
    }
    if (buffer.length >= block) yield* flush();
  }
  yield* flush();
}

/** Writes a generated corpus as `files` JSONL files; returns the truth and the byte count. */
export async function writeCorpus(dir: string, files: number, opts: CorpusOptions = {}): Promise<{ pairs: PlantedPair[]; bytes: number; docs: number; paths: string[] }> {
  await mkdir(dir, { recursive: true });
  const paths = Array.from({ length: files }, (_, i) => join(dir, `corpus-${String(i).padStart(3, '0')}.jsonl`));
  const streams = paths.map((p) => createWriteStream(p));
  const pairs: PlantedPair[] = [];
  let bytes = 0;
  let docs = 0;
  for (const doc of generateCorpus(opts, (p) => pairs.push(p))) {
    const line = JSON.stringify(doc) + '\n';
    bytes += Buffer.byteLength(doc.text);
    const ws = streams[docs++ % files]!;
    if (!ws.write(line)) await once(ws, 'drain');
  }
  await Promise.all(streams.map(async (s) => {
    s.end();
    await once(s, 'finish');
  }));
  return { pairs, bytes, docs, paths };
}
