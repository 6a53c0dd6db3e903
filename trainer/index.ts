/** The trainer's public surface: the `train` stage (with `train.sft`), `trainModel`, the checkpoint scorer, and checkpoint export. */
import { train as trainStage } from './stage.ts';
import { sft } from './sft.ts';

/** `train(shards, {...})` pretrains a GPT; `train.sft(shards, { from, ... })` fine-tunes one on loss-masked data (trainer/sft.ts). */
export const train = Object.assign(trainStage, { sft });
export type { TrainStageOptions } from './stage.ts';
export type { SftStageOptions } from './sft.ts';
export { trainModel } from './api.ts';
export type * from './api.ts';
export { openScorer, type OpenScorerOptions } from './scorer.ts';
export { exportCheckpoint, type ExportOptions, type ExportResult, type ExportFormat } from './export/index.ts';
export { paramCounts, flopsPerToken } from '../formats/model.ts';
export { openGenerator, type OpenGeneratorOptions, type TextGenerator } from './generate/open.ts';
export type { GenerateOptions, Generation, GenerationChunk, GeneratedToken, FinishReason } from './generate/generate.ts';
