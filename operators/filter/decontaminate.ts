/**
 * `filter.decontaminate({ benchmarks, ngram })`: removes benchmark text from training data,
 * GPT-3 / lm-evaluation-harness janitor style. Every span of a doc that matches a benchmark
 * n-gram is cut out together with `window` characters on each side (default 200); the remaining
 * pieces shorter than `minPieceChars` (default 200) are discarded; a doc cut into more than
 * `maxPieces` pieces (default 10) is dropped whole as too dirty.
 *
 * Output: a doc without matches passes unchanged. A cleaned doc becomes its surviving pieces,
 * one doc each (`<id>#<k>`, so no false adjacency is created), each with
 * `meta.decontaminated = { from, piece, pieces, removedChars, items }`. Audit: dropped docs are
 * recorded with reason `decontaminate.tooDirty` or `decontaminate.noCleanPiece` and the matched
 * items; every doc with a match gets a `removedChars` score.
 *
 * Matching is the contamination report's own matcher (`formats/contamination/`): the same index
 * (normalised words, N per benchmark — `auto` by default, GPT-3's 5th percentile clipped to
 * [8, 13] —, each field on its own and their concatenations, short questions whole, template
 * n-grams excluded) and the same `matchUnits`. A streaming filter cannot know how many docs
 * contain an n-gram, so it has no document-frequency threshold, IDF weights or minimum share:
 * it removes every distinctive n-gram the report could count, a superset of what the report
 * flags. So removal and reporting never disagree: a report over the filter's output finds no
 * dirty item (tested on the conformance corpus).
 *
 * Chat and preference docs (`meta.chat`, `meta.preference`: formats/chat.ts) are checked on all
 * their text fields (`textFields`: every message's content; for a pair the prompt, chosen *and*
 * rejected, which `text` does not hold), joined so an n-gram spanning two turns is found too. A
 * match drops the doc whole, as `decontaminate.contaminatedChat` with the matched fields
 * (`messages[1]`, `rejected[0]`, …) and items: cutting spans out of a turn would leave a
 * conversation that no longer reads as one.
 */
import { z } from 'zod';
import type { Doc, Json, Operator } from '../../engine/types.ts';
import { parseConfig, registerOperator } from '../../engine/operator.ts';
import { loadBenchmark, BENCHMARK_FORMATS, type BenchmarkFormat } from '../read/benchmarks.ts';
import { buildIndex, type NgramIndex } from '../../formats/contamination/ngram-index.ts';
import { matchSpans } from '../../formats/contamination/match.ts';
import { UnitBuffer } from '../../formats/contamination/normalize.ts';
import { toJson } from '../../engine/json.ts';
import { chatOf, preferenceOf, textFields } from '../../formats/chat.ts';

const Bench = z.union([
  z.string().min(1),
  z.strictObject({ path: z.string().min(1), format: z.enum(BENCHMARK_FORMATS as [BenchmarkFormat, ...BenchmarkFormat[]]).optional(), name: z.string().optional(), labels: z.string().optional() }),
]);

const Config = z.strictObject({
  /** Benchmark files (`FILE` or `{ path, format }`), in the loader formats. */
  benchmarks: z.array(Bench).min(1),
  /** N in words: `auto` (default; per benchmark, as the report) or a number for every benchmark. */
  ngram: z.union([z.literal('auto'), z.number().int().min(2).max(4096)]).default('auto'),
  /** Indexed text per item (default both). */
  fields: z.enum(['question', 'answer', 'both']).default('both'),
  /** Questions, passages and renderings shorter than N but at least this many words are matched whole (default 5). */
  minLength: z.number().int().min(2).default(5),
  /** N-grams shared by more than this many benchmark items are template text (default 3). */
  maxItems: z.number().int().min(1).default(3),
  /** Characters removed on each side of a match (default 200, as GPT-3). */
  window: z.number().int().min(0).default(200),
  /** Pieces shorter than this are discarded (default 200). */
  minPieceChars: z.number().int().min(0).default(200),
  /** A doc cut into more pieces than this is dropped (default 10). */
  maxPieces: z.number().int().min(1).default(10),
});

export type DecontaminateOptions = z.input<typeof Config>;

const cache = new Map<string, Promise<NgramIndex>>();

