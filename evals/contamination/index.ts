/**
 * The train–test contamination check: index benchmark items' n-grams, stream training data past
 * them, report per item and per benchmark (GPT-3 table, JSON/Markdown/HTML).
 *
 * ```ts
 * const index = contamination.buildIndex([await loadBenchmark('piqa.jsonl')], { ngram: 13 });
 * const scan = new contamination.Scanner(index, { maxDocs: 10 });
 * await scan.scanDocs(dataset.readDocs());
 * const report = contamination.report(scan.result(), scores);
 * ```
 */
import type { Doc } from '../../engine/types.ts';
import type { Benchmark } from '../../formats/benchmarks.ts';
import type { McResult } from '../multiple-choice.ts';
import { buildIndex, type IndexOptions } from '../../formats/contamination/ngram-index.ts';
import { ContaminationScanner, type ScanOptions } from './scan.ts';
import { contaminationReport, reportMarkdown, tableMarkdown, type ContaminationReport } from './report.ts';
import { reportHtml } from './html.ts';
import { normalizeWords } from '../../formats/contamination/normalize.ts';

export { buildIndex, NgramIndex, itemTexts, itemRenderings } from '../../formats/contamination/ngram-index.ts';
export type { IndexOptions, IndexFields, NgramUnit, IndexedItem } from '../../formats/contamination/ngram-index.ts';
export { ContaminationScanner, ruleText, corpusFingerprint } from './scan.ts';
export { matchUnits, matchSpans } from '../../formats/contamination/match.ts';
export type { DirtyRule, ScanOptions, ScanResult, ItemContamination, BenchmarkContamination, ContaminationMethod, CorpusInfo, SourceDoc } from './scan.ts';
export { contaminationReport, reportMarkdown, tableMarkdown, methodCard } from './report.ts';
export type { ContaminationReport, ReportRow } from './report.ts';
export { reportHtml } from './html.ts';
export { normalizeWords, NORMALISATION } from '../../formats/contamination/normalize.ts';

/**
 * One call: index `benchmarks`, scan `docs` (each stream is one source, described for the corpus
 * fingerprint), and build the report with the model's `scores` if given.
 */
export async function checkContamination(
  benchmarks: Benchmark[],
  sources: Array<{ describe: string; docs: AsyncIterable<Doc[]> }>,
  opts: IndexOptions & ScanOptions & { scores?: McResult[]; title?: string } = {},
): Promise<ContaminationReport> {
  const index = buildIndex(benchmarks, opts);
  const scanner = new ContaminationScanner(index, opts);
  for (const s of sources) {
    scanner.addSource(s.describe);
    await scanner.scanDocs(s.docs);
  }
  return contaminationReport(scanner.result(), opts.scores ?? [], opts.title);
}

/** The `contamination` namespace of the public API. */
export const contamination = {
  buildIndex,
  Scanner: ContaminationScanner,
  check: checkContamination,
  report: contaminationReport,
  markdown: reportMarkdown,
  table: tableMarkdown,
  html: reportHtml,
  normalizeWords,
};
