/**
 * fastText's two matrix kinds as a model file stores them: `DenseMatrix` (int64 rows, int64
 * columns, float32 row-major) and `QuantMatrix` (product quantization: bool qnorm, int64 rows, int64 columns, int32 code count, one byte code per
 * sub-vector, 256 centroids per sub-quantizer, optionally a separately quantized norm per row,
 * as `fasttext quantize` writes `.ftz` files). Both add a row into a vector and take a row's dot
 * product in float32, rounding at every step as fastText's C++ `real` (float) arithmetic does, so
 * probabilities print as the CLI's.
 */
import type { ModelReader, ByteWriter } from './bytes.ts';
import { FastTextFormatError } from './bytes.ts';

const fround = Math.fround;

/** What the model needs of a matrix. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly quantized: boolean;
  /** `x += row i` (float32). */
  addRowTo(x: Float32Array, i: number): void;
  /** `row i · x` (float32). */
  dotRow(x: Float32Array, i: number): number;
  /** `out[i] = row i · x` for the first `out.length` rows. */
  mulVec(x: Float32Array, out: Float32Array): void;
  write(w: ByteWriter): void;
}

/** A dense float32 matrix. */
export class DenseMatrix implements Matrix {
  readonly quantized = false;
  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly data: Float32Array,
  ) {}

  static read(r: ModelReader, what: string): DenseMatrix {
    const m = r.i64(`${what} rows`);
    const n = r.i64(`${what} columns`);
    if (m < 0 || n < 0 || m * n * 4 > r.remaining) {
      throw new FastTextFormatError(`${r.source}: truncated or not a fastText model: ${what} matrix of ${m} × ${n} floats does not fit in the ${r.remaining} bytes left`);
    }
    return new DenseMatrix(m, n, r.f32s(m * n, `${what} matrix`));
  }

  write(w: ByteWriter): void {
    w.i64(this.rows);
    w.i64(this.cols);
    w.f32s(this.data);
  }

  /**
   * Reads one float per 64-byte cache line of each listed row and returns their sum. Called
   * before the rows are summed, it issues all their cache misses at once instead of one row after
   * another: measured 1.8× faster averaging of the rows of a 64 MB matrix (rows are scattered
   * by the hashing, so nearly every row is a cache miss).
   */
  touchRows(ids: Int32Array, n: number): number {
    const d = this.data;
    const cols = this.cols;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const o = ids[i]! * cols;
      for (let j = 0; j < cols; j += 16) s += d[o + j]!;
    }
    return s;
  }

  addRowTo(x: Float32Array, i: number): void {
    const d = this.data;
    const n = this.cols;
    const o = i * n;
    for (let j = 0; j < n; j++) x[j] += d[o + j]!;
  }

  /**
   * `out[i] = row i · x` for the first `out.length` rows, each sum rounded to float32 at every
   * step as fastText's loop does (so probabilities print as the CLI's). Four rows at a time: the
   * rounding makes each sum a chain of dependent steps, and four independent chains run
   * side by side (measured 1.5× faster than one row after another).
   */
  mulVec(x: Float32Array, out: Float32Array): void {
    const d = this.data;
    const n = this.cols;
    const rows = out.length;
    let i = 0;
    for (; i + 3 < rows; i += 4) {
      const o0 = i * n;
      const o1 = o0 + n;
      const o2 = o1 + n;
      const o3 = o2 + n;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let j = 0; j < n; j++) {
        const xj = x[j]!;
        s0 = fround(s0 + fround(d[o0 + j]! * xj));
        s1 = fround(s1 + fround(d[o1 + j]! * xj));
        s2 = fround(s2 + fround(d[o2 + j]! * xj));
        s3 = fround(s3 + fround(d[o3 + j]! * xj));
      }
      out[i] = s0;
      out[i + 1] = s1;
      out[i + 2] = s2;
      out[i + 3] = s3;
    }
    for (; i < rows; i++) out[i] = this.dotRow(x, i);
  }

  dotRow(x: Float32Array, i: number): number {
    const d = this.data;
    const n = this.cols;
    const o = i * n;
    let s = 0;
    for (let j = 0; j < n; j++) s = fround(s + fround(d[o + j]! * x[j]!));
    return s;
  }
}

const KSUB = 256;

/** fastText's `ProductQuantizer`: `nsubq` sub-quantizers of `dsub` dimensions (the last `lastdsub`). */
export class ProductQuantizer {
  constructor(
    readonly dim: number,
    readonly nsubq: number,
    readonly dsub: number,
    readonly lastdsub: number,
    readonly centroids: Float32Array,
  ) {}

