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
}

export interface LlResult {
  /** Sum of the continuation tokens' natural-log probabilities. */
  ll: number;
  /** Whether every continuation token is the model's argmax (`undefined` when the scorer has no `argmax`). */
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
 * Scores requests in batches of `batchSize` (default 16). Errors name the request whose
 * continuation alone does not fit the model's context.
 */
export async function loglikelihoods(scorer: TokenScorer, reqs: LlRequest[], batchSize = 16): Promise<LlResult[]> {
  const out: LlResult[] = new Array(reqs.length);
  for (let b = 0; b < reqs.length; b += batchSize) {
    const seqs: number[][] = [];
    const conts: number[][] = [];
    for (let i = b; i < Math.min(reqs.length, b + batchSize); i++) {
      const r = reqs[i]!;
      const { context, continuation } = encodePair(scorer, r.context, r.continuation);
      if (continuation.length === 0) throw new Error(`loglikelihood: the continuation ${JSON.stringify(r.continuation)} encodes to no tokens`);
      if (continuation.length > scorer.maxContext) throw new Error(`loglikelihood: the continuation ${JSON.stringify(r.continuation.slice(0, 60))} is ${continuation.length} tokens, longer than the model's context (${scorer.maxContext})`);
      seqs.push([...context, ...continuation].slice(-(scorer.maxContext + 1)));
      conts.push(continuation);
    }
    const lps = await scorer.logprobs(seqs);
    const arg = scorer.argmax ? await scorer.argmax(seqs) : undefined;
    for (let k = 0; k < seqs.length; k++) {
      const lp = lps[k]!, cont = conts[k]!, seq = seqs[k]!;
      if (lp.length !== seq.length - 1) throw new Error(`scorer: logprobs returned ${lp.length} values for a sequence of ${seq.length} tokens (expected ${seq.length - 1})`);
      let ll = 0;
      let greedy: boolean | undefined = arg ? true : undefined;
      for (let j = 0; j < cont.length; j++) {
        const pos = lp.length - cont.length + j;
        ll += lp[pos]!;
        if (arg && arg[k]![pos] !== cont[j]) greedy = false;
      }
      out[b + k] = { ll, greedy, tokens: cont.length };
    }
  }
  return out;
}
