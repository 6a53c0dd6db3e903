/**
 * `filter.classifier`: model-based quality filtering with a fastText classifier (GPT-3's
 * WebText-vs-Common-Crawl classifier, DCLM's `fasttext_oh_eli5`, FineWeb-Edu-style score models).
 *
 * The score of a doc is the model's probability of `label` (`score: 'probability'`, the default),
 * or, for a model whose labels are numbers (FineWeb-Edu's 0–5), the expected label value
 * Σ p(label)·label (`score: 'expected'`). Then:
 * - `minScore`: a streaming filter like every other (drop reason `classifier.minScore`,
 *   `mode: 'annotate'`, score histograms, `sluice audit --what-if 'classifier.minScore=…'`);
 * - `keepTopFraction: f`: keep the top f of the whole corpus (DCLM keeps ~10%). That needs every
 *   score before the first decision, so it is a stage expansion: `<stage>.score` annotates each
 *   doc's score (`meta.quality.<name>.modelScore`), `<stage>.threshold` (one task) selects the exact
 *   threshold (operators/classify/top-fraction.ts) and records it in its manifest info, and
 *   `<stage>` keeps the docs scoring ≥ it (reason `classifier.belowTopFraction`), recording every
 *   score and the threshold, so the audit draws the histogram with the threshold, lists the docs
 *   nearest it, and answers `--what-if 'classifier.minScore=…'` without re-running.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { defineFilter, docBytes, parseConfig, registerOperator } from '../../engine/operator.ts';
import { toJson } from '../../engine/json.ts';
import type { CustomTaskContext, Doc, Json, Operator, StageExpansion, StageRef, TaskContext } from '../../engine/types.ts';
import { loadTextClassifier, type TextClassifier } from '../classify/model.ts';
import { topFractionThreshold, type TopFraction } from '../classify/top-fraction.ts';
import { CommonOptions, verdictFromRules } from './common.ts';
import { registerRules, type ThresholdRule } from './rules.ts';
import { fileTasks, stageMaker } from '../expansion.ts';
import { hasScheme } from '../../engine/storage/index.ts';

const Options = z
  .object({
    ...CommonOptions,
    /** fastText model (`.bin` or `.ftz`): a local path (relative to the pipeline file) or `s3://`. */
    model: z.string().min(1),
    /** The label whose probability is the score (without `__label__`); required for `score: 'probability'`. */
    label: z.string().min(1).optional(),
    /** `probability` (default): P(label); `expected`: Σ p(l)·l over numeric labels (score models). */
    score: z.enum(['probability', 'expected']).default('probability'),
    /** Keep docs whose score is ≥ this; `null` (default) keeps all unless `keepTopFraction` is set. */
    minScore: z.number().nullable().default(null),
    /** Keep this top fraction of the corpus by score (a stage expansion, see the module comment). */
    keepTopFraction: z.number().gt(0).max(1).optional(),
  })
  .strict();

/**
 * Options of `filter.classifier`. `model` is a file (local path relative to the pipeline file, or
 * `s3://`) or the handle of a `classify.train` stage, whose `model.bin` is then used (the stage
 * runs first and its fingerprint enters this one's).
 */
export type ClassifierOptions = Omit<z.input<typeof Options>, 'model'> & { model: string | StageRef };
type Config = z.output<typeof Options>;

/** What `<stage>.threshold` records (and `<stage>` repeats) in its manifest info. */
export interface ClassifierThresholdInfo {
  [key: string]: Json;
  threshold: number | null;
  keepTopFraction: number;
  /** Docs scored, and the rank of the threshold from the top. */
  docs: number;
  rank: number;
  /** Docs at or above the threshold (more than `rank` when scores tie). */
  kept: number;
  passes: number;
}

/** The rules: `minScore` (or the threshold `keepTopFraction` selected, read from the stage's info). */
export function classifierRules(config: Json, info?: Readonly<Record<string, unknown>>): ThresholdRule[] {
  const c = config as Record<string, unknown>;
  if (typeof c.keepTopFraction === 'number') {
    const t = info?.['threshold'];
    return [{ config: 'minScore', score: 'modelScore', bound: 'min', reason: 'classifier.belowTopFraction', threshold: typeof t === 'number' ? t : null }];
  }
  return [{ config: 'minScore', score: 'modelScore', bound: 'min', reason: 'classifier.minScore', threshold: typeof c.minScore === 'number' ? c.minScore : null }];
}
registerRules('filter.classifier', classifierRules);

