/**
 * Perplexity over text with lm-evaluation-harness's `loglikelihood_rolling`: each document is
 * tokenized whole and cut into disjoint windows of at most `maxContext` predicted tokens; the
 * first window starts from the EOT token, later ones are conditioned on the tokens before them
 * (`get_rolling_token_windows` with `context_len = 1`, then `make_disjoint_window`).
 *
 * Corpus-weighted metrics over documents (as lm-evaluation-harness's wikitext task):
 * `word_perplexity = exp(−Σll / Σwords)` (words = `re.split(r"\s+", doc)` pieces),
 * `byte_perplexity = exp(−Σll / Σbytes)`, `bits_per_byte = −Σll / (Σbytes · ln 2)` (UTF-8 bytes),
 * each with a seeded bootstrap standard error over documents. And `heldOutLoss`: the mean
 * per-token loss on already-tokenized held-out data (the shard split), in context-sized chunks.
 */
import type { TokenScorer } from './scorer.ts';
import { bootstrapStderr, type Estimate } from './stats.ts';

/** One rolling window: the sequence to score and how many of its last tokens are predicted. */
export interface RollingWindow {
  /** Tokens, at most `maxContext + 1`; the scorer's log-probs of the last `predict` are summed. */
  tokens: number[];
  predict: number;
}

/** lm-evaluation-harness's disjoint rolling windows of a token list (context_len = 1). */
export function rollingWindows(tokens: ArrayLike<number>, eot: number, maxContext: number): RollingWindow[] {
  if (!Number.isInteger(maxContext) || maxContext < 1) throw new Error(`rollingWindows: maxContext must be a positive integer, got ${maxContext}`);
  const n = tokens.length;
  const out: RollingWindow[] = [];
  if (n === 0) return out;
  const list = Array.from(tokens);
  const first = Math.min(maxContext, n);
  out.push({ tokens: [eot, ...list.slice(0, first)], predict: first });
  let predicted = first;
  while (predicted < n) {
    const k = Math.min(n - predicted, maxContext);
    const end = predicted + k;
    // Input tokens[end − maxContext − 1 : end − 1] plus the last target: tokens[end − maxContext − 1 : end].
    out.push({ tokens: list.slice(Math.max(0, end - maxContext - 1), end), predict: k });
    predicted = end;
  }
  return out;
}

/** Words as lm-evaluation-harness counts them: `len(re.split(r"\s+", doc))`. */
export function countWords(text: string): number {
  return text.split(/\s+/u).length;
}

export interface PerplexityOptions {
  /** Windows per scorer call (default 8). */
  batchSize?: number;
  /** Bootstrap resamples for the standard errors (default 1000). */
  bootstrapIters?: number;
  /** Progress callback: documents done. */
  onProgress?: (docs: number) => void;
}

export interface PerplexityResult {
  docs: number;
  tokens: number;
  words: number;
  bytes: number;
  /** Σ ll (natural log). */
  loglikelihood: number;
  word_perplexity: Estimate;
  byte_perplexity: Estimate;
  bits_per_byte: Estimate;
  /** Per-document (ll, words, bytes), for subsets (e.g. clean documents). */
  perDoc: Array<{ ll: number; words: number; bytes: number; tokens: number }>;
}

/** Log-likelihood of a whole document via rolling windows. */
export async function rollingLoglikelihood(scorer: TokenScorer, text: string, batchSize = 8): Promise<{ ll: number; tokens: number }> {
  const toks = scorer.encode(text);
  const wins = rollingWindows(toks, scorer.eotToken, scorer.maxContext);
  let ll = 0;
  for (let b = 0; b < wins.length; b += batchSize) {
    const batch = wins.slice(b, b + batchSize);
    const lps = await scorer.logprobs(
      batch.map((w) => w.tokens),
      batch.map((w) => w.predict),
    );
    batch.forEach((w, i) => {
      const lp = lps[i]!;
      if (lp.length !== w.predict) throw new Error(`scorer: logprobs returned ${lp.length} values for the last ${w.predict} tokens of a sequence of ${w.tokens.length}`);
      for (let j = 0; j < lp.length; j++) ll += lp[j]!;
    });
  }
  return { ll, tokens: toks.length };
}

