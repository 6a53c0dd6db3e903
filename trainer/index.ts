/** The trainer's public surface: the `train` stage, `trainModel`, and the checkpoint scorer. */
import { train as trainStage } from './stage.ts';
import { dpo } from './dpo/stage.ts';

/**
 * The trainer stages: `train(shards, …)` pretrains a GPT; `train.dpo(pairs, { from, … })`
 * optimises a trained model on preference pairs (trainer/dpo/stage.ts).
 */
export const train = Object.assign(trainStage, { dpo });
export type { TrainStageOptions } from './stage.ts';
export type { DpoStageOptions, DpoStageInfo } from './dpo/stage.ts';
export { trainDpo, dpoReference } from './dpo/api.ts';
export type { TrainDpoOptions, DpoResult } from './dpo/api.ts';
export type { DpoLossType } from './dpo/loss.ts';
export { trainModel } from './api.ts';
export type * from './api.ts';
export { openScorer, type OpenScorerOptions } from './scorer.ts';
export { paramCounts, flopsPerToken } from '../formats/model.ts';
