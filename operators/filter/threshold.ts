/**
 * `filter.threshold`: applies thresholds to scores that filters wrote in `mode: 'annotate'`
 * (`meta.quality.<filter>.<score>`). Annotate once (expensive), then tune thresholds here: a
 * changed threshold changes only this cheap stage's fingerprint, so only it re-runs.
 */
import { z } from 'zod';
import { defineFilter, parseConfig, registerOperator } from '../../engine/operator.ts';
import type { Doc, Json, Operator } from '../../engine/types.ts';
import { verdictFromRules } from './common.ts';
import { registerRules, type ThresholdRule } from './rules.ts';

const Bounds = z.record(z.string().regex(/^.+\.[^.]+$/, "keys are '<filter>.<score>', e.g. 'gopherQuality.words'"), z.number().nullable()).default({});

const Options = z
  .object({
    /** `<filter>.<score>` → minimum value kept. */
    min: Bounds,
    /** `<filter>.<score>` → maximum value kept. */
    max: Bounds,
    /** Annotating filters whose own verdict (`meta.quality.<filter>.pass`) must be true. */
    pass: z.array(z.string().min(1)).default([]),
    /** A doc lacking a score a rule needs: drop it (`threshold.missing`, default) or keep it. */
    missing: z.enum(['drop', 'keep']).default('drop'),
    name: z.string().min(1).optional(),
  })
  .strict()
  .refine((o) => Object.keys(o.min).length + Object.keys(o.max).length + o.pass.length > 0, { message: 'give at least one of min, max or pass' });

/** Options of `filter.threshold`. */
export type ThresholdOptions = z.input<typeof Options>;

/** Reads `meta.quality.<filter>.<score>` (the score key is after the last dot). */
export function annotatedScore(doc: Doc, path: string): number | undefined {
  const dot = path.lastIndexOf('.');
  const q = doc.meta.quality as Record<string, Record<string, unknown> | undefined> | undefined;
  const v = q?.[path.slice(0, dot)]?.[path.slice(dot + 1)];
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

/** The rules of a threshold config (what-if keys: `min.<filter>.<score>`, `max.<filter>.<score>`). */
export function thresholdRules(config: Json): ThresholdRule[] {
  const c = config as { min?: Record<string, number | null>; max?: Record<string, number | null>; pass?: string[] };
  const rules: ThresholdRule[] = [];
  for (const f of c.pass ?? []) rules.push({ config: `pass.${f}`, score: `${f}.pass`, bound: 'min', reason: `threshold.${f}.pass`, threshold: 1, fixed: true });
  for (const [k, v] of Object.entries(c.min ?? {})) rules.push({ config: `min.${k}`, score: k, bound: 'min', reason: `threshold.${k}.min`, threshold: v });
  for (const [k, v] of Object.entries(c.max ?? {})) rules.push({ config: `max.${k}`, score: k, bound: 'max', reason: `threshold.${k}.max`, threshold: v });
  return rules;
}
registerRules('filter.threshold', thresholdRules);

/**
 * Threshold filter over annotated scores, e.g.
 * `filter.threshold({ min: { 'gopherQuality.words': 100 }, max: { 'fineweb.shortLineRatio': 0.5 }, pass: ['c4'] })`.
 * Reasons `threshold.<filter>.<score>.min|max`, `threshold.<filter>.pass`, `threshold.missing`;
 * scores: each rule's value under its `<filter>.<score>` key.
 */
export function threshold(options: ThresholdOptions): Operator {
  const o = parseConfig('filter.threshold', Options, options);
  const { name, ...config } = o;
  const rules = thresholdRules(config as Json);
  return defineFilter({
    type: 'filter.threshold',
    name: name ?? 'threshold',
    version: '1',
    config: config as Json,
    test: (doc) => {
      const scores: Record<string, number> = {};
      const missing: string[] = [];
      for (const r of rules) {
        const v = annotatedScore(doc, r.score);
        if (v === undefined) missing.push(r.score);
        else scores[r.score] = v;
      }
      if (missing.length && o.missing === 'drop') return { drop: 'threshold.missing', scores, details: { missing } };
      return verdictFromRules(rules, scores);
    },
  });
}

registerOperator('filter.threshold', "thresholds over annotated scores (meta.quality.<filter>.<score>)", (c) => threshold((c ?? {}) as ThresholdOptions));
