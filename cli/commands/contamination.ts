/** `sluice contamination`: an ad-hoc train–test overlap check of benchmark files against a corpus. */
import { writeFile } from 'node:fs/promises';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { parse, intOption } from '../args.ts';
import { loadBenchmark, parseBenchmarkArg } from '../../operators/read/benchmarks.ts';
import { buildIndex, type IndexFields } from '../../formats/contamination/ngram-index.ts';
import { ContaminationScanner, type DirtyRule } from '../../evals/contamination/scan.ts';
import { contaminationReport, reportMarkdown } from '../../evals/contamination/report.ts';
import { reportHtml } from '../../evals/contamination/html.ts';
import { readCorpusInput, resolveCorpus } from '../../evals/contamination/corpus.ts';

export const contaminationCommand: Command = {
  usage: `sluice contamination --benchmark FILE[:format] ... --against DATASET|FILES ... [options]

Indexes the benchmarks' n-grams (normalised: lowercase, punctuation removed, whitespace split),
streams the corpus past them, and prints per benchmark: total, dirty count and %, and the dirty
items with their matched n-grams and source documents.

  --benchmark FILE[:format]  benchmark file or MMLU CSV directory; format one of mc, piqa, mmlu,
                             winogrande, lambada (default: guessed). Repeatable.
  --against PATH             a stage output directory (manifest.json), Parquet, JSONL or text
                             files (gzip or zstd by their first bytes; UTF-16/32 with a BOM), or
                             a glob. Repeatable. JSONL text: the 'text' field, else all string
                             fields joined.
  --ngram N|auto             n-gram length in words (default auto: per benchmark, 5th percentile
                             of item length clipped to [8, 13], GPT-3; 8 for PaLM/Llama-style)
  --min-idf-share X          dirty only if a field's matched n-grams carry ≥ X of its IDF mass
                             (default 0.5; 0 = any overlap)
  --answer-window N          answer-proximity window in words after a question match (default
                             50; 0 = off)
  --fields F                 question | answer | both (default both)
  --max-docs N               ignore n-grams found in more than N corpus docs (default 10)
  --min-fraction X           dirty only if ≥ X of an item's n-grams match (e.g. 0.7); default: any
  --items N                  dirty items listed per benchmark (default 10)
  --json                     print the JSON report instead of Markdown
  --html FILE                also write the self-contained HTML report
  --out FILE                 also write the JSON report

Exit code 0 whether or not contamination is found; 1 when the corpus holds no documents or an
input cannot be read (a truncated or corrupt compressed file, a file with no readable line);
2 on usage errors.

Example:
  sluice contamination --benchmark mc-eval/llm-foundry/piqa.jsonl --against mc-eval/piqa/valid.jsonl`,
  async run(argv) {
    const { values } = parse(argv, {
      benchmark: { type: 'string', multiple: true },
      against: { type: 'string', multiple: true },
      ngram: { type: 'string' },
      fields: { type: 'string' },
      'min-idf-share': { type: 'string' },
      'answer-window': { type: 'string' },
      'max-docs': { type: 'string' },
      'min-fraction': { type: 'string' },
      items: { type: 'string' },
      json: { type: 'boolean' },
      html: { type: 'string' },
      out: { type: 'string' },
    });
    if (values.help) {
      process.stdout.write(this.usage + '\n');
      return 0;
    }
    if (!values.benchmark?.length) throw new UsageError('--benchmark FILE[:format] is required');
    if (!values.against?.length) throw new UsageError('--against DATASET|FILES is required');
    const fields = (values.fields ?? 'both') as IndexFields;
    if (!['question', 'answer', 'both'].includes(fields)) throw new UsageError(`--fields must be question, answer or both (got '${values.fields}')`);
    let rule: DirtyRule = { type: 'any' };
    if (values['min-fraction'] !== undefined) {
      const x = Number(values['min-fraction']);
      if (!(x > 0 && x <= 1)) throw new UsageError(`--min-fraction must be in (0, 1] (got '${values['min-fraction']}')`);
      rule = { type: 'fraction', min: x };
    }
    const benches = [];
    for (const arg of values.benchmark) {
      const { path, format } = parseBenchmarkArg(arg);
      const b = await loadBenchmark(path, { format });
      for (const s of b.skipped.slice(0, 5)) process.stderr.write(`skipped ${s.source}: ${s.reason}\n`);
      if (b.skipped.length > 5) process.stderr.write(`… ${b.skipped.length - 5} more skipped records in ${path}\n`);
      benches.push(b);
    }
    const ngram = values.ngram === undefined || values.ngram === 'auto' ? 'auto' : intOption('ngram', values.ngram, 2);
    let minIdfShare: number | undefined;
    if (values['min-idf-share'] !== undefined) {
      minIdfShare = Number(values['min-idf-share']);
      if (!(minIdfShare >= 0 && minIdfShare <= 1)) throw new UsageError(`--min-idf-share must be in [0, 1] (got '${values['min-idf-share']}')`);
    }
    const index = buildIndex(benches, { ngram, fields });
    const scanner = new ContaminationScanner(index, { maxDocs: intOption('max-docs', values['max-docs']), rule, minIdfShare, answerWindow: intOption('answer-window', values['answer-window'], 0) });
    const inputs = await resolveCorpus(values.against);
    const t0 = performance.now();
    let skipped = 0;
    for (const input of inputs) {
      scanner.addSource(input.describe);
      await scanner.scanDocs(
        readCorpusInput(input, (where, why) => {
          if (skipped++ < 5) process.stderr.write(`skipped ${where}: ${why}\n`);
        }),
      );
    }
    const secs = (performance.now() - t0) / 1000;
    // 0% of nothing is no answer: an empty or unreadable corpus is an error, not a clean report.
    if (scanner.docs === 0) {
      throw new Error(`--against ${values.against.join(' ')}: ${inputs.length} input(s) hold no documents${skipped ? ` (${skipped} line(s) skipped as malformed)` : ''}; nothing was checked`);
    }
    const report = contaminationReport(scanner.result(), [], 'Train–test contamination');
    if (values.out) await writeFile(values.out, JSON.stringify(report, null, 1) + '\n');
    if (values.html) await writeFile(values.html, reportHtml(report));
    if (values.json) process.stdout.write(JSON.stringify(report, null, 1) + '\n');
    else process.stdout.write(reportMarkdown(report, intOption('items', values.items, 0) ?? 10) + '\n');
    process.stderr.write(`scanned ${scanner.docs} docs, ${(scanner.bytes / 1e6).toFixed(1)} MB in ${secs.toFixed(1)} s (${(scanner.bytes / 1e6 / Math.max(secs, 1e-9)).toFixed(1)} MB/s)${skipped ? `; ${skipped} malformed lines skipped` : ''}\n`);
    return 0;
  },
};
