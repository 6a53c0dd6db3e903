/**
 * Multiple-choice and cloze scoring with lm-evaluation-harness's definitions:
 * - choice items: `ll_i = log P(" " + choice_i | context)`; `acc` = [argmax ll = gold];
 *   `acc_norm` = [argmax ll_i / len(choice_i) = gold], len in characters (code points) of the
 *   choice without the delimiter.
 * - partial items (Winogrande): `ll_i = log P(" " + continuation | contexts[i])`; `acc` only.
 * - cloze items (LAMBADA): `ll = log P(" " + continuation | context)`; `perplexity` =
 *   exp(−mean ll) over items and `acc` = greedy match (needs the scorer's `logprobsWithArgmax`).
 *
 * Two prompt methods for choice items, reported side by side because harnesses disagree
 * (MMLU by letter vs by answer text gives different numbers):
 * - `text`: the loader's prompt (`query`), choices scored as their full text.
 * - `letter`: lm-evaluation-harness's MMLU prompt, `"<question>\nA. …\nB. …\nAnswer:"`, choices
 *   scored as the letters `" A"`, `" B"`, … (headed by "The following are multiple choice
 *   questions (with answers) about <subject>." when the item has a subject).
 *
 * MMLU-style benchmarks (items with a subject) report two averages, because harnesses differ
 * (lm-evaluation-harness #1525): `acc`/`acc_norm` over items (every question weighs the same;
 * lm-eval's group default since 0.4.2, `weight_by_size`) and `acc_subject_avg`/
 * `acc_norm_subject_avg`, the mean of per-subject accuracies (every subject weighs the same).
 * `average: 'subject'` makes the latter the primary metric (the summary's and the
 * contamination table's); both are always in `metrics`.
 *
 * k-shot: k examples drawn with a seeded PRNG (per item: `seed + index`, so results do not depend
 * on order or batching) from the few-shot pool (default: the benchmark without the item),
 * each rendered with its gold answer, joined by a blank line before the item.
 */
import type { Benchmark, ChoiceItem, EvalItem } from '../formats/benchmarks.ts';
import { choiceLetter } from '../operators/read/benchmarks.ts';
import { loglikelihoods, type LlRequest } from './loglikelihood.ts';
import type { TokenScorer } from './scorer.ts';
import { bootstrapStderr, mean, meanStderr, sampleShots, type Estimate } from './stats.ts';

/** How choice items are prompted and scored. */
export type ChoiceMethod = 'text' | 'letter';

export interface McOptions {
  /** Prompt method for choice items (default `text`). */
  method?: ChoiceMethod;
  /** Number of few-shot examples (default 0). */
  fewshot?: number;
  /** Few-shot sampling seed (default 1234, lm-evaluation-harness's). */
  seed?: number;
  /** Few-shot pool (default: the benchmark's own items, never the item itself). */
  fewshotPool?: EvalItem[];
  /** Score only the first `limit` items. */
  limit?: number;
  /** Primary average of subject-tagged (MMLU) items: `item` (default) or `subject`; both are reported. */
  average?: 'item' | 'subject';
  /** Requests per scorer call (default 16). */
  batchSize?: number;
  /** Bootstrap resamples for non-mean metrics (default 1000). */
  bootstrapIters?: number;
  /** Progress callback: items scored so far. */
  onProgress?: (done: number, total: number) => void;
}

/** One item's outcome. */
export interface ItemScore {
  id: string;
  index: number;
  /** Per-choice log-likelihoods (one value for cloze items). */
  lls: number[];
  gold: number;
  pred: number;
  /** 1 when `pred` is gold (cloze: when the continuation is the greedy decode; NaN without `logprobsWithArgmax`). */
  acc: number;
  /** Choice items only: the length-normalised prediction's correctness. */
  accNorm?: number;
  /** The item's subject (MMLU), for the per-subject average. */
  subject?: string;
}