/** Builds (once per process and config) the index of the configured benchmarks. */
function indexFor(cfg: z.output<typeof Config>): Promise<NgramIndex> {
  const key = JSON.stringify([cfg.benchmarks, cfg.ngram, cfg.fields, cfg.minLength, cfg.maxItems]);
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const benches = await Promise.all(cfg.benchmarks.map((b) => (typeof b === 'string' ? loadBenchmark(b) : loadBenchmark(b.path, { format: b.format, name: b.name, labels: b.labels }))));
      return buildIndex(benches, { ngram: cfg.ngram, fields: cfg.fields, minLength: cfg.minLength, maxItems: cfg.maxItems });
    })();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

/**
 * Cuts matches (± `window` chars) out of `text`: the pieces that remain, in order, before the
 * short-piece filter.
 */
export function cutSpans(text: string, spans: Array<[number, number]>, window: number): string[] {
  const pieces: string[] = [];
  let at = 0;
  for (const [s, e] of spans) {
    const from = Math.max(0, s - window);
    if (from > at) pieces.push(text.slice(at, from));
    at = Math.max(at, Math.min(text.length, e + window));
  }
  if (at < text.length) pieces.push(text.slice(at));
  return pieces;
}

/** Names of a chat or preference doc's text fields, in `textFields` order; undefined for other docs. */
function structuredFieldNames(doc: Doc): string[] | undefined {
  const c = chatOf(doc);
  if (c) return c.messages.map((_, i) => `messages[${i}]`);
  const p = preferenceOf(doc);
  if (p) return (['prompt', 'chosen', 'rejected'] as const).flatMap((k) => p[k].map((_, i) => `${k}[${i}]`));
  return undefined;
}

/** The fields (of `fields` joined by a blank line) that the match spans touch. */
function fieldsHit(fields: string[], names: string[], spans: Array<[number, number]>): string[] {
  const hit = new Set<string>();
  let start = 0;
  fields.forEach((f, i) => {
    const end = start + f.length;
    if (spans.some(([s, e]) => s < end && e > start)) hit.add(names[i]!);
    start = end + 2;
  });
  return [...hit];
}

/** Removes benchmark spans from training docs (see the module comment for the rules and defaults). */
export function decontaminate(options: DecontaminateOptions): Operator {
  const cfg = parseConfig('filter.decontaminate', Config, options);
  const name = 'filter.decontaminate';
  return {
    kind: 'operator',
    type: 'filter.decontaminate',
    name,
    version: '3',
    config: toJson(cfg),
    async *process(input, ctx) {
      const index = await indexFor(cfg);
      const buf = new UnitBuffer();
      for await (const batch of input) {
        const out: Doc[] = [];
        for (const doc of batch) {
          const names = structuredFieldNames(doc);
          if (names) {
            const fields = textFields(doc);
            const joined = fields.join('\n\n');
            const { spans, items } = matchSpans(index, joined, buf);
            if (spans.length === 0) out.push(doc);
            else {
              ctx.audit.score(name, 'removedChars', doc, doc.text.length, false);
              ctx.audit.drop(name, doc, 'decontaminate.contaminatedChat', spans.length, { items: items.slice(0, 50), spans: spans.length, fields: fieldsHit(fields, names, spans) });
            }
            continue;
          }
          const { spans, items } = matchSpans(index, doc.text, buf);
          if (spans.length === 0) {
            out.push(doc);
            continue;
          }
          const pieces = cutSpans(doc.text, spans, cfg.window);
          const details: Record<string, Json> = { items: items.slice(0, 50), spans: spans.length, pieces: pieces.length };
          if (pieces.length > cfg.maxPieces) {
            ctx.audit.score(name, 'removedChars', doc, doc.text.length, false);
            ctx.audit.drop(name, doc, 'decontaminate.tooDirty', pieces.length, details);
            continue;
          }
          const kept = pieces.filter((p) => p.length >= cfg.minPieceChars);
          const removed = doc.text.length - kept.reduce((s, p) => s + p.length, 0);
          ctx.audit.score(name, 'removedChars', doc, removed, kept.length > 0);
          if (kept.length === 0) {
            ctx.audit.drop(name, doc, 'decontaminate.noCleanPiece', removed, details);
            continue;
          }
          kept.forEach((text, k) => out.push({ id: `${doc.id}#${k}`, text, meta: { ...doc.meta, decontaminated: { from: doc.id, piece: k, pieces: kept.length, removedChars: removed, items: items.slice(0, 50) } } }));
        }
        if (out.length) yield out;
      }
    },
  };
}

registerOperator('filter.decontaminate', 'remove benchmark n-gram spans (per-field matcher of the contamination report, ±200 chars) from docs; drop docs cut into >10 pieces', (c) => decontaminate(c as DecontaminateOptions));
