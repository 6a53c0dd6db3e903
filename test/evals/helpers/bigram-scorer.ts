/**
 * A real, deterministic language model for eval tests: a byte bigram model with add-one
 * smoothing, trained by counting. Its log-probabilities are computable by hand
 * (`lp(a, b) = ln((count(a,b) + 1) / (count(a) + 257))`), so metrics can be asserted exactly.
 */
import type { TokenScorer } from '../../../evals/scorer.ts';

export class BigramScorer implements TokenScorer {
  readonly eotToken = 256;
  readonly vocab = 257;
  readonly counts = new Float64Array(257 * 257);
  readonly totals = new Float64Array(257);
  calls = 0;
  /** Calls of `logprobsWithArgmax` (the eval asks only for cloze items). */
  argmaxCalls = 0;

  constructor(
    train: string,
    readonly maxContext = 16,
  ) {
    let prev = this.eotToken;
    for (const b of Buffer.from(train, 'utf8')) {
      this.counts[prev * 257 + b]!++;
      this.totals[prev]!++;
      prev = b;
    }
  }

  encode(text: string): number[] {
    return [...Buffer.from(text, 'utf8')];
  }

  lp(a: number, b: number): number {
    return Math.log((this.counts[a * 257 + b]! + 1) / (this.totals[a]! + 257));
  }

  /** Direct log-likelihood of `next` bytes after the byte `prevByte` (or EOT). */
  llOf(prev: number, next: number[]): number {
    let s = 0;
    for (const t of next) {
      s += this.lp(prev, t);
      prev = t;
    }
    return s;
  }

  async logprobs(batch: number[][], tail?: number[]): Promise<Float64Array[]> {
    this.calls++;
    return batch.map((seq, i) => {
      if (seq.length > this.maxContext + 1) throw new Error(`sequence of ${seq.length} > maxContext + 1`);
      const out = new Float64Array(seq.length - 1);
      for (let j = 0; j + 1 < seq.length; j++) out[j] = this.lp(seq[j]!, seq[j + 1]!);
      return tail ? out.slice(out.length - tail[i]!) : out;
    });
  }

  async logprobsWithArgmax(batch: number[][], tail?: number[]): Promise<{ logprobs: Float64Array[]; argmax: Int32Array[] }> {
    this.argmaxCalls++;
    return { logprobs: await this.logprobs(batch, tail), argmax: this.argmax(batch).map((a, i) => (tail ? a.slice(a.length - tail[i]!) : a)) };
  }

  /** The most likely next byte after each position. */
  argmax(batch: number[][]): Int32Array[] {
    return batch.map((seq) => {
      const out = new Int32Array(seq.length - 1);
      for (let j = 0; j + 1 < seq.length; j++) {
        const a = seq[j]!;
        let best = 0;
        for (let t = 1; t < 257; t++) if (this.counts[a * 257 + t]! > this.counts[a * 257 + best]!) best = t;
        out[j] = best;
      }
      return out;
    });
  }

  async close(): Promise<void> {}
}