export interface McResult {
  benchmark: string;
  /** The scoring method, named in every table: `text`, `letter`, `partial`, `cloze`. */
  method: string;
  fewshot: number;
  n: number;
  /** Which average is primary for subject-tagged items (see the module comment). */
  average?: 'item' | 'subject';
  metrics: Record<string, Estimate>;
  items: ItemScore[];
}

const argmax = (xs: number[]) => xs.reduce((best, x, i) => (x > xs[best]! ? i : best), 0);
const codePoints = (s: string) => [...s].length;

function letterPrompt(item: ChoiceItem): string {
  const opts = item.choices.map((c, i) => `${choiceLetter(i)}. ${c}`).join('\n');
  return `${item.question.trim()}\n${opts}\nAnswer:`;
}

function description(item: EvalItem, method: ChoiceMethod): string {
  if (method !== 'letter' || item.kind !== 'choice' || !item.subject) return '';
  return `The following are multiple choice questions (with answers) about ${item.subject.replace(/_/g, ' ')}.\n\n`;
}

/** The context and the (undelimited) candidate continuations of an item under a method. */
function requestParts(item: EvalItem, method: ChoiceMethod): { contexts: string[]; continuations: string[]; gold: number } {
  switch (item.kind) {
    case 'choice':
      if (method === 'letter') return { contexts: [letterPrompt(item)], continuations: item.choices.map((_, i) => choiceLetter(i)), gold: item.gold };
      return { contexts: [item.query], continuations: item.choices, gold: item.gold };
    case 'partial':
      return { contexts: item.contexts, continuations: [item.continuation], gold: item.gold };
    case 'cloze':
      return { contexts: [item.context], continuations: [item.continuation], gold: 0 };
    default: {
      const never: never = item;
      throw new Error(`unknown item ${JSON.stringify(never)}`);
    }
  }
}

/** An item rendered as a solved few-shot example. */
function solved(item: EvalItem, method: ChoiceMethod): string {
  const { contexts, continuations, gold } = requestParts(item, method);
  if (item.kind === 'partial') return `${contexts[gold]} ${continuations[0]}`;
  return `${contexts[0]} ${continuations[item.kind === 'cloze' ? 0 : gold]}`;
}

/** The few-shot prefix of an item (empty for 0-shot). */
export function fewshotPrefix(item: EvalItem, pool: EvalItem[], k: number, seed: number, method: ChoiceMethod): string {
  if (k <= 0) return '';
  const shots = sampleShots(pool.filter((p) => p.id !== item.id || p.benchmark !== item.benchmark), k, seed, item.index, item.id);
  return shots.map((s) => solved(s, method)).join('\n\n') + '\n\n';
}

/** Scores a benchmark's items with a model; see the module comment for the definitions. */
export async function scoreBenchmark(scorer: TokenScorer, bench: Benchmark, opts: McOptions = {}): Promise<McResult> {
  const method = opts.method ?? 'text';
  const k = opts.fewshot ?? 0;
  const seed = opts.seed ?? 1234;
  const items = opts.limit !== undefined ? bench.items.slice(0, opts.limit) : bench.items;
  const pool = opts.fewshotPool ?? bench.items;
  const kinds = new Set(items.map((i) => i.kind));
  if (kinds.size > 1) throw new Error(`benchmark ${bench.name}: mixes item kinds ${[...kinds].join(', ')}; score them separately`);
  const kind = items[0]?.kind ?? 'choice';
  const methodName = kind === 'choice' ? method : kind;
  const scores: ItemScore[] = [];
  const chunk = 64;
  for (let s = 0; s < items.length; s += chunk) {
    const part = items.slice(s, s + chunk);
    const reqs: LlRequest[] = [];
    const spans: Array<{ at: number; n: number; gold: number; conts: string[] }> = [];
    for (const item of part) {
      const prefix = description(item, method) + fewshotPrefix(item, pool, k, seed, method);
      const { contexts, continuations, gold } = requestParts(item, method);
      const at = reqs.length;
      if (item.kind === 'partial') for (const c of contexts) reqs.push({ context: prefix + c, continuation: ' ' + continuations[0]! });
      else for (const c of continuations) reqs.push({ context: prefix + contexts[0]!, continuation: ' ' + c, greedy: item.kind === 'cloze' });
      spans.push({ at, n: reqs.length - at, gold, conts: continuations });
    }
    const res = await loglikelihoods(scorer, reqs, opts.batchSize ?? 16);
    part.forEach((item, j) => {
      const sp = spans[j]!;
      const lls = res.slice(sp.at, sp.at + sp.n).map((r) => r.ll);
      if (item.kind === 'cloze') {
        const g = res[sp.at]!.greedy;
        scores.push({ id: item.id, index: item.index, lls, gold: 0, pred: 0, acc: g === undefined ? NaN : g ? 1 : 0 });
        return;
      }
      const pred = argmax(lls);
      const sc: ItemScore = { id: item.id, index: item.index, lls, gold: sp.gold, pred, acc: pred === sp.gold ? 1 : 0 };
      if (item.kind === 'choice') {
        sc.accNorm = argmax(lls.map((ll, i) => ll / codePoints(sp.conts[i]!))) === sp.gold ? 1 : 0;
        if (item.subject !== undefined) sc.subject = item.subject;
      }
      scores.push(sc);
    });
    opts.onProgress?.(scores.length, items.length);
  }
  return { benchmark: bench.name, method: methodName, fewshot: k, n: scores.length, ...(opts.average ? { average: opts.average } : {}), metrics: metricsOf(kind, scores, opts.bootstrapIters ?? 1000), items: scores };
}

