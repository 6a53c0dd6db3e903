/**
 * Benchmark loaders: read the evaluation sets of `../shared/data/mc-eval` (and files in the same
 * formats) into the item model of formats/benchmarks.ts, which the scorer, the contamination
 * index and `filter.decontaminate` share. Files go through the shared input opener (open.ts).
 *
 * Formats (`BenchmarkFormat`):
 * - `mc`: JSONL `{query, choices, gold}` (llm-foundry's ARC, OpenBookQA, COPA, CommonsenseQA, PIQA).
 * - `piqa`: the official PIQA JSONL `{goal, sol1, sol2}` plus a labels file (one `0`/`1` a line,
 *   default `<file without .jsonl>-labels.lst`); prompted as lm-evaluation-harness does.
 * - `mmlu`: CSV with header `question,choice0,…,choiceK,answer` (answer an index, or a letter),
 *   one file or a directory of `<subject>_<split>.csv` files.
 * - `winogrande`: JSONL `{context_options, continuation, gold}`, scored by partial evaluation
 *   (the contexts differ, the continuation is shared).
 * - `lambada`: JSONL `{context, continuation}` (a cloze: the continuation is the target).
 *
 * A malformed record never stops a load: it is skipped and returned in `skipped` with its reason
 * and location (and passed to `onSkip`, e.g. `ctx.audit.skip`).
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { lazyPackage } from '../../engine/modules/lazy.ts';

const csvSync = lazyPackage<typeof import('csv-parse/sync')>('csv-parse/sync');
import { openInput, readInputText } from './open.ts';
import { jsonlRecords } from './records.ts';
import type { Benchmark, BenchmarkFormat, EvalItem, SkippedRecord } from '../../formats/benchmarks.ts';
import { BENCHMARK_FORMATS } from '../../formats/benchmarks.ts';

export { BENCHMARK_FORMATS, type Benchmark, type BenchmarkFormat, type ChoiceItem, type ClozeItem, type EvalItem, type PartialItem, type SkippedRecord } from '../../formats/benchmarks.ts';

/**
 * The whole text of a benchmark file through the shared input opener (gzip/zstd by magic bytes,
 * UTF-16/32 by byte-order mark); a file that is not valid text is an error naming it and the byte.
 */
async function readText(path: string, what = 'benchmark'): Promise<string> {
  let r;
  try {
    r = await readInputText(path);
  } catch (e) {
    throw new Error(`${what} ${path}: cannot read: ${(e as Error).message}`);
  }
  if (r.invalidAt !== null) throw new Error(`${what} ${path}: not valid UTF-8 at byte ${r.invalidAt} (re-encode the file as UTF-8)`);
  return r.text;
}

export interface LoadOptions {
  /** Format; default: guessed (`.csv` or a directory → `mmlu`, else from the first JSON record's keys). */
  format?: BenchmarkFormat;
  /** Benchmark name; default: the file name without extension (`valid` → parent directory name). */
  name?: string;
  /** PIQA labels file; default `<path without .jsonl>-labels.lst`. */
  labels?: string;
  /** Called for every skipped record (e.g. `(s) => ctx.audit.skip(s.source, s.reason)`). */
  onSkip?: (s: SkippedRecord) => void;
}

/**
 * Parses `FILE[:format]` as the CLI and configs write it (`piqa.jsonl:mc`). A suffix that is not
 * a known format is part of the path (Windows drive letters, `s3://`).
 */
export function parseBenchmarkArg(arg: string): { path: string; format?: BenchmarkFormat } {
  const i = arg.lastIndexOf(':');
  if (i > 0) {
    const suffix = arg.slice(i + 1);
    if ((BENCHMARK_FORMATS as readonly string[]).includes(suffix)) return { path: arg.slice(0, i), format: suffix as BenchmarkFormat };
  }
  return { path: arg };
}

/** Default benchmark name of a path: file name without extension; generic split names take the folder's. */
export function benchmarkName(path: string): string {
  const base = basename(path).replace(/\.(jsonl|json|csv|lst)$/i, '');
  if (/^(valid|validation|test|dev|train|data)$/i.test(base)) return `${basename(dirname(path))}-${base}`;
  return base;
}

/** Guesses a benchmark file's format from its extension and first JSON record. */
export async function detectFormat(path: string): Promise<BenchmarkFormat> {
  const st = await stat(path).catch(() => null);
  if (!st) throw new Error(`benchmark ${path}: no such file or directory`);
  if (st.isDirectory() || extname(path).toLowerCase() === '.csv') return 'mmlu';
  const text = await readText(path);
  const first = text.split('\n').find((l) => l.trim() !== '');
  if (!first) throw new Error(`benchmark ${path}: the file is empty`);
  let rec: unknown;
  try {
    rec = JSON.parse(first);
  } catch {
    throw new Error(`benchmark ${path}: cannot guess the format: the first line is not JSON (name it: FILE:mc|piqa|mmlu|winogrande|lambada)`);
  }
  const keys = rec && typeof rec === 'object' ? Object.keys(rec) : [];
  if (keys.includes('context_options')) return 'winogrande';
  if (keys.includes('goal') && keys.includes('sol1')) return 'piqa';
  if (keys.includes('query') && keys.includes('choices')) return 'mc';
  if (keys.includes('context') && keys.includes('continuation')) return 'lambada';
  throw new Error(`benchmark ${path}: cannot guess the format from keys [${keys.join(', ')}] (name it: FILE:mc|piqa|mmlu|winogrande|lambada)`);
}

