/**
 * Quality measures of `extract.html`, shared by the conformance test
 * (test/operators/extract/quality.test.ts), the bench (bench/extract.bench.ts) and the table
 * printer (bench/extract-eval.ts):
 *
 * - Snippets (trafilatura's evaluation): the share of `with` snippets found in the extracted text
 *   and of `without` snippets absent from it, whitespace collapsed on both sides.
 * - Shingles (the article-benchmark metric): precision, recall and F1 of the extracted text's
 *   word 4-gram shingles against those of a hand-written gold article body, micro-averaged per page
 *   then macro-averaged over pages (each page weighs the same, as article benchmarks report).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { decodeHtml } from '../operators/extract/charset.ts';
import { classify, languageModel } from '../operators/filter/language.ts';
import { REPO } from '../test/helpers/data.ts';

/** One annotated page of the trafilatura evaluation data. */
export interface SnippetPage {
  url: string;
  file: string;
  with: string[];
  without: string[];
  /** The decoded HTML. */
  html: string;
}

const norm = (s: string): string => s.replace(/\s+/g, ' ').trim();

/** Loads a trafilatura evaluation folder (`evaldata.json` or `evaldata-subset.json` beside `html/`). */
export function loadSnippetSet(dir: string): SnippetPage[] {
  const name = readdirSync(dir).find((f) => /^evaldata.*\.json$/.test(f));
  if (!name) throw new Error(`${dir}: no evaldata*.json`);
  const data = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, { file: string; with: string[]; without: string[] }>;
  return Object.entries(data).map(([url, v]) => ({ url, file: v.file, with: v.with, without: v.without, html: decodeHtml(gunzipSync(readFileSync(join(dir, v.file)))) }));
}

/** Counts of snippets matched; shares are `withHit / withN` and `withoutHit / withoutN`. */
export interface SnippetScore {
  pages: number;
  withN: number;
  withHit: number;
  withoutN: number;
  withoutHit: number;
}

/** Snippet counts of one page's extracted text. */
export function scoreSnippets(page: Pick<SnippetPage, 'with' | 'without'>, text: string): SnippetScore {
  const t = norm(text);
  let withHit = 0;
  let withoutHit = 0;
  for (const s of page.with) if (t.includes(norm(s))) withHit++;
  for (const s of page.without) if (!t.includes(norm(s))) withoutHit++;
  return { pages: 1, withN: page.with.length, withHit, withoutN: page.without.length, withoutHit };
}

/** Sums snippet counts. */
export function addSnippets(a: SnippetScore, b: SnippetScore): SnippetScore {
  return { pages: a.pages + b.pages, withN: a.withN + b.withN, withHit: a.withHit + b.withHit, withoutN: a.withoutN + b.withoutN, withoutHit: a.withoutHit + b.withoutHit };
}

/** The zero of `addSnippets`. */
export const NO_SNIPPETS: SnippetScore = { pages: 0, withN: 0, withHit: 0, withoutN: 0, withoutHit: 0 };

/**
 * The page's language for per-language tables: lid.176 (the project's `filter.language` model)
 * on the page's `with` snippets — the annotators' own selection of its main text, so the label
 * does not depend on what the extractor kept. `und` when the snippets are under 20 characters.
 */
export async function snippetLanguages(pages: SnippetPage[]): Promise<string[]> {
  const ft = await languageModel();
  return pages.map((p) => {
    const text = p.with.join(' ');
    return text.replace(/\s+/g, '').length < 20 ? 'und' : classify(ft, text).lang;
  });
}

/** Lower-cased word tokens (letters and digits), as the shingle metric counts them. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Multiset of word 4-gram shingles (texts under 4 words give their whole word sequence). */
export function shingles(text: string, n = 4): Map<string, number> {
  const w = words(text);
  const out = new Map<string, number>();
  if (w.length === 0) return out;
  if (w.length < n) {
    out.set(w.join(' '), 1);
    return out;
  }
  for (let i = 0; i + n <= w.length; i++) {
    const k = w.slice(i, i + n).join(' ');
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

/** Shingle precision, recall and F1 of `text` against `gold`. Empty vs empty is a perfect score. */
export function shingleScore(text: string, gold: string): { precision: number; recall: number; f1: number } {
  const a = shingles(text);
  const b = shingles(gold);
  let na = 0;
  let nb = 0;
  let common = 0;
  for (const v of a.values()) na += v;
  for (const v of b.values()) nb += v;
  for (const [k, v] of a) common += Math.min(v, b.get(k) ?? 0);
  if (na === 0 && nb === 0) return { precision: 1, recall: 1, f1: 1 };
  const precision = na ? common / na : 0;
  const recall = nb ? common / nb : 0;
  const f1 = precision + recall ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

/** One hand-labelled gold page: where its HTML is (WARC + record id) and its gold body. */
export interface GoldPage {
  id: string;
  /** `blog` (a dated post), `page` (a single-topic prose page), `reference` (a registry/reference page). */
  kind: 'blog' | 'page' | 'reference';
  url: string;
  warc: string;
  recordId: string;
  body: string;
}

/** The gold folder of the project (test/fixtures/extract-gold). */
export const GOLD_DIR = join(REPO, 'test', 'fixtures', 'extract-gold');

/** Loads the gold pages: `index.json` (id, url, warc, recordId) and `<id>.txt` bodies. */
export function loadGold(dir = GOLD_DIR): GoldPage[] {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Array<Omit<GoldPage, 'body'>>;
  return index.map((e) => ({ ...e, body: readFileSync(join(dir, `${e.id}.txt`), 'utf8') }));
}

/** Macro-averaged shingle scores over pages. */
export function meanShingles(scores: Array<{ precision: number; recall: number; f1: number }>): { precision: number; recall: number; f1: number } {
  const n = Math.max(1, scores.length);
  return {
    precision: scores.reduce((a, s) => a + s.precision, 0) / n,
    recall: scores.reduce((a, s) => a + s.recall, 0) / n,
    f1: scores.reduce((a, s) => a + s.f1, 0) / n,
  };
}
