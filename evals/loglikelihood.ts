/**
 * Log-likelihood requests against a `TokenScorer`, with lm-evaluation-harness's semantics
 * (`HFLM._encode_pair` and `_loglikelihood_tokens`), so per-item numbers are comparable:
 * trailing whitespace of the context moves to the continuation, the continuation's tokens are
 * those of `encode(context + continuation)` past `encode(context)`, an empty context is the EOT
 * token, and the sequence is cut from the left to `maxContext + 1` tokens.
 */
import type { TokenScorer } from './scorer.ts';

/** `log P(continuation | context)`. */
export interface LlRequest {
  context: string;
  continuation: string;
  /** Also decide whether the continuation is the greedy decode (default false; cloze items). */
  greedy?: boolean;
}

export interface LlResult {
  /** Sum of the continuation tokens' natural-log probabilities. */
  ll: number;
  /** Whether every continuation token is the model's argmax (`undefined` unless the request asked and the scorer has `logprobsWithArgmax`). */
  greedy: boolean | undefined;
  /** Continuation length in tokens. */
  tokens: number;
}

/** Splits a request into context and continuation tokens, as lm-evaluation-harness does. */
export function encodePair(scorer: TokenScorer, context: string, continuation: string): { context: number[]; continuation: number[] } {
  if (context === '') return { context: [scorer.eotToken], continuation: scorer.encode(continuation) };
  const trimmed = context.replace(/\s+$/u, '');
  const nSpaces = context.length - trimmed.length;
  if (nSpaces > 0) {
    continuation = context.slice(trimmed.length) + continuation;
    context = trimmed;
  }
  const whole = scorer.encode(context + continuation);
  const ctx = scorer.encode(context);
  return { context: ctx, continuation: whole.slice(ctx.length) };
}

/**
 * The windows that score tokens `first..all.length-1` of `all` with a model of context
 * `maxContext`: one window when they fit (lm-evaluation-harness's left truncation), else
 * consecutive windows of up to `maxContext` predictions, each conditioned on the `maxContext`
 * tokens before it (the rolling-window rule the harness uses for perplexity). The harness itself
 * refuses a continuation longer than the context; scoring it in windows keeps such items (long
 * PIQA solutions against a 128-token model) instead of failing the whole benchmark.
 */
export function scoringWindows(all: number[], first: number, maxContext: number): Array<{ seq: number[]; predict: number }> {
  const out: Array<{ seq: number[]; predict: number }> = [];
  for (let p = first; p < all.length; ) {
    const end = Math.min(all.length, p + maxContext);
    out.push({ seq: all.slice(Math.max(0, end - maxContext - 1), end), predict: end - p });
    p = end;
  }
  return out;
}

/**
 * Scores requests in batches of `batchSize` sequences (default 16). A continuation longer than
 * the model's context is scored in consecutive windows (see `scoringWindows`).
 */
export async function loglikelihoods(scorer: TokenScorer, reqs: LlRequest[], batchSize = 16): Promise<LlResult[]> {
  const windows: Array<{ req: number; seq: number[]; predict: number; cont: number[]; offset: number }> = [];
  const withArgmax = scorer.logprobsWithArgmax?.bind(scorer);
  const out: LlResult[] = reqs.map((r) => ({ ll: 0, greedy: r.greedy && withArgmax ? true : undefined, tokens: 0 }));
  reqs.forEach((r, i) => {
    const { context, continuation } = encodePair(scorer, r.context, r.continuation);
    if (continuation.length === 0) throw new Error(`loglikelihood: the continuation ${JSON.stringify(r.continuation)} encodes to no tokens`);
    out[i]!.tokens = continuation.length;
    const all = [...context, ...continuation];
    let offset = 0;
    for (const w of scoringWindows(all, context.length, scorer.maxContext)) {
      windows.push({ req: i, seq: w.seq, predict: w.predict, cont: continuation, offset });
      offset += w.predict;
    }
  });
  for (let b = 0; b < windows.length; b += batchSize) {
    const batch = windows.slice(b, b + batchSize);
    const seqs = batch.map((w) => w.seq);
    // Only the continuation's positions are scored (the scorer may skip the others' vocabulary projection).
    const tail = batch.map((w) => w.predict);
    // The argmax over the vocabulary costs extra: only for batches with a greedy request.
    const both = withArgmax && batch.some((w) => out[w.req]!.greedy !== undefined) ? await withArgmax(seqs, tail) : undefined;
    const lps = both ? both.logprobs : await scorer.logprobs(seqs, tail);
    batch.forEach((w, k) => {
      const lp = lps[k]!;
      if (lp.length !== w.predict) throw new Error(`scorer: logprobs returned ${lp.length} values for the last ${w.predict} tokens of a sequence of ${w.seq.length}`);
      const r = out[w.req]!;
      const arg = r.greedy !== undefined ? both!.argmax[k]! : undefined;
      if (arg && arg.length !== lp.length) throw new Error(`scorer: argmax returned ${arg.length} values for the last ${w.predict} tokens of a sequence of ${w.seq.length}`);
      for (let j = 0; j < w.predict; j++) {
        r.ll += lp[j]!;
        if (arg && arg[j] !== w.cont[w.offset + j]) r.greedy = false;
      }
    });
  }
  return out;
}
