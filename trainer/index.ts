/** The trainer's public surface: the `train` stage, `trainModel`, and the checkpoint scorer. */
export { train, type TrainStageOptions } from './stage.ts';
export { trainModel } from './api.ts';
export type * from './api.ts';
export { openScorer, type OpenScorerOptions } from './scorer.ts';
export { paramCounts, flopsPerToken } from '../formats/model.ts';
export { openGenerator, type OpenGeneratorOptions, type TextGenerator } from './generate/open.ts';
export type { GenerateOptions, Generation, GenerationChunk, GeneratedToken, FinishReason } from './generate/generate.ts';
