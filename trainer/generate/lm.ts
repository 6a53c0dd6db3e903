/**
 * What generation needs of a backend: next-token logits after a token sequence, with or without
 * a key/value cache. Both backends implement {@link DecodeBackend} (tfjs in-process:
 * trainer/tfjs/decode.ts; torch through a subprocess: trainer/torch/decoder.ts);
 * {@link DecodeSession} adds the context window on top, the same for both.
 */

/** One backend's forward passes for one decoding session (batch 1). */
export interface DecodeBackend {
  readonly vocabSize: number;
  readonly contextLength: number;
  /**
   * Logits of the position after the last of `tokens`. With `cache`, `tokens` extend the
   * session's key/value cache (positions `cached … cached + n − 1`); without, `tokens` are the
   * whole sequence and nothing is kept. `reset` empties the cache first.
   */
  forward(tokens: number[], opts: { cache: boolean; reset: boolean }): Promise<Float32Array>;
  /** Frees the session's cache. */
  close(): Promise<void>;
}

/** One prompt position's score: its token's log-probability and the most likely alternatives. */
export interface PromptTokenScore {
  logprob: number;
  top: Array<{ token: number; logprob: number }>;
}

/** A model that opens decoding sessions. */
export interface DecodeModel {
  readonly backend: 'tfjs' | 'torch';
  readonly vocabSize: number;
  readonly contextLength: number;
  /** A fresh session (its own cache). */
  session(): DecodeBackend;
  /**
   * Log-probabilities of each token of `tokens` after the first given those before it (one
   * forward; at most `contextLength` tokens), each with the `topN` most likely alternatives:
   * what a completions request with `echo` reports for its prompt.
   */
  scorePrompt(tokens: number[], topN: number): Promise<PromptTokenScore[]>;
  /** Releases the model (tensors, subprocess). */
  close(): Promise<void>;
}

/**
 * A decoding session over a sliding window: the model always sees the last `contextLength`
 * tokens. With the cache, tokens are appended to it until the window is full; past that point
 * every step re-reads the last `contextLength` tokens (learned positions cannot shift a cache), so
 * cached and uncached decoding compute the same thing at every step.
 */
export class DecodeSession {
  private readonly all: number[] = [];
  private cached = 0;

  constructor(
    private readonly b: DecodeBackend,
    readonly useCache: boolean,
  ) {}

  /** Appends `tokens` and returns the next-token logits. */
  async feed(tokens: number[]): Promise<Float32Array> {
    if (tokens.length === 0 && this.all.length === 0) throw new Error('generate: nothing to condition on (empty prompt)');
    this.all.push(...tokens);
    const ctx = this.b.contextLength;
    if (!this.useCache) return this.b.forward(this.all.slice(-ctx), { cache: false, reset: false });
    if (this.all.length <= ctx && this.cached + tokens.length === this.all.length && this.cached > 0) {
      this.cached = this.all.length;
      return this.b.forward(tokens, { cache: true, reset: false });
    }
    const window = this.all.slice(-ctx);
    this.cached = window.length;
    return this.b.forward(window, { cache: true, reset: true });
  }

  /** Tokens fed so far. */
  get length(): number {
    return this.all.length;
  }

  close(): Promise<void> {
    return this.b.close();
  }
}
