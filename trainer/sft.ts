/**
 * `train.sft(shards, { from, … })`: supervised fine-tuning as a pipeline stage. Next-token
 * cross-entropy on the loss-mask-1 tokens of the shards only (chat docs from `chat.tokenize`,
 * packed by `shard.tokens({ pack: 'bfd', attention: 'document' })`), averaged over the trained
 * tokens of each optimizer step (trainer/tfjs/ops.ts `maskedCrossEntropy` says why), starting
 * from the weights of `from`: a `train` (or `train.sft`) stage's output, or a checkpoint
 * directory. The same loop as pretraining (trainer/run.ts) on either backend: resumable
 * checkpoints in the task's state directory (a SIGKILLed task resumes with identical losses),
 * metrics, report, and the model checkpoint plus the tokenizer's files in its output.
 *
 * Its manifest `info` (and so the `sluice run --json` summary, whose stage entries carry the
 * scalar entries of their `info`, under the stage's name) reports `heldout_loss_before`
 * (validation loss of the `from` weights, before any update), `heldout_loss_after` (validation
 * loss at the end) and `initial_loss` (the training loss of the first step, computed on the
 * `from` weights), all masked means in nats per trained token.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CustomStage, StageInfo, StageRef } from '../engine/types.ts';
import { toJson } from '../engine/json.ts';
import { shardManifest, shardSet, type ShardsInfo } from '../formats/shards.ts';
import type { MetricsRecord, TrainOptions } from './api.ts';
import { trainModel } from './api.ts';
import type { CheckpointMeta } from './checkpoint.ts';
import { parseMetricsRecord, progressNote } from './metrics.ts';
import { resolveRun } from './options.ts';
import { copyTokenizerFiles, loopArgs, publishDir, trainFigures } from './stage-output.ts';

/** Options of `train.sft`: those of `train` (trainer/api.ts `TrainOptions`) except the model, which is `from`'s. */
export interface SftStageOptions extends Omit<TrainOptions, 'model'> {
  /** The starting weights: a `train` stage's ref (or another `train.sft`'s), or a checkpoint directory (local or `s3://`). */
  from: StageRef | string;
  /** Stage name (default `sft`). */
  name?: string;
}

const SFT_VERSION = '1';

/** The three figures `train.sft` adds to its manifest info. */
export interface SftFigures {
  heldout_loss_before: number | null;
  heldout_loss_after: number | null;
  initial_loss: number | null;
}

/** `heldout_loss_before/after` and `initial_loss` from a run's metrics (step-0 validation record, last validation record, first train record). */
export function sftFigures(records: MetricsRecord[]): SftFigures {
  const val = records.filter((r) => r.kind === 'val');
  const before = val.find((r) => r.step === 0);
  const after = val.at(-1);
  const first = records.find((r) => r.kind === 'train');
  return {
    heldout_loss_before: before && before.kind === 'val' ? before.valLoss : null,
    heldout_loss_after: after && after.kind === 'val' && after.step > 0 ? after.valLoss : null,
    initial_loss: first && first.kind === 'train' ? first.loss : null,
  };
}

/**
 * The SFT stage over `shards` (a `shard.tokens` stage, layout `bin`, usually with loss masks).
 * Defaults are those of `TrainOptions`; `attention` defaults to the shards' recorded one. The
 * validation split is evaluated once before the first step (`heldout_loss_before`).
 */
