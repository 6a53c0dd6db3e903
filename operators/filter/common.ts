/**
 * What every quality filter of this folder shares: the `mode`/`name` options, verdicts built from
 * threshold rules, and composing a filter with a preceding per-doc transform (language
 * annotation, C4's line removal) while keeping one operator identity for the audit.
 */
import { z } from 'zod';
import type { Doc, FilterVerdict, Operator, TaskContext } from '../../engine/types.ts';
import { firstViolation, type ThresholdRule } from './rules.ts';

/** Options every filter accepts. */
export const CommonOptions = {
  /** `drop` (default) removes failing docs; `annotate` only writes scores to `meta.quality`. */
  mode: z.enum(['drop', 'annotate']).default('drop'),
  /** Instance name (audit rows and `meta.quality` key); default: the short filter name. */
  name: z.string().min(1).optional(),
};

/** A numeric threshold that `null` switches off. */
export const threshold = (d: number) => z.number().nullable().default(d);

/** Keep, or drop with the first violated rule's reason; all scores travel either way. */
export function verdictFromRules(rules: ThresholdRule[], scores: Record<string, number>): FilterVerdict {
  const bad = firstViolation(rules, scores);
  if (!bad) return { keep: true, scores };
  return { drop: bad.reason, score: scores[bad.score], scores };
}

/**
 * A per-task cache from a doc's text to what the filter's `test` computed for it (language
 * label, C4's cleaned text), so a step after the filter can apply it to the docs that came out.
 * Entries live for one input batch: memory stays bounded however many docs are dropped.
 */
export class TextCache<T> {
  private readonly maps = new WeakMap<TaskContext, Map<string, T>>();
  /** The map of a task (created on first use). */
  of(ctx: TaskContext): Map<string, T> {
    let m = this.maps.get(ctx);
    if (!m) this.maps.set(ctx, (m = new Map()));
    return m;
  }
}

/**
 * Wraps a filter so `post(doc, cached)` rewrites each doc it lets through (in both modes), with
 * the value its `test` cached for the doc's text. The filter's spec and audit name are kept.
 */
export function withPostMap<T>(filter: Operator, cache: TextCache<T>, post: (doc: Doc, cached: T | undefined) => Doc): Operator {
  return {
    ...filter,
    async *process(input, ctx) {
      const map = cache.of(ctx);
      async function* batches(): AsyncIterable<Doc[]> {
        for await (const b of input) {
          map.clear();
          yield b;
        }
      }
      for await (const out of filter.process(batches(), ctx)) yield out.map((d) => post(d, map.get(d.text)));
      map.clear();
    },
  };
}
