/** The trainer's public surface: the `train` stage (with `train.sft` and `train.dpo`), `trainModel`, DPO's API, the checkpoint scorer, and checkpoint export. */
import { train as trainStage } from './stage.ts';
import { sft } from './sft.ts';
import { dpo } from './dpo/stage.ts';

/**
 * `train(shards, {...})` pretrains a GPT; `train.sft(shards, { from, ... })` fine-tunes one on
 * loss-masked data (trainer/sft.ts); `train.dpo(pairs, { from, ... })` optimises one on
 * preference pairs (trainer/dpo/stage.ts).
 */
export const train = Object.assign(trainStage, { sft, dpo });
export type { TrainStageOptions } from './stage.ts';
export type { SftStageOptions } from './sft.ts';
export type { DpoStageOptions, DpoStageInfo } from './dpo/stage.ts';
export { trainDpo, dpoReference } from './dpo/api.ts';
export type { TrainDpoOptions, DpoResult } from './dpo/api.ts';
export type { DpoLossType } from './dpo/loss.ts';
export { trainModel } from './api.ts';
export type * from './api.ts';
export { openScorer, type OpenScorerOptions } from './scorer.ts';
export { exportCheckpoint, type ExportOptions, type ExportResult, type ExportFormat } from './export/index.ts';
export { paramCounts, flopsPerToken } from '../formats/model.ts';
export { openGenerator, type OpenGeneratorOptions, type TextGenerator } from './generate/open.ts';
export type { GenerateOptions, Generation, GenerationChunk, GeneratedToken, FinishReason } from './generate/generate.ts';
