/**
 * The trainer stage: `p.stage('model', train(shards, { model, optimizer, schedule, backend }))`.
 * A barrier over a `shard.tokens` stage: it trains a GPT on the `.bin` shards in the manifest's
 * order, keeps a resumable checkpoint in the task's state directory (a killed or retried task
 * continues where it was, with the same loss curve), shows `loss … | tok/s | MFU` on the progress
 * bar, and writes the model checkpoint (`model.safetensors`, `config.json`), `metrics.jsonl`,
 * `report.html` (loss curve as inline SVG) and the tokenizer's files into its output, so the
 * eval stage (`evaluate`, through trainer/scorer.ts) needs nothing else.
 */
import { join } from 'node:path';
import type { CustomStage, StageInfo, StageRef } from '../engine/types.ts';
import { toJson } from '../engine/json.ts';
import { shardManifest, shardSet, type ShardsInfo } from '../formats/shards.ts';
import { TOKENIZER_FILES } from '../formats/tokenizer.ts';
import { isEncodingName } from '../operators/tokenize/bpe/tiktoken-format.ts';
import type { MetricsRecord, TrainOptions } from './api.ts';
import { trainModel } from './api.ts';
import { progressNote } from './metrics.ts';
import { resolveRun } from './options.ts';
import { copyTokenizerFiles, loopArgs, publishDir, trainFigures } from './stage-output.ts';

/** Options of the trainer stage. */
export interface TrainStageOptions extends TrainOptions {
  /** Stage name (default `train`). */
  name?: string;
  /**
   * The tokenizer the shards were encoded with: a `tokenize.trainBpe` stage (its files are copied
   * into the checkpoint), or an encoding name (`cl100k_base`, `gpt2`, …) recorded as such. The
   * eval stage encodes text with it. Absent: the checkpoint records none and scoring text needs
   * a tokenizer passed to `openScorer`.
   */
  tokenizer?: StageRef | string;
}

const TRAIN_VERSION = '1';

/**
 * The trainer stage over `shards` (a `shard.tokens` stage with layout `bin`). Output: an artifact
 * with the model checkpoint, metrics and report; manifest `info` carries the final losses,
 * tokens, parameters, throughput and MFU. Defaults are those of `TrainOptions` (trainer/api.ts).
 */
export function train(shards: StageRef<ShardsInfo>, options: TrainStageOptions): CustomStage<StageInfo, [StageRef<ShardsInfo>]> {
  if (!shards || shards.kind !== 'stage') throw new Error('train: the first argument must be a shard.tokens stage (the ref p.stage returns)');
  const { name = 'train', tokenizer, ...opts } = options;
  // Validate everything but the vocabulary now (it may come from the shard manifest); the step
  // count does not depend on it.
  const resolvedSteps = resolveRun({ ...opts, model: { ...opts.model, vocabSize: opts.model.vocabSize ?? 1 } }).steps;
  const tokRef = tokenizer && typeof tokenizer !== 'string' ? tokenizer : undefined;
  if (typeof tokenizer === 'string' && !isEncodingName(tokenizer)) {
    throw new Error(`train: tokenizer '${tokenizer}' is not an encoding name; pass the tokenizer stage's ref instead`);
  }
  const config = toJson({ ...opts, tokenizer: tokRef ? { stage: tokRef.name } : (tokenizer ?? null) });
  return {
    kind: 'custom',
    type: 'train',
    name,
    version: TRAIN_VERSION,
    config,
    inputs: [shards],
    ...(tokRef ? { refs: [tokRef] } : {}),
    output: 'artifact',
    async run(ctx) {
      const [ds] = ctx.inputs;
      const set = shardSet(shardManifest(ds));
      // The tokenizer travels with the checkpoint: its files are copied beside the model.
      let tokenizerSpec: string | null = null;
      if (tokRef) {
        const tds = await ctx.dataset(tokRef);
        const copied = await copyTokenizerFiles(ctx, tds.dir);
        if (!copied) throw new Error(`train: tokenizer stage '${tokRef.name}' has none of ${Object.values(TOKENIZER_FILES).join(', ')}`);
        tokenizerSpec = '.';
      } else if (typeof tokenizer === 'string') tokenizerSpec = tokenizer;

      const out = join(ctx.tmpDir, 'out');
      let lastVal: number | null = null;
      const result = await trainModel({
        ...opts,
        data: { ...set, tokenizer: tokenizerSpec ?? undefined },
        ...loopArgs(ctx, out),
        onMetrics: (r: MetricsRecord) => {
          if (r.kind === 'val') lastVal = r.valLoss;
          ctx.progress.note(progressNote(r, resolvedSteps, lastVal));
        },
      });
      // The loop wrote into a local directory; publish through the stage output (atomic per file).
      await publishDir(ctx, out);
      ctx.setInfo({
        backend: result.backend,
        attention: opts.attention ?? set.attention,
        ...trainFigures(result),
        tokenizer: tokenizerSpec,
        summary: `${result.params.total.toLocaleString('en-US')}-parameter GPT (${result.backend}), ${result.steps} steps, ${result.tokensSeen.toLocaleString('en-US')} tokens: final loss ${result.finalLoss.toFixed(3)}${result.valLoss !== null && result.valLoss !== undefined ? `, val loss ${result.valLoss.toFixed(3)}` : ''}, ${Math.round(result.tokensPerSecond).toLocaleString('en-US')} tokens/s`,
      });
    },
  };
}
