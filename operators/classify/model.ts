/**
 * A text classifier as filters use it: a fastText supervised model (`.bin`, or quantised `.ftz`)
 * loaded from a local path or `s3://`, answering the probability of each label. DCLM's and
 * Dolma's published quality classifiers, lid.176, and models trained with the `fasttext` CLI or
 * `sluice classify train` all load here.
 *
 * Inference runs in fastText's own C++ compiled to WebAssembly (`fasttext.wasm`, already the
 * language filter's engine), so predictions are fastText's to the last bit. fastText's `predict`
 * reads a single line: newlines are replaced by spaces first (as `filter.language` does).
 */
import { FastText } from 'fasttext.wasm';
import type { StorageLike } from '../../engine/types.ts';

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
}

const PREFIX = '__label__';
const cache = new Map<string, Promise<TextClassifier>>();

/** fastText's file magic (`int32 793712314`, little-endian) opens both `.bin` and `.ftz`. */
const FASTTEXT_MAGIC = 793712314;

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
  let bytes: Uint8Array;
  try {
    bytes = await storage.read(uri);
  } catch (e) {
    throw new Error(`classifier model ${uri}: cannot be read (${(e as Error).message})`);
  }
  if (bytes.byteLength < 8 || new DataView(bytes.buffer, bytes.byteOffset, 8).getInt32(0, true) !== FASTTEXT_MAGIC) {
    throw new Error(`classifier model ${uri}: not a fastText model (no fastText magic number in its first 4 bytes)`);
  }
  const ft = await FastText.create();
  try {
    ft.loadModel(bytes);
  } catch (e) {
    throw new Error(`classifier model ${uri}: fastText could not load it (${e instanceof Error ? e.message : String(e)})`);
  }
  // fasttext.wasm's front class does not expose the label list: a prediction over every label
  // (k = -1, threshold 0) lists them; the order is then fixed by name, not by fastText's counts.
  const labels = [...ft.predict('the', -1, 0).keys()].map((l) => l.replace(PREFIX, '')).sort();
  if (labels.length === 0) throw new Error(`classifier model ${uri}: the model has no labels (is it a supervised model?)`);
  return {
    labels,
    predict(text: string, k = labels.length): LabelProbability[] {
      const line = text.replace(/[\r\n\u2028\u2029]+/g, ' ').trim();
      const out: LabelProbability[] = [];
      for (const [label, p] of ft.predict(line, k, 0)) out.push({ label: label.replace(PREFIX, ''), prob: Math.min(1, Math.max(0, p)) });
      return out;
    },
  };
}
