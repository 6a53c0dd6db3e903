/**
 * Next-token choice from a logits row, as Hugging Face's `generate` and vLLM order it:
 * temperature, then top-k, then top-p (nucleus, over the top-k renormalised), then one draw from
 * a seeded PRNG (mulberry32, engine/random.ts). Temperature 0 is greedy (argmax, the lowest id on
 * a tie), which draws nothing. Log-probabilities reported back are the model's own (raw
 * log-softmax of the logits, before temperature and filtering), as vLLM reports by default and as
 * the OpenAI API documents them.
 */

/** How the next token is chosen. */
export interface SamplingOptions {
  /** Softmax temperature; 0 = greedy (default 1, OpenAI's). */
  temperature?: number;
  /** Keep only the `topK` most likely tokens (default 0 = off). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches `topP` (default 1 = off). */
  topP?: number;
}

/** A token and its log-probability. */
export interface TokenLogprob {
  token: number;
  logprob: number;
}

/** Throws naming the option when a sampling option is out of range. */
export function checkSampling(o: SamplingOptions, where = 'generate'): Required<SamplingOptions> {
  const temperature = o.temperature ?? 1;
  const topK = o.topK ?? 0;
  const topP = o.topP ?? 1;
  if (!Number.isFinite(temperature) || temperature < 0) throw new Error(`${where}: temperature must be a number ≥ 0 (got ${temperature})`);
  if (!Number.isInteger(topK) || topK < 0) throw new Error(`${where}: topK must be an integer ≥ 0 (got ${topK})`);
  if (!Number.isFinite(topP) || topP <= 0 || topP > 1) throw new Error(`${where}: topP must be in (0, 1] (got ${topP})`);
  return { temperature, topK, topP };
}

/** Index of the largest value (the first on a tie). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

/** log Σ exp(logits), computed stably in float64. */
export function logSumExp(logits: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > m) m = logits[i]!;
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i]! - m);
  return m + Math.log(s);
}

/**
 * The `n` largest entries of `logits` as log-probabilities, most likely first (ties: lower id
 * first). `lse` is `logSumExp(logits)`. A size-n insertion list: O(V·n), n ≤ 20 in the API.
 */
export function topLogprobs(logits: ArrayLike<number>, n: number, lse = logSumExp(logits)): TokenLogprob[] {
  if (n <= 0) return [];
  const ids: number[] = [];
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (ids.length === n && v <= logits[ids[n - 1]!]!) continue;
    let j = ids.length === n ? n - 1 : ids.length;
    while (j > 0 && logits[ids[j - 1]!]! < v) {
      ids[j] = ids[j - 1]!;
      j--;
    }
    ids[j] = i;
  }
  return ids.map((token) => ({ token, logprob: logits[token]! - lse }));
}

/**
 * Chooses the next token from `logits` with `o` (validated by {@link checkSampling}) and the
 * uniform draw `rand` (called once unless greedy).
 */
export function sampleToken(logits: ArrayLike<number>, o: Required<SamplingOptions>, rand: () => number): number {
  const V = logits.length;
  if (o.temperature === 0 || o.topK === 1) return argmax(logits);
  // Candidates, most likely first: all of them, or the top k.
  let ids: number[];
  if (o.topK > 0 && o.topK < V) ids = topLogprobs(logits, o.topK, 0).map((t) => t.token);
  else if (o.topP < 1) ids = Array.from({ length: V }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
  else ids = Array.from({ length: V }, (_, i) => i);
  const t = o.temperature;
  let m = -Infinity;
  for (const i of ids) if (logits[i]! / t > m) m = logits[i]! / t;
  const p = ids.map((i) => Math.exp(logits[i]! / t - m));
  let total = p.reduce((a, b) => a + b, 0);
  let keep = ids.length;
  if (o.topP < 1) {
    // The smallest prefix (in probability order) whose mass reaches topP; at least one token.
    let c = 0;
    for (let j = 0; j < ids.length; j++) {
      c += p[j]!;
      if (c >= o.topP * total) {
        keep = j + 1;
        break;
      }
    }
    total = p.slice(0, keep).reduce((a, b) => a + b, 0);
  }
  let r = rand() * total;
  for (let j = 0; j < keep; j++) {
    r -= p[j]!;
    if (r < 0) return ids[j]!;
  }
  return ids[keep - 1]!;
}
