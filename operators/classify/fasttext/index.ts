/**
 * fastText-compatible supervised classifiers: load (`.bin`, `.ftz`), predict, save, train.
 * See docs/classify.md.
 */
export { FastTextModel, loadFastText, FASTTEXT_MAGIC, FASTTEXT_VERSION, type Prediction } from './model.ts';
export { FastTextFormatError } from './bytes.ts';
export { trainFastText, TrainingDataError, type Example, type TrainOptions } from './train.ts';
export type { FastTextArgs, LossName } from './args.ts';
