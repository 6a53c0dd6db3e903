/**
 * `FastTextModel`: a supervised fastText model in memory — load it from fastText's `.bin` /
 * `.ftz` bytes, predict labels for a text as `fasttext predict-prob` does, save it back in the
 * same format (the bytes of an unchanged model round-trip exactly).
 *
 * File layout (fastText 0.9.2 `FastText::saveModel`): int32 magic 793712314, int32 version (12;
 * 11 is read too), args, dictionary, bool quantized-input, input matrix, bool quantized-output,
 * output matrix.
 */
import { rename, writeFile, open } from 'node:fs/promises';
import { ByteReader, ByteWriter, FastTextFormatError, type ModelReader } from './bytes.ts';
import { FileReader } from './file-reader.ts';
import { LABEL_PREFIX, readArgs, writeArgs, type FastTextArgs } from './args.ts';
import { Dictionary, Ids } from './dictionary.ts';
import { DenseMatrix, QuantMatrix, type Matrix } from './matrix.ts';
import { OutputLayer } from './output.ts';

/** fastText's file magic (`FASTTEXT_FILEFORMAT_MAGIC_INT32`). */
export const FASTTEXT_MAGIC = 793712314;
/** The format version fastText 0.9.2 writes. */
export const FASTTEXT_VERSION = 12;

/** One predicted label: its name without `__label__`, and its probability. */
export interface Prediction {
  label: string;
  prob: number;
}

const fround = Math.fround;
const encoder = new TextEncoder();

export class FastTextModel {
  private readonly layer: OutputLayer;
  private readonly ids = new Ids();
  private readonly hidden: Float32Array;
  private readonly acc: Float32Array;
  /** The sum `touchRows` returns, kept so the reads it makes cannot be optimised away. */
  private touched = 0;
  private buf = new Uint8Array(1 << 12);
  /** Label names without the `__label__` prefix, in the model's order (most frequent first). */
  readonly labels: string[];

  constructor(
    readonly args: FastTextArgs,
    readonly dict: Dictionary,
    readonly input: Matrix,
    readonly output: Matrix,
  ) {
    const nl = dict.nlabels;
    if (nl < 1) throw new FastTextFormatError('fastText model has no labels: only supervised models can predict');
    // One output row per label for every loss (hierarchical softmax uses the first nl - 1 for its inner nodes).
    if (output.rows !== nl || output.cols !== args.dim || input.cols !== args.dim) {
      throw new FastTextFormatError(`not a consistent fastText model: dim ${args.dim}, ${nl} labels, loss ${args.loss}, input ${input.rows} × ${input.cols}, output ${output.rows} × ${output.cols}`);
    }
    this.labels = Array.from({ length: nl }, (_, i) => {
      const l = dict.label(i);
      return l.startsWith(LABEL_PREFIX) ? l.slice(LABEL_PREFIX.length) : l;
    });
    this.layer = new OutputLayer(args.loss, output, nl, dict.labelCounts());
    this.hidden = new Float32Array(args.dim);
    this.acc = new Float32Array(args.dim);
  }

  /** Parses fastText model bytes; `source` names them in errors. */
  static fromBytes(bytes: Uint8Array, source = 'model'): FastTextModel {
    return FastTextModel.read(new ByteReader(bytes, source));
  }

  /** Parses a model from a reader (bytes in memory, or a file read window by window). */
  static read(r: ModelReader): FastTextModel {
    const source = r.source;
    if (r.size < 8) throw new FastTextFormatError(`${source}: not a fastText model: ${r.size} bytes`);
    const magic = r.i32('magic');
    if (magic !== FASTTEXT_MAGIC) throw new FastTextFormatError(`${source}: not a fastText model (magic number ${magic}, expected ${FASTTEXT_MAGIC})`);
    const version = r.i32('version');
    if (version !== 11 && version !== 12) throw new FastTextFormatError(`${source}: fastText model version ${version} is not supported (11 or 12)`);
    const args = readArgs(r);
    if (args.model !== 'sup') throw new FastTextFormatError(`${source}: a fastText ${args.model} (word-vector) model, not a supervised classifier`);
    // fastText's own backward compatibility: version-11 supervised models had no char n-grams.
    if (version === 11) args.maxn = 0;
    const dict = Dictionary.read(r, args);
    const quantInput = r.bool('quant flag');
    const input = quantInput ? QuantMatrix.read(r, 'input') : DenseMatrix.read(r, 'input');
    if (!quantInput && dict.isPruned) throw new FastTextFormatError(`${source}: invalid fastText model: a pruned dictionary with a dense input matrix`);
    const qout = r.bool('qout flag');
    const output = quantInput && qout ? QuantMatrix.read(r, 'output') : DenseMatrix.read(r, 'output');
    if (r.remaining !== 0) throw new FastTextFormatError(`${source}: not a fastText model: ${r.remaining} bytes after the output matrix`);
    try {
      return new FastTextModel(args, dict, input, output);
    } catch (e) {
      throw new FastTextFormatError(`${source}: ${(e as Error).message}`);
    }
  }

