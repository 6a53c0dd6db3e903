/**
 * The benchmark item model: what the benchmark loaders (operators/read/benchmarks.ts) produce and
 * the scorer (evals/), the contamination index (formats/contamination/) and
 * `filter.decontaminate` consume. The file formats themselves (`mc`, `piqa`, `mmlu`,
 * `winogrande`, `lambada`) are described with the loaders.
 */

/** The file formats the loaders read. `auto` guesses from the extension and the first record. */
export type BenchmarkFormat = 'mc' | 'piqa' | 'mmlu' | 'winogrande' | 'lambada';
export const BENCHMARK_FORMATS: readonly BenchmarkFormat[] = ['mc', 'piqa', 'mmlu', 'winogrande', 'lambada'];

interface ItemBase {
  /** Benchmark name, e.g. `arc_easy`. */
  benchmark: string;
  /** Stable id within the benchmark: `<benchmark>/<index>` or `<subject>/<row>` for MMLU. */
  id: string;
  /** Position in load order (0-based). */
  index: number;
  /** Where the record lives: `file:line` (1-based line, or CSV record number + 1 for the header). */
  source: string;
}

/**
 * Ordinary multiple choice: one context, N candidate answers, `ll_i = log P(" " + choice_i | query)`.
 * `question` is the content without prompt labels (what the contamination index reads), and
 * `query` the prompt as the format defines it (what the text scoring method conditions on).
 */
export interface ChoiceItem extends ItemBase {
  kind: 'choice';
  query: string;
  question: string;
  choices: string[];
  gold: number;
  /** MMLU subject (from the file name), used in the letter-method description line. */
  subject?: string;
}

/** Partial evaluation (Winogrande): `ll_i = log P(" " + continuation | contexts[i])`. */
export interface PartialItem extends ItemBase {
  kind: 'partial';
  contexts: string[];
  continuation: string;
  gold: number;
}

/** Cloze (LAMBADA): the log-likelihood of `" " + continuation` given `context`, and whether it is greedy. */
export interface ClozeItem extends ItemBase {
  kind: 'cloze';
  context: string;
  continuation: string;
}

/** One benchmark item, as loaded. */
export type EvalItem = ChoiceItem | PartialItem | ClozeItem;

/** A record the loader could not use. */
export interface SkippedRecord {
  source: string;
  reason: string;
}

/** A loaded benchmark. */
export interface Benchmark {
  name: string;
  format: BenchmarkFormat;
  /** The file or directory it was loaded from. */
  path: string;
  items: EvalItem[];
  skipped: SkippedRecord[];
}