function checkConfig(o: Config): void {
  if (o.score === 'probability' && o.label === undefined) throw new Error(`filter.classifier: 'label' is required with score 'probability' (the label whose probability is the score, e.g. 'hq')`);
  if (o.keepTopFraction !== undefined && o.minScore !== null) throw new Error(`filter.classifier: set either minScore (${o.minScore}) or keepTopFraction (${o.keepTopFraction}), not both`);
  if (o.keepTopFraction !== undefined && o.mode === 'annotate') throw new Error(`filter.classifier: keepTopFraction drops docs; use minScore: null with mode 'annotate' to only write scores`);
}

/** The scoring function of a loaded model under a config; throws naming the model when `label` is not one of its labels. */
export function scorer(model: TextClassifier, o: Pick<Config, 'model' | 'label' | 'score'>): (text: string) => number {
  switch (o.score) {
    case 'probability': {
      const label = o.label!;
      const id = model.labels.indexOf(label);
      if (id < 0) throw new Error(`filter.classifier: model ${o.model} has no label '${label}' (its labels: ${model.labels.join(', ')})`);
      return (text) => model.probabilities(text)[id]!;
    }
    case 'expected': {
      const values = model.labels.map(Number);
      const bad = model.labels.filter((_, i) => !Number.isFinite(values[i]));
      if (bad.length) throw new Error(`filter.classifier: score 'expected' needs numeric labels; model ${o.model} has ${bad.map((b) => `'${b}'`).join(', ')}`);
      return (text) => model.expectedScore(text);
    }
    default: {
      const never: never = o.score;
      throw new Error(`filter.classifier: unknown score ${String(never)}`);
    }
  }
}

/** Where the model is: the `classify.train` stage's `model.bin`, or the path (relative paths against the pipeline's folder). */
async function modelUri(model: string, ref: StageRef | undefined, ctx: TaskContext): Promise<string> {
  if (ref) return ctx.storage.join((await ctx.dataset(ref)).dir, 'model.bin');
  return hasScheme(model) ? model : resolve(ctx.baseDir, model);
}

/**
 * The streaming filter (minScore or annotate): one score per doc, `modelScore`, rounded to 1e-6.
 * (Not `score`: the audit reads a filter's `score` as the violated rule's copy of a named score.)
 */
function scoringFilter(o: Config, ref: StageRef | undefined, name: string, mode: 'drop' | 'annotate', type = 'filter.classifier'): Operator {
  const { mode: _m, name: _n, ...config } = o;
  const rules = classifierRules({ ...config, keepTopFraction: null } as Json);
  let score: ((text: string) => number) | undefined;
  const filter = defineFilter({
    type,
    name,
    version: '1',
    config: { mode, ...config } as Json,
    mode,
    async setup(ctx) {
      score ??= scorer(await loadTextClassifier(await modelUri(o.model, ref, ctx), ctx.storage), o);
    },
    test: (doc) => verdictFromRules(rules, { modelScore: Math.round(score!(doc.text) * 1e6) / 1e6 }),
  });
  return ref ? { ...filter, refs: [ref] } : filter;
}

/** Streams a file of little-endian float64s (a chunk may end mid-value: the rest is carried over). */
async function* readFloat64s(path: string): AsyncGenerator<Float64Array> {
  let carry = Buffer.alloc(0);
  for await (const buf of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const all = carry.length ? Buffer.concat([carry, buf]) : buf;
    const whole = all.length - (all.length % 8);
    const out = new Float64Array(whole / 8);
    for (let i = 0; i < out.length; i++) out[i] = all.readDoubleLE(i * 8);
    carry = Buffer.from(all.subarray(whole));
    yield out;
  }
}

/** The score `<stage>.score` wrote into a doc's meta (`meta.quality.<name>.modelScore`), or NaN. */
function annotatedScore(doc: Doc, name: string): number {
  const q = (doc.meta.quality as Record<string, { modelScore?: unknown }> | undefined)?.[name];
  return typeof q?.modelScore === 'number' ? q.modelScore : Number.NaN;
}

