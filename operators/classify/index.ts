/** The `classify.*` operators: model-based labels and scores. */
import { annotate } from './annotate.ts';

/** Classifiers: `classify.annotate` scores documents with an LLM (labels to distil a classifier from). */
export const classify = {
  annotate,
};