/**
 * Loads a benchmark file (or an MMLU directory) into items. Errors name the file when it cannot
 * be read at all; malformed records are skipped with their reason.
 */
export async function loadBenchmark(path: string, opts: LoadOptions = {}): Promise<Benchmark> {
  const format = opts.format ?? (await detectFormat(path));
  const name = opts.name ?? benchmarkName(path);
  const skipped: SkippedRecord[] = [];
  const skip = (source: string, reason: string) => {
    const s = { source, reason };
    skipped.push(s);
    opts.onSkip?.(s);
  };
  let items: EvalItem[];
  switch (format) {
    case 'mc':
      items = await loadJsonl(path, name, skip, mcRecord);
      break;
    case 'winogrande':
      items = await loadJsonl(path, name, skip, winograndeRecord);
      break;
    case 'lambada':
      items = await loadJsonl(path, name, skip, lambadaRecord);
      break;
    case 'piqa':
      items = await loadPiqa(path, name, opts.labels, skip);
      break;
    case 'mmlu':
      items = await loadMmlu(path, name, skip);
      break;
    default: {
      const never: never = format;
      throw new Error(`benchmark ${path}: unknown format '${String(never)}'`);
    }
  }
  items.forEach((it, i) => (it.index = i));
  return { name, format, path, items, skipped };
}

type Skip = (source: string, reason: string) => void;
type RecordReader = (rec: Record<string, unknown>, name: string, n: number, source: string) => EvalItem | string;

async function loadJsonl(path: string, name: string, skip: Skip, reader: RecordReader): Promise<EvalItem[]> {
  let input;
  try {
    input = await openInput(path);
  } catch (e) {
    throw new Error(`benchmark ${path}: cannot read: ${(e as Error).message}`);
  }
  const items: EvalItem[] = [];
  for await (const ev of jsonlRecords(input)) {
    const source = `${path}:${ev.line}`;
    if (ev.kind === 'skip') {
      // A damaged file would silently shrink the benchmark and change its score.
      if (ev.reason === 'read.truncated' || ev.reason === 'read.corrupt') throw new Error(`benchmark ${path}: ${String(ev.details.error)}`);
      skip(source, ev.reason === 'invalid JSON' ? `invalid JSON: ${String(ev.details.error)}` : `${ev.reason}: ${JSON.stringify(ev.details)}`);
      continue;
    }
    const rec = ev.value;
    if (!rec || typeof rec !== 'object' || Array.isArray(rec)) {
      skip(source, 'record is not a JSON object');
      continue;
    }
    const r = reader(rec as Record<string, unknown>, name, items.length, source);
    if (typeof r === 'string') skip(source, r);
    else items.push(r);
  }
  return items;
}

const isStr = (v: unknown): v is string => typeof v === 'string';

function goldIndex(v: unknown, n: number): number | string {
  const g = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof g !== 'number' || !Number.isInteger(g)) return `'gold' must be an integer, got ${JSON.stringify(v)}`;
  if (g < 0 || g >= n) return `'gold' ${g} is out of range for ${n} choices`;
  return g;
}

/**
 * The content of a prompt without its labels: a leading `Question:`/`Q:` and a trailing
 * `Answer:`/`A:` are prompt template, not benchmark text (llm-foundry wraps PIQA's goal as
 * `Question: <goal>\n`).
 */
export function stripPromptLabels(query: string): string {
  return query
    .replace(/^\s*(question|q)\s*:\s*/i, '')
    .replace(/\s*(answer|a)\s*:\s*$/i, '')
    .trim();
}

const mcRecord: RecordReader = (rec, name, n, source) => {
  const { query, choices } = rec;
  if (!isStr(query)) return `'query' must be a string`;
  if (!Array.isArray(choices) || choices.length < 2 || !choices.every(isStr)) return `'choices' must be an array of at least 2 strings`;
  const gold = goldIndex(rec.gold, choices.length);
  if (typeof gold === 'string') return gold;
  return { kind: 'choice', benchmark: name, id: `${name}/${n}`, index: n, source, query, question: stripPromptLabels(query), choices: choices as string[], gold };
};

