/** The trainer's public surface: the `train` stage (and `train.sft`), `trainModel`, and the checkpoint scorer. */
import { train as trainStage } from './stage.ts';
import { sft } from './sft.ts';

/** `train(shards, {...})` pretrains a GPT; `train.sft(shards, { from, ... })` fine-tunes one on loss-masked data (trainer/sft.ts). */
export const train = Object.assign(trainStage, { sft });
export type { TrainStageOptions } from './stage.ts';
export type { SftStageOptions } from './sft.ts';
export { trainModel } from './api.ts';
export type * from './api.ts';
export { openScorer, type OpenScorerOptions } from './scorer.ts';
export { paramCounts, flopsPerToken } from '../formats/model.ts';
