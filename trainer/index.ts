/** The trainer's public surface: the `train` stage, `trainModel`, the checkpoint scorer, and checkpoint export. */
export { train, type TrainStageOptions } from './stage.ts';
export { trainModel } from './api.ts';
export type * from './api.ts';
export { openScorer, type OpenScorerOptions } from './scorer.ts';
export { exportCheckpoint, type ExportOptions, type ExportResult, type ExportFormat } from './export/index.ts';
export { paramCounts, flopsPerToken } from '../formats/model.ts';
export { openGenerator, type OpenGeneratorOptions, type TextGenerator } from './generate/open.ts';
export type { GenerateOptions, Generation, GenerationChunk, GeneratedToken, FinishReason } from './generate/generate.ts';