  static read(r: ModelReader): ProductQuantizer {
    const dim = r.i32('pq dim');
    const nsubq = r.i32('pq nsubq');
    const dsub = r.i32('pq dsub');
    const lastdsub = r.i32('pq lastdsub');
    if (dim <= 0 || nsubq <= 0 || dsub <= 0 || lastdsub <= 0 || (nsubq - 1) * dsub + lastdsub !== dim) {
      throw new FastTextFormatError(`${r.source}: not a fastText model: product quantizer dim ${dim}, nsubq ${nsubq}, dsub ${dsub}, lastdsub ${lastdsub}`);
    }
    return new ProductQuantizer(dim, nsubq, dsub, lastdsub, r.f32s(dim * KSUB, 'pq centroids'));
  }

  write(w: ByteWriter): void {
    w.i32(this.dim);
    w.i32(this.nsubq);
    w.i32(this.dsub);
    w.i32(this.lastdsub);
    w.f32s(this.centroids);
  }

  /** Offset of centroid `code` of sub-quantizer `m` (`get_centroids`). */
  centroid(m: number, code: number): number {
    return m === this.nsubq - 1 ? m * KSUB * this.dsub + code * this.lastdsub : (m * KSUB + code) * this.dsub;
  }
}

/** fastText's `QuantMatrix`. */
export class QuantMatrix implements Matrix {
  readonly quantized = true;
  constructor(
    readonly qnorm: boolean,
    readonly rows: number,
    readonly cols: number,
    readonly codes: Uint8Array,
    readonly pq: ProductQuantizer,
    readonly normCodes: Uint8Array | undefined,
    readonly npq: ProductQuantizer | undefined,
  ) {}

  static read(r: ModelReader, what: string): QuantMatrix {
    const qnorm = r.bool(`${what} qnorm`);
    const m = r.i64(`${what} rows`);
    const n = r.i64(`${what} columns`);
    const codesize = r.i32(`${what} codesize`);
    if (codesize < 0 || codesize > r.remaining) throw new FastTextFormatError(`${r.source}: truncated or not a fastText model: ${what} has ${codesize} codes`);
    const codes = r.u8s(codesize, `${what} codes`);
    const pq = ProductQuantizer.read(r);
    if (pq.dim !== n || codesize !== m * pq.nsubq) {
      throw new FastTextFormatError(`${r.source}: not a fastText model: ${what} is ${m} × ${n} with ${codesize} codes, its quantizer has dim ${pq.dim} and ${pq.nsubq} sub-quantizers`);
    }
    let normCodes: Uint8Array | undefined;
    let npq: ProductQuantizer | undefined;
    if (qnorm) {
      normCodes = r.u8s(m, `${what} norm codes`);
      npq = ProductQuantizer.read(r);
    }
    return new QuantMatrix(qnorm, m, n, codes, pq, normCodes, npq);
  }

  write(w: ByteWriter): void {
    w.bool(this.qnorm);
    w.i64(this.rows);
    w.i64(this.cols);
    w.i32(this.codes.length);
    w.bytes(this.codes);
    this.pq.write(w);
    if (this.qnorm) {
      w.bytes(this.normCodes!);
      this.npq!.write(w);
    }
  }

  private norm(i: number): number {
    return this.qnorm ? this.npq!.centroids[this.npq!.centroid(0, this.normCodes![i]!)]! : 1;
  }

  addRowTo(x: Float32Array, i: number): void {
    const alpha = this.norm(i);
    const { nsubq, dsub, lastdsub, centroids } = this.pq;
    const code = i * nsubq;
    for (let m = 0; m < nsubq; m++) {
      const c = this.pq.centroid(m, this.codes[code + m]!);
      const d = m === nsubq - 1 ? lastdsub : dsub;
      const o = m * dsub;
      for (let k = 0; k < d; k++) x[o + k] += fround(alpha * centroids[c + k]!);
    }
  }

  mulVec(x: Float32Array, out: Float32Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.dotRow(x, i);
  }

  dotRow(x: Float32Array, i: number): number {
    const alpha = this.norm(i);
    const { nsubq, dsub, lastdsub, centroids } = this.pq;
    const code = i * nsubq;
    let s = 0;
    for (let m = 0; m < nsubq; m++) {
      const c = this.pq.centroid(m, this.codes[code + m]!);
      const d = m === nsubq - 1 ? lastdsub : dsub;
      const o = m * dsub;
      for (let k = 0; k < d; k++) s = fround(s + fround(x[o + k]! * centroids[c + k]!));
    }
    return fround(s * alpha);
  }
}
