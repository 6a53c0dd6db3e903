/**
 * fastText-compatible supervised classifiers: load (`.bin`, `.ftz`), predict, save, train; the
 * training stage; score models. See docs/classify.md.
 */
import { loadFastText } from './model.ts';
import { trainFastText } from './train.ts';
import { train } from './train-stage.ts';
import { evaluate, expectedScore, trainScoreModel } from './score.ts';

export { FastTextModel, loadFastText, FASTTEXT_MAGIC, FASTTEXT_VERSION, type Prediction } from './model.ts';
export { FastTextFormatError } from './bytes.ts';
export { trainFastText, TrainingDataError, type Example, type TrainOptions } from './train.ts';
export { evaluate, expectedScore, trainScoreModel, pearson, type Evaluation, type ClassMetrics } from './score.ts';
export type { ClassifyTrainOptions, ClassifyTrainInfo } from './train-stage.ts';
export type { FastTextArgs, LossName } from './args.ts';

/**
 * `classify.*`: `classify.train(input, opts)` (a stage that trains `model.bin` on labeled docs),
 * `classify.fastText(examples, opts)` (train in memory), `classify.load(pathOrBytes)`,
 * `classify.trainScoreModel`, `classify.expectedScore`, `classify.evaluate`.
 */
export const classify = {
  train,
  fastText: trainFastText,
  load: loadFastText,
  trainScoreModel,
  expectedScore,
  evaluate,
};