/** Corpus-weighted perplexities of a stream of documents. */
export async function perplexity(scorer: TokenScorer, texts: Iterable<string> | AsyncIterable<string>, opts: PerplexityOptions = {}): Promise<PerplexityResult> {
  const perDoc: PerplexityResult['perDoc'] = [];
  for await (const text of texts as AsyncIterable<string>) {
    const { ll, tokens } = await rollingLoglikelihood(scorer, text, opts.batchSize ?? 8);
    perDoc.push({ ll, words: countWords(text), bytes: Buffer.byteLength(text, 'utf8'), tokens });
    opts.onProgress?.(perDoc.length);
  }
  return summarize(perDoc, opts.bootstrapIters ?? 1000);
}

/** The corpus-weighted metrics of per-document figures (a subset, for clean-only scores). */
export function summarize(perDoc: PerplexityResult['perDoc'], bootstrapIters = 1000): PerplexityResult {
  const sum = (f: (d: PerplexityResult['perDoc'][number]) => number, idx?: Int32Array) => {
    let s = 0;
    if (idx) for (const i of idx) s += f(perDoc[i]!);
    else for (const d of perDoc) s += f(d);
    return s;
  };
  const ll = sum((d) => d.ll), words = sum((d) => d.words), bytes = sum((d) => d.bytes);
  const n = perDoc.length;
  const boot = (fn: (idx: Int32Array) => number) => bootstrapStderr(n, fn, bootstrapIters);
  return {
    docs: n,
    tokens: sum((d) => d.tokens),
    words,
    bytes,
    loglikelihood: ll,
    word_perplexity: { value: Math.exp(-ll / words), stderr: boot((idx) => Math.exp(-sum((d) => d.ll, idx) / sum((d) => d.words, idx))) },
    byte_perplexity: { value: Math.exp(-ll / bytes), stderr: boot((idx) => Math.exp(-sum((d) => d.ll, idx) / sum((d) => d.bytes, idx))) },
    bits_per_byte: { value: -ll / (bytes * Math.LN2), stderr: boot((idx) => -sum((d) => d.ll, idx) / (sum((d) => d.bytes, idx) * Math.LN2)) },
    perDoc,
  };
}

export interface HeldOutResult {
  /** Mean per-token negative log-likelihood (nats), as the trainer's validation loss. */
  loss: number;
  /** Tokens predicted. */
  tokens: number;
  /** exp(loss). */
  perplexity: number;
}

/**
 * Mean loss on already-tokenized held-out data: the token stream (documents concatenated as the
 * shards store them) is cut into chunks of `maxContext + 1` tokens, each scored independently;
 * every token after a chunk's first is predicted once. `maxTokens` (default 1,000,000) bounds
 * the work.
 */
export async function heldOutLoss(scorer: TokenScorer, stream: Iterable<ArrayLike<number>> | AsyncIterable<ArrayLike<number>>, opts: { maxTokens?: number; batchSize?: number } = {}): Promise<HeldOutResult> {
  const size = scorer.maxContext + 1;
  const maxTokens = opts.maxTokens ?? 1_000_000;
  const bs = opts.batchSize ?? 8;
  let cur: number[] = [];
  let batch: number[][] = [];
  let nll = 0, count = 0, seen = 0;
  const flush = async () => {
    if (!batch.length) return;
    const lps = await scorer.logprobs(batch);
    for (const lp of lps) for (let j = 0; j < lp.length; j++) nll -= lp[j]!;
    for (const s of batch) count += s.length - 1;
    batch = [];
  };
  outer: for await (const chunk of stream as AsyncIterable<ArrayLike<number>>) {
    for (let i = 0; i < chunk.length; i++) {
      cur.push(chunk[i]!);
      if (cur.length === size) {
        batch.push(cur);
        cur = [];
        seen += size;
        if (batch.length === bs) await flush();
        if (seen >= maxTokens) break outer;
      }
    }
  }
  if (cur.length > 1 && seen < maxTokens) batch.push(cur);
  await flush();
  if (count === 0) throw new Error('heldOutLoss: the held-out data has fewer than 2 tokens');
  return { loss: nll / count, tokens: count, perplexity: Math.exp(nll / count) };
}
