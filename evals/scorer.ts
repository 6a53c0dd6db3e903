/**
 * What the eval stage needs from a trained model: its tokenizer and per-token log-probabilities.
 * The trainer's tfjs model implements it in-process; the torch backend through its subprocess.
 */
export interface TokenScorer {
  /** Tokenizes text exactly as the model was trained (no special tokens added). */
  encode(text: string): number[];
  /** The end-of-text token id, used as the first token of every rolling window. */
  eotToken: number;
  /** The model's context length in tokens. */
  maxContext: number;
  /**
   * For each token sequence (each at most `maxContext + 1` long), the natural-log probability
   * of every token after the first given all before it: `out[i][j] = log P(seq[j+1] | seq[0..j])`.
   * With `tail`, only the last `tail[i]` of those values (`0 ≤ tail[i] ≤ seq.length − 1`): a
   * log-likelihood request needs its continuation's tokens only, and a scorer may then skip the
   * vocabulary projection at every other position.
   */
  logprobs(batch: number[][], tail?: number[]): Promise<Float64Array[]>;
  /**
   * Optional: `logprobs` plus, from the same forward pass, the model's most likely next token at
   * every position, `argmax[i][j] = argmax_t P(t | seq[0..j])` (same shapes as `logprobs`, `tail` as there). The
   * eval asks for it only where it needs lm-evaluation-harness's `is_greedy` (LAMBADA
   * accuracy); a scorer without it leaves that metric out.
   */
  logprobsWithArgmax?(batch: number[][], tail?: number[]): Promise<{ logprobs: Float64Array[]; argmax: Int32Array[] }>;
  /** Releases the model (tensors, subprocess). */
  close(): Promise<void>;
}
