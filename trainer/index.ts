/** The trainer's public surface: the `train` stage (with `train.sft` and `train.dpo`), `trainModel`, DPO's API, the checkpoint scorer, and checkpoint export. */
import { train as trainStage } from './stage.ts';
import { sft } from './sft.ts';
import { dpo, dpoApi } from './dpo/stage.ts';
import type * as DpoApi from './dpo/api.ts';
import type * as Scorer from './scorer.ts';
import type * as Export from './export/index.ts';
import type * as GenerateOpen from './generate/open.ts';

/**
 * `train(shards, {...})` pretrains a GPT; `train.sft(shards, { from, ... })` fine-tunes one on
 * loss-masked data (trainer/sft.ts); `train.dpo(pairs, { from, ... })` optimises one on
 * preference pairs (trainer/dpo/stage.ts).
 */
export const train = Object.assign(trainStage, { sft, dpo });
export type { TrainStageOptions } from './stage.ts';
export type { SftStageOptions } from './sft.ts';
export type { DpoStageOptions, DpoStageInfo } from './dpo/stage.ts';
export type { TrainDpoOptions, DpoResult } from './dpo/api.ts';
export type { DpoLossType } from './dpo/loss.ts';
export { trainModel } from './api.ts';
export type * from './api.ts';
export type { OpenScorerOptions } from './scorer.ts';
export type { ExportOptions, ExportResult, ExportFormat } from './export/index.ts';
export { paramCounts, flopsPerToken } from '../formats/model.ts';
export type { OpenGeneratorOptions, TextGenerator } from './generate/open.ts';
export type { GenerateOptions, Generation, GenerationChunk, GeneratedToken, FinishReason } from './generate/generate.ts';

// The functions below load their implementation (DPO's backends, the scorer, GGUF/safetensors
// export, the generator: about 25 modules) on first call. Every `sluice` process and worker
// imports this API before it runs anything, and a module costs ~1 ms of CPU to load in Node 20
// whether it is used or not.

/** DPO on a tokenized pair set with cached reference log-probabilities (trainer/dpo/api.ts `trainDpo`). */
export const trainDpo: typeof DpoApi.trainDpo = async (o) => (await dpoApi()).trainDpo(o);
/** The reference model's log-probabilities of every pair, cached in the pair set (trainer/dpo/api.ts `dpoReference`). */
export const dpoReference: typeof DpoApi.dpoReference = async (set, ref, o) => (await dpoApi()).dpoReference(set, ref, o);
/** Opens a trained model as a token scorer for evaluation (trainer/scorer.ts `openScorer`; backend from the checkpoint by default). */
export const openScorer: typeof Scorer.openScorer = async (model, opts) => (await import('./scorer.ts')).openScorer(model, opts);
/** Exports a checkpoint as GGUF or Hugging Face safetensors (trainer/export/index.ts `exportCheckpoint`). */
export const exportCheckpoint: typeof Export.exportCheckpoint = async (dir, opts) => (await import('./export/index.ts')).exportCheckpoint(dir, opts);
/** Opens a trained model for text generation with a KV cache (trainer/generate/open.ts `openGenerator`). */
export const openGenerator: typeof GenerateOpen.openGenerator = async (model, opts) => (await import('./generate/open.ts')).openGenerator(model, opts);
