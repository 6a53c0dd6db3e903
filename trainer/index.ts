/** The trainer's public surface: the `train` stage, `trainModel`, and the checkpoint scorer. */
export { train, type TrainStageOptions } from './stage.ts';
export { trainModel } from './api.ts';
export type * from './api.ts';
export { openScorer, type OpenScorerOptions } from './scorer.ts';
export { paramCounts, flopsPerToken } from '../formats/model.ts';
