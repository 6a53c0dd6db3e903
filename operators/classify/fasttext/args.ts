/**
 * fastText's `Args` as a model file stores them (fastText 0.9.2 `Args::save`): twelve int32
 * fields and the sampling threshold `t` as a double, in this order. The label prefix is not
 * stored: every fastText model uses `__label__`.
 */
import type { ModelReader, ByteWriter } from './bytes.ts';
import { FastTextFormatError } from './bytes.ts';

/** fastText's `loss_name` enum values. */
export const LOSS = { hs: 1, ns: 2, softmax: 3, ova: 4 } as const;
/** fastText's `model_name` enum values. */
export const MODEL = { cbow: 1, sg: 2, sup: 3 } as const;

export type LossName = keyof typeof LOSS;
export type ModelName = keyof typeof MODEL;

/** The label prefix fastText uses by default (and every published model uses). */
export const LABEL_PREFIX = '__label__';

/** The hyper-parameters stored in a model file. */
export interface FastTextArgs {
  dim: number;
  ws: number;
  epoch: number;
  minCount: number;
  neg: number;
  wordNgrams: number;
  loss: LossName;
  model: ModelName;
  bucket: number;
  minn: number;
  maxn: number;
  lrUpdateRate: number;
  t: number;
}

function nameOf<T extends Record<string, number>>(table: T, value: number, what: string, source: string): keyof T & string {
  for (const [k, v] of Object.entries(table)) if (v === value) return k as keyof T & string;
  throw new FastTextFormatError(`${source}: not a fastText model: ${what} = ${value} is not one of ${Object.values(table).join(', ')}`);
}

/** Reads the args block. */
export function readArgs(r: ModelReader): FastTextArgs {
  const dim = r.i32('dim');
  const ws = r.i32('ws');
  const epoch = r.i32('epoch');
  const minCount = r.i32('minCount');
  const neg = r.i32('neg');
  const wordNgrams = r.i32('wordNgrams');
  const loss = nameOf(LOSS, r.i32('loss'), 'loss', r.source);
  const model = nameOf(MODEL, r.i32('model'), 'model', r.source);
  const bucket = r.i32('bucket');
  const minn = r.i32('minn');
  const maxn = r.i32('maxn');
  const lrUpdateRate = r.i32('lrUpdateRate');
  const t = r.f64('t');
  if (dim <= 0 || dim > 1 << 20) throw new FastTextFormatError(`${r.source}: not a fastText model: dim = ${dim}`);
  if (bucket < 0) throw new FastTextFormatError(`${r.source}: not a fastText model: bucket = ${bucket}`);
  return { dim, ws, epoch, minCount, neg, wordNgrams, loss, model, bucket, minn, maxn, lrUpdateRate, t };
}

/** Writes the args block. */
export function writeArgs(w: ByteWriter, a: FastTextArgs): void {
  for (const v of [a.dim, a.ws, a.epoch, a.minCount, a.neg, a.wordNgrams, LOSS[a.loss], MODEL[a.model], a.bucket, a.minn, a.maxn, a.lrUpdateRate]) w.i32(v);
  w.f64(a.t);
}