/** The benchmark-level metrics of item scores. */
export function metricsOf(kind: EvalItem['kind'], scores: ItemScore[], bootstrapIters = 1000): Record<string, Estimate> {
  const est = (xs: number[]): Estimate => ({ value: mean(xs), stderr: meanStderr(xs) });
  switch (kind) {
    case 'choice': {
      const m: Record<string, Estimate> = { acc: est(scores.map((s) => s.acc)), acc_norm: est(scores.map((s) => s.accNorm!)) };
      if (scores.length && scores.every((s) => s.subject !== undefined)) {
        m.acc_subject_avg = subjectAverage(scores, (s) => s.acc);
        m.acc_norm_subject_avg = subjectAverage(scores, (s) => s.accNorm!);
      }
      return m;
    }
    case 'partial':
      return { acc: est(scores.map((s) => s.acc)) };
    case 'cloze': {
      const lls = scores.map((s) => s.lls[0]!);
      const m: Record<string, Estimate> = {
        perplexity: { value: Math.exp(-mean(lls)), stderr: bootstrapStderr(lls.length, (idx) => Math.exp(-mean(Array.from(idx, (i) => lls[i]!))), bootstrapIters) },
      };
      if (scores.length && !Number.isNaN(scores[0]!.acc)) m.acc = est(scores.map((s) => s.acc));
      return m;
    }
    default: {
      const never: never = kind;
      throw new Error(`unknown kind ${String(never)}`);
    }
  }
}

/**
 * The mean over subjects of the per-subject mean of `value`; its standard error is
 * √(Σ se_s²) / S over the S subjects (independent subjects, each se as {@link meanStderr}).
 */
export function subjectAverage(scores: ItemScore[], value: (s: ItemScore) => number): Estimate {
  const by = new Map<string, number[]>();
  for (const s of scores) {
    const k = s.subject ?? '';
    let xs = by.get(k);
    if (!xs) by.set(k, (xs = []));
    xs.push(value(s));
  }
  const groups = [...by.values()];
  const S = groups.length;
  return { value: mean(groups.map(mean)), stderr: Math.sqrt(groups.reduce((a, xs) => a + meanStderr(xs) ** 2, 0)) / S };
}

/**
 * The primary metric of a result (what the summary and the contamination table compare): `acc`
 * (`acc_subject_avg` when the result averages per subject), else the first.
 */
export function primaryMetric(r: McResult): string {
  if (r.average === 'subject' && 'acc_subject_avg' in r.metrics) return 'acc_subject_avg';
  return 'acc' in r.metrics ? 'acc' : Object.keys(r.metrics)[0]!;
}
