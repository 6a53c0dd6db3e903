/** The `classify.*` operators: model-based labels and scores. */
import { annotate } from './annotate.ts';
import { classify as fastText } from './fasttext/index.ts';

/**
 * Classifiers: `classify.annotate` scores documents with an LLM (labels to distil a classifier
 * from); `classify.train` trains a fastText classifier on labeled docs as a stage;
 * `classify.fastText`, `classify.load`, `classify.trainScoreModel`, `classify.expectedScore`,
 * `classify.evaluate` work in memory (operators/classify/fasttext, docs/classify.md).
 */
export const classify = {
  annotate,
  ...fastText,
};