function topFraction(o: Config, ref: StageRef | undefined, name: string): StageExpansion<ClassifierThresholdInfo> {
  const fraction = o.keepTopFraction!;
  const config = toJson(o);
  const custom = stageMaker('1', config);
  return {
    kind: 'expansion',
    type: 'filter.classifier',
    name,
    version: '1',
    config,
    expand(p, stage, inputs) {
      const scored = p.stage(`${stage}.score`, inputs, [scoringFilter({ ...o, keepTopFraction: undefined, minScore: null }, ref, name, 'annotate')]);
      const threshold = p.stage<ClassifierThresholdInfo>(
        `${stage}.threshold`,
        custom('filter.classifier.threshold', name, [scored] as const, 'artifact', () => 1, async (ctx: CustomTaskContext<ClassifierThresholdInfo, readonly [typeof scored]>) => {
          const [input] = ctx.inputs;
          // Scores once into a local scratch file (8 bytes a doc), re-read by each selection pass.
          const path = resolve(ctx.tmpDir, 'scores.f64');
          const out = await open(path, 'w');
          for await (const batch of input.readDocs(undefined, { columns: ['meta'], batchSize: 4096 })) {
            const chunk = new Float64Array(batch.length);
            batch.forEach((d, i) => (chunk[i] = annotatedScore(d, name)));
            await out.write(new Uint8Array(chunk.buffer));
            ctx.progress.add(batch.length, 0);
          }
          await out.close();
          const r: TopFraction = await topFractionThreshold(() => readFloat64s(path), fraction);
          const info: ClassifierThresholdInfo = { threshold: r.threshold, keepTopFraction: fraction, docs: r.docs, rank: r.rank, kept: r.kept, passes: r.passes };
          ctx.log(`threshold ${r.threshold} keeps ${r.kept} of ${r.docs} docs (top ${fraction}; ${r.passes} passes)`);
          await ctx.writeFile('threshold.json', JSON.stringify(info, null, 2) + '\n');
          ctx.setInfo(info);
        }),
      );
      return p.stage<ClassifierThresholdInfo>(
        stage,
        custom('filter.classifier', name, [scored, threshold] as const, 'docs', fileTasks, async (ctx: CustomTaskContext<ClassifierThresholdInfo, readonly [typeof scored, typeof threshold]>) => {
          const [input, th] = ctx.inputs;
          const info = th.manifest.info;
          if (!info) throw new Error(`${ctx.stage}: the threshold stage recorded no threshold`);
          const t = info.threshold;
          const file = input.files()[ctx.index];
          const docs = file === undefined ? (async function* () {})() : input.readDocs([file]);
          ctx.setInfo(info);
          await ctx.writeDocs(
            `part-${String(ctx.index).padStart(5, '0')}.parquet`,
            (async function* () {
              for await (const batch of docs) {
                const out: Doc[] = [];
                let bytesIn = 0;
                let bytesOut = 0;
                for (const d of batch) {
                  const v = annotatedScore(d, name);
                  const keep = t !== null && v >= t;
                  const b = docBytes(d);
                  bytesIn += b;
                  ctx.audit.score(name, 'modelScore', d, v, keep);
                  if (keep) {
                    out.push(d);
                    bytesOut += b;
                  } else ctx.audit.drop(name, d, 'classifier.belowTopFraction', v, { threshold: t });
                }
                ctx.progress.add(batch.length, bytesIn);
                ctx.audit.flow?.(name, batch.length, bytesIn, out.length, bytesOut);
                if (out.length) yield out;
              }
            })(),
          );
        }),
      );
    },
  };
}

/**
 * Model-based quality filter. Options: `model` (fastText `.bin`/`.ftz`, local or `s3://`, or a
 * `classify.train` stage handle),
 * `label` (the positive label), `score` (`probability` default, or `expected` for numeric-label
 * score models), and one of `minScore` (a streaming filter; default `null`: keep all) or
 * `keepTopFraction` (a corpus-wide stage expansion). `mode: 'annotate'` (with `minScore`) only
 * writes `meta.quality.<name>.modelScore`. Default name `classifier`. A model without `label`, or a
 * file that is not a fastText model, fails the task with an error naming the model.
 */
export function classifier(options: ClassifierOptions & { keepTopFraction: number }): StageExpansion<ClassifierThresholdInfo>;
export function classifier(options: ClassifierOptions & { keepTopFraction?: undefined }): Operator;
export function classifier(options: ClassifierOptions): Operator | StageExpansion<ClassifierThresholdInfo> {
  const m = options?.model;
  const ref = m !== null && typeof m === 'object' ? m : undefined;
  if (ref && ref.kind !== 'stage') throw new Error(`filter.classifier: 'model' must be a path or a classify.train stage handle, got ${JSON.stringify(m)}`);
  // A stage's model is named in the config by its stage; its fingerprint enters through `refs`.
  const o = parseConfig('filter.classifier', Options, { ...options, model: ref ? `stage:${ref.name}/model.bin` : m });
  checkConfig(o);
  const name = o.name ?? 'classifier';
  return o.keepTopFraction !== undefined ? topFraction(o, ref, name) : scoringFilter(o, ref, name, o.mode);
}

registerOperator('filter.classifier', 'fastText classifier score: keep P(label) ≥ minScore (meta.quality.<name>.modelScore)', (c) => {
  const o = (c ?? {}) as ClassifierOptions;
  if (typeof o.model !== 'string') throw new Error(`filter.classifier: 'model' must be a file path in 'sluice apply'`);
  if (o.keepTopFraction !== undefined) throw new Error(`filter.classifier: keepTopFraction needs the whole corpus; use it in a pipeline stage, not 'sluice apply'`);
  return classifier({ ...o, keepTopFraction: undefined });
});
