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
 * The nucleus of `p` (unnormalised probabilities of the tokens `ids`): the shortest prefix, in
 * order of probability (descending, lower id first on a tie), whose mass reaches `need`. Expected
 * O(n) by repeated partitioning around a pivot, then only the nucleus is sorted: sorting all of a
 * 50k vocabulary every token cost 47 ms a token (measured), this a few.
 */
function nucleus(ids: Int32Array, p: Float64Array, need: number): number[] {
  const out: number[] = [];
  let got = 0;
  let cur = ids;
  while (cur.length) {
    const pivot = p[cur[cur.length >> 1]!]!;
    const above: number[] = [];
    const equal: number[] = [];
    const below: number[] = [];
    let massAbove = 0;
    for (const i of cur) {
      const v = p[i]!;
      if (v > pivot) {
        above.push(i);
        massAbove += v;
      } else if (v === pivot) equal.push(i);
      else below.push(i);
    }
    if (got + massAbove >= need && above.length) {
      cur = Int32Array.from(above);
      continue;
    }
    out.push(...above);
    got += massAbove;
    equal.sort((a, b) => a - b);
    for (const i of equal) {
      out.push(i);
      got += p[i]!;
      if (got >= need) return sortByProb(out, p);
    }
    cur = Int32Array.from(below);
  }
  return sortByProb(out, p);
}

const sortByProb = (ids: number[], p: Float64Array) => ids.sort((a, b) => p[b]! - p[a]! || a - b);

/**
 * Chooses the next token from `logits` with `o` (validated by {@link checkSampling}) and the
 * uniform draw `rand` (called once unless greedy). The draw walks the kept tokens in id order
 * without filters, in order of probability with top-k or top-p.
 */
export function sampleToken(logits: ArrayLike<number>, o: Required<SamplingOptions>, rand: () => number): number {
  const V = logits.length;
  if (o.temperature === 0 || o.topK === 1) return argmax(logits);
  const t = o.temperature;
  let ids: Int32Array;
  if (o.topK > 0 && o.topK < V) ids = Int32Array.from(topLogprobs(logits, o.topK, 0), (x) => x.token);
  else {
    ids = new Int32Array(V);
    for (let i = 0; i < V; i++) ids[i] = i;
  }
  let m = -Infinity;
  for (let j = 0; j < ids.length; j++) if (logits[ids[j]!]! > m) m = logits[ids[j]!]!;
  const p = new Float64Array(V);
  let total = 0;
  for (let j = 0; j < ids.length; j++) {
    const i = ids[j]!;
    total += p[i] = Math.exp((logits[i]! - m) / t);
  }
  let order: ArrayLike<number> = ids;
  if (o.topP < 1) {
    const kept = nucleus(ids, p, o.topP * total);
    total = 0;
    for (const i of kept) total += p[i]!;
    order = kept;
  }
  let r = rand() * total;
  for (let j = 0; j < order.length; j++) {
    r -= p[order[j]!]!;
    if (r < 0) return order[j]!;
  }
  return order[order.length - 1]!;
}