const winograndeRecord: RecordReader = (rec, name, n, source) => {
  const { context_options: contexts, continuation } = rec;
  if (!Array.isArray(contexts) || contexts.length < 2 || !contexts.every(isStr)) return `'context_options' must be an array of at least 2 strings`;
  if (!isStr(continuation)) return `'continuation' must be a string`;
  const gold = goldIndex(rec.gold, contexts.length);
  if (typeof gold === 'string') return gold;
  return { kind: 'partial', benchmark: name, id: `${name}/${n}`, index: n, source, contexts: contexts as string[], continuation, gold };
};

const lambadaRecord: RecordReader = (rec, name, n, source) => {
  const { context, continuation } = rec;
  if (!isStr(context)) return `'context' must be a string`;
  if (!isStr(continuation) || continuation.trim() === '') return `'continuation' must be a non-empty string`;
  return { kind: 'cloze', benchmark: name, id: `${name}/${n}`, index: n, source, context, continuation };
};

async function loadPiqa(path: string, name: string, labelsPath: string | undefined, skip: Skip): Promise<EvalItem[]> {
  const labelsFile = labelsPath ?? path.replace(/\.jsonl$/i, '') + '-labels.lst';
  let labels: string[];
  try {
    labels = (await readText(labelsFile, 'PIQA labels')).split('\n');
  } catch (e) {
    throw new Error(`benchmark ${path}: PIQA needs its labels file ${labelsFile}: ${(e as Error).message}`);
  }
  // Lines of the labels file align with the lines of the JSONL (blank lines included).
  let line = -1;
  return loadJsonl(path, name, skip, (rec, nm, n, source) => {
    line = Number(source.slice(source.lastIndexOf(':') + 1)) - 1;
    const { goal, sol1, sol2 } = rec;
    if (!isStr(goal) || !isStr(sol1) || !isStr(sol2)) return `'goal', 'sol1' and 'sol2' must be strings`;
    const label = labels[line]?.trim();
    if (label === undefined || label === '') return `no label on line ${line + 1} of ${labelsFile}`;
    const gold = goldIndex(label, 2);
    if (typeof gold === 'string') return `label on line ${line + 1} of ${labelsFile}: ${gold}`;
    // lm-evaluation-harness piqa: doc_to_text "Question: {{goal}}\nAnswer:", choices [sol1, sol2].
    return { kind: 'choice', benchmark: nm, id: `${nm}/${n}`, index: n, source, query: `Question: ${goal}\nAnswer:`, question: goal, choices: [sol1, sol2], gold };
  });
}

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

async function loadMmlu(path: string, name: string, skip: Skip): Promise<EvalItem[]> {
  const st = await stat(path).catch(() => null);
  if (!st) throw new Error(`benchmark ${path}: no such file or directory`);
  const files = st.isDirectory() ? (await readdir(path)).filter((f) => f.toLowerCase().endsWith('.csv')).sort().map((f) => join(path, f)) : [path];
  if (files.length === 0) throw new Error(`benchmark ${path}: no .csv files in the directory`);
  const items: EvalItem[] = [];
  for (const file of files) {
    const subject = basename(file).replace(/\.csv$/i, '').replace(/_(dev|test|val|validation|train)$/i, '');
    const csv = await readText(file);
    let rows: string[][];
    try {
      rows = csvSync().parse(csv, { relax_column_count: true, skip_empty_lines: true }) as string[][];
    } catch (e) {
      throw new Error(`benchmark ${file}: invalid CSV: ${(e as Error).message}`);
    }
    const header = rows[0]?.map((h) => h.trim().toLowerCase());
    if (!header || header[0] !== 'question' || header[header.length - 1] !== 'answer' || header.length < 4) {
      throw new Error(`benchmark ${file}: expected the header 'question,choice0,…,choiceK,answer', got '${rows[0]?.join(',') ?? ''}'`);
    }
    const k = header.length - 2;
    for (let r = 1; r < rows.length; r++) {
      const row = rows[r]!;
      const source = `${file}:${r + 1}`;
      if (row.length !== header.length) {
        skip(source, `expected ${header.length} columns, got ${row.length}`);
        continue;
      }
      const choices = row.slice(1, 1 + k);
      const ans = row[row.length - 1]!.trim();
      const goldRaw = /^[A-Z]$/i.test(ans) ? LETTERS.indexOf(ans.toUpperCase()) : ans;
      const gold = goldIndex(goldRaw, k);
      if (typeof gold === 'string') {
        skip(source, gold.replace("'gold'", "'answer'"));
        continue;
      }
      const question = row[0]!.trim();
      const n = items.length;
      items.push({ kind: 'choice', benchmark: name, id: `${subject}/${r - 1}`, index: n, source, query: `Question: ${question}\nAnswer:`, question, choices, gold, subject });
    }
  }
  return items;
}

/** The letter labels used by the letter scoring method (`A`…`Z`). */
export function choiceLetter(i: number): string {
  const l = LETTERS[i];
  if (l === undefined) throw new Error(`choice index ${i}: letter scoring supports at most 26 choices`);
  return l;
}
