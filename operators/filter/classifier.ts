/**
 * `filter.classifier`: model-based quality filtering with a fastText classifier (a `.bin` or
 * `.ftz` from `sluice classify train`, the fastText CLI, or published ones such as DCLM's). The
 * score is the probability of one label (`label: 'hq'`: GPT-3 / DCLM style) or, for a score model
 * trained on integer labels, the expected score (no `label`: FineWeb-Edu style, keep ≥ 3).
 * Newlines count as spaces: the whole document is one example (fastText itself would read only
 * its first line).
 *
 * The model file's sha256 is part of the config, so retraining the model re-runs the stage.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { defineFilter, parseConfig, registerOperator } from '../../engine/operator.ts';
import type { Json, Operator } from '../../engine/types.ts';
import { CommonOptions, verdictFromRules } from './common.ts';
import { registerRules, type ThresholdRule } from './rules.ts';
import { loadFastText, type FastTextModel } from '../classify/fasttext/model.ts';
import { labelValues } from '../classify/fasttext/score.ts';

const Options = z
  .object({
    ...CommonOptions,
    /** Path of the fastText model (`.bin` or `.ftz`). */
    model: z.string().min(1),
    /** Label whose probability is the score (with or without `__label__`); omit for a score model's expected score. */
    label: z.string().min(1).optional(),
    /** Keep docs scoring at least this; `null` (default) drops nothing (use with `mode: 'annotate'`). */
    minScore: z.number().nullable().default(null),
  })
  .strict();

/** Options of `filter.classifier`. */
export type ClassifierOptions = z.input<typeof Options>;

/** The rule of a classifier config: `modelScore ≥ minScore`. */
export function classifierRules(config: Json): ThresholdRule[] {
  const c = config as Record<string, unknown>;
  return [{ config: 'minScore', score: 'modelScore', bound: 'min', reason: 'classifier.lowScore', threshold: typeof c.minScore === 'number' ? c.minScore : null }];
}
registerRules('filter.classifier', classifierRules);

const digests = new Map<string, string>();
/** sha256 of a model file, memoised per path, size and mtime (a 1 GB model hashes in ~2 s). */
function modelDigest(path: string): string {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new Error(`filter.classifier: model ${path}: ${(e as Error).message}`);
  }
  const key = `${path}\0${st.size}\0${st.mtimeMs}`;
  let d = digests.get(key);
  if (!d) digests.set(key, (d = createHash('sha256').update(readFileSync(path)).digest('hex')));
  return d;
}

const models = new Map<string, FastTextModel>();

/**
 * Classifier filter. Score `modelScore` (a probability in [0, 1], or an expected score); reason
 * `classifier.lowScore` below `minScore`. Defaults: `minScore` null (nothing dropped), `mode`
 * `drop`. A label the model lacks, or no label with a model whose labels are not numbers, is an
 * error when the stage starts.
 */
export function classifier(options: ClassifierOptions): Operator {
  const o = parseConfig('filter.classifier', Options, options);
  const { mode, name, ...rest } = o;
  const path = resolve(o.model);
  const config = { ...rest, model: path, modelSha256: modelDigest(path) };
  const rules = classifierRules(config as Json);
  let model: FastTextModel | undefined;
  let labelId = -1;
  let values: number[] | undefined;
  return defineFilter({
    type: 'filter.classifier',
    name: name ?? 'classifier',
    version: '1',
    config: { mode, ...config } as Json,
    mode,
    setup() {
      const key = `${path}\0${config.modelSha256}`;
      model = models.get(key);
      if (!model) models.set(key, (model = loadFastText(path)));
      if (o.label !== undefined) {
        labelId = model.labelId(o.label);
        if (labelId < 0) throw new Error(`filter.classifier: label '${o.label}' is not in model ${path} (labels: ${model.labels.slice(0, 20).join(', ')}${model.labels.length > 20 ? ', …' : ''})`);
      } else {
        values = labelValues(model);
        if (!values) throw new Error(`filter.classifier: model ${path} has non-numeric labels (${model.labels.slice(0, 6).join(', ')}): give the label whose probability is the score`);
      }
    },
    test: (doc) => {
      const p = model!.probabilities(doc.text);
      let s: number;
      if (values) {
        s = 0;
        let z = 0;
        for (let i = 0; i < p.length; i++) {
          s += p[i]! * values[i]!;
          z += p[i]!;
        }
        s = z > 0 ? s / z : 0;
      } else s = p[labelId]!;
      return verdictFromRules(rules, { modelScore: Math.round(s * 1e6) / 1e6 });
    },
  });
}

registerOperator('filter.classifier', 'fastText classifier score (label probability or expected score) ≥ minScore', (c) => classifier((c ?? {}) as ClassifierOptions));