export function sft(shards: StageRef<ShardsInfo>, options: SftStageOptions): CustomStage<StageInfo, [StageRef<ShardsInfo>]> {
  if (!shards || shards.kind !== 'stage') throw new Error('train.sft: the first argument must be a shard.tokens stage (the ref p.stage returns)');
  if (!options || options.from === undefined || options.from === null || options.from === '') throw new Error("train.sft: option 'from' is required: a train stage's ref or a checkpoint directory");
  const { name = 'sft', from, ...opts } = options;
  const fromRef = typeof from === 'string' ? undefined : from;
  if (fromRef && fromRef.kind !== 'stage') throw new Error("train.sft: option 'from' must be a stage ref (what p.stage returns) or a checkpoint path");
  if ('model' in (opts as Record<string, unknown>)) throw new Error("train.sft: option 'model' is not accepted: the model is the 'from' checkpoint's");
  // Validate everything but the model now (it comes from the checkpoint at run time).
  const resolvedSteps = resolveRun({ ...opts, model: { vocabSize: 1, contextLength: 1, layers: 1, dModel: 1, heads: 1 } }).steps;
  const config = toJson({ ...opts, from: fromRef ? { stage: fromRef.name } : from });
  return {
    kind: 'custom',
    type: 'train.sft',
    name,
    version: SFT_VERSION,
    config,
    inputs: [shards],
    ...(fromRef ? { refs: [fromRef] } : {}),
    output: 'artifact',
    async run(ctx) {
      const [ds] = ctx.inputs;
      const set = shardSet(shardManifest(ds));
      const fromDir = fromRef ? (await ctx.dataset(fromRef)).dir : (from as string);
      const metaUri = ctx.storage.join(fromDir, 'config.json');
      if (!(await ctx.storage.exists(metaUri))) throw new Error(`train.sft: 'from' ${fromRef ? `stage '${fromRef.name}' (${fromDir})` : fromDir} is not a model checkpoint (no config.json)`);
      const meta = JSON.parse(Buffer.from(await ctx.storage.read(metaUri)).toString('utf8')) as CheckpointMeta;
      if (meta.format !== 'sluice.gpt/1') throw new Error(`train.sft: ${metaUri}: format ${JSON.stringify(meta.format)}, expected "sluice.gpt/1"`);
      const sm = shardManifest(ds);
      if ((sm.pack ?? 'greedy') !== 'greedy' && sm.seqLen > meta.model.contextLength) throw new Error(`train.sft: the shards' rows have ${sm.seqLen} tokens (pack '${sm.pack}'), longer than the 'from' model's context of ${meta.model.contextLength}: a trainer row would cut documents; write the shards with seqLen ${meta.model.contextLength}`);
      if (set.vocabSize > meta.model.vocabSize) throw new Error(`train.sft: the shards' tokenizer has ${set.vocabSize} ids but the 'from' model's vocabulary has ${meta.model.vocabSize}; were they tokenized with another tokenizer?`);
      // The tokenizer travels with the checkpoint: the base model's files are copied beside the new one.
      const copied = await copyTokenizerFiles(ctx, fromDir);
      const tokenizerSpec = copied ? '.' : (meta.tokenizer ?? set.tokenizer);
      const out = join(ctx.tmpDir, 'out');
      let lastVal: number | null = null;
      const result = await trainModel({
        ...opts,
        model: meta.model,
        data: { ...set, vocabSize: meta.model.vocabSize, eotToken: meta.eotToken ?? set.eotToken, tokenizer: tokenizerSpec },
        init: fromDir,
        evalAtStart: true,
        ...loopArgs(ctx, out),
        onMetrics: (r: MetricsRecord) => {
          if (r.kind === 'val') lastVal = r.valLoss;
          ctx.progress.note(progressNote(r, resolvedSteps, lastVal));
        },
      });
      await publishDir(ctx, out);
      const records = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((l, i) => parseMetricsRecord(JSON.parse(l), `${name} metrics.jsonl line ${i + 1}`));
      const figures = sftFigures(records);
      const f3 = (x: number | null) => (x === null ? 'n/a' : x.toFixed(3));
      ctx.setInfo({
        ...figures,
        from: fromRef ? fromRef.name : fromDir,
        backend: result.backend,
        attention: resolveRun({ ...opts, model: meta.model }, set).attention,
        ...trainFigures(result),
        tokenizer: tokenizerSpec,
        summary: `SFT of ${result.params.total.toLocaleString('en-US')}-parameter GPT (${result.backend}) from ${fromRef ? `'${fromRef.name}'` : fromDir}, ${result.steps} steps: held-out loss ${f3(figures.heldout_loss_before)} → ${f3(figures.heldout_loss_after)}, initial train loss ${f3(figures.initial_loss)}, final ${result.finalLoss.toFixed(3)}`,
      });
    },
  };
}