  /** Whether the input matrix is product-quantized (a `.ftz` file). */
  get quantized(): boolean {
    return this.input.quantized;
  }

  /** The label's id (name with or without `__label__`), or -1. */
  labelId(label: string): number {
    return this.dict.labelId(label);
  }

  /** The hidden vector of a text: the mean of its input rows (fastText's `computeHidden`). */
  private computeHidden(text: string, eos = true): boolean {
    if (this.buf.length < text.length * 3) this.buf = new Uint8Array(text.length * 3 + 16);
    const { written } = encoder.encodeInto(text, this.buf);
    this.dict.lineIds(this.buf, written, this.ids, eos);
    const h = this.hidden;
    const acc = this.acc;
    acc.fill(0);
    const n = this.ids.n;
    if (n === 0) return false;
    const a = this.ids.a;
    // Summed in float32 (a Float32Array rounds every store), as fastText sums.
    if (this.input instanceof DenseMatrix) this.touched += this.input.touchRows(a, n);
    for (let i = 0; i < n; i++) this.input.addRowTo(acc, a[i]!);
    const inv = fround(1 / n);
    for (let j = 0; j < h.length; j++) h[j] = acc[j]! * inv;
    return true;
  }

  /**
   * The `k` most probable labels of `text` (all labels when `k` is -1) whose probability is at
   * least `threshold`, best first: the labels and probabilities `fasttext predict-prob` prints
   * for the text as one line. Newlines count as spaces (the whole text is one example; fastText
   * itself would read only up to the first). Defaults: k = 1, threshold = 0. `eos: false` leaves
   * out the end-of-line token `</s>`, as fastText does for an input's last line when it has no
   * newline.
   */
  predict(text: string, k = 1, threshold = 0, eos = true): Prediction[] {
    if (k === 0 || k < -1 || !Number.isInteger(k)) throw new RangeError(`predict: k must be a positive integer or -1, got ${k}`);
    if (!this.computeHidden(text, eos)) return [];
    const top = this.layer.predict(this.hidden, k === -1 ? this.dict.nlabels : k, threshold);
    return top.map((s) => ({ label: this.labels[s.id]!, prob: fround(Math.exp(s.score)) }));
  }

  /**
   * Every label's probability for `text`, in `labels` order (for hierarchical softmax the
   * product of the branch probabilities on the label's path, unpruned).
   */
  probabilities(text: string): Float32Array {
    if (!this.computeHidden(text)) return new Float32Array(this.dict.nlabels);
    return this.layer.probabilities(this.hidden);
  }

  /** The probability of one label (name with or without `__label__`); throws on a label the model lacks. */
  probability(text: string, label: string): number {
    const id = this.labelId(label);
    if (id < 0) throw new Error(`label '${label}' is not in the model (labels: ${this.labels.slice(0, 20).join(', ')}${this.labels.length > 20 ? ', …' : ''})`);
    return this.probabilities(text)[id]!;
  }

  /** The model as fastText `.bin`/`.ftz` bytes, in chunks (large matrices are not copied). */
  toChunks(): Uint8Array[] {
    const w = new ByteWriter();
    w.i32(FASTTEXT_MAGIC);
    w.i32(FASTTEXT_VERSION);
    writeArgs(w, this.args);
    this.dict.write(w);
    w.bool(this.input.quantized);
    this.input.write(w);
    w.bool(this.output.quantized);
    this.output.write(w);
    return w.finish();
  }

  /** The model as one byte array. */
  toBytes(): Uint8Array {
    return Buffer.concat(this.toChunks());
  }

  /** Writes the model to `path` atomically (a temporary file, then rename). */
  async save(path: string): Promise<void> {
    const tmp = `${path}.tmp-${process.pid}`;
    const fh = await open(tmp, 'w');
    try {
      for (const c of this.toChunks()) await fh.write(c);
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  }
}

/**
 * Loads a supervised fastText model (`.bin`, or quantized `.ftz`) from a path or its bytes. A
 * path is read window by window, matrices straight into their arrays (no 2 GiB limit).
 * Throws `FastTextFormatError` naming the file when it is not a fastText model (wrong magic,
 * unsupported version, a word-vector model, truncated or trailing bytes).
 */
export function loadFastText(source: string | Uint8Array): FastTextModel {
  if (typeof source === 'string') return FileReader.with(source, (r) => FastTextModel.read(r));
  return FastTextModel.fromBytes(source);
}

/** Writes bytes atomically (used for models produced as one array, e.g. by the trainer). */
export async function writeAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}
