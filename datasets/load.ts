/**
 * Loaders over registry entries: benchmarks into eval items (through `operators/read/benchmarks.ts`),
 * corpora into docs (a `Source` for pipelines), and path lists into URLs.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Doc, Source } from '../engine/types.ts';
import { loadBenchmark, type Benchmark, type BenchmarkFormat } from '../operators/read/benchmarks.ts';
import { cacheDir, fetchDataset, HashMismatchError, type FetchOptions } from './fetch.ts';
import { readInputText } from '../operators/read/open.ts';
import { entry, type CorpusSplitter } from './registry.ts';

/** Loads a registered benchmark's items (fetching its files first). */
export async function loadRegisteredBenchmark(name: string, opts: FetchOptions = {}): Promise<Benchmark> {
  const { entry: ds, paths } = await fetchDataset(name, opts);
  if (!ds.benchmark) throw new Error(`dataset '${name}' is a ${ds.kind}, not a benchmark`);
  const b = ds.benchmark;
  let path = paths.get(b.path);
  if (!path) {
    // A directory benchmark (MMLU): its files must sit in one directory; mixed cache/mirror copies are gathered into the cache.
    const files = ds.files.filter((f) => f.path.startsWith(b.path + '/'));
    const dirs = new Set(files.map((f) => dirname(paths.get(f.path)!)));
    if (dirs.size === 1) path = [...dirs][0]!;
    else {
      path = join(cacheDir(opts), b.path);
      await mkdir(path, { recursive: true });
      for (const f of files) {
        const local = paths.get(f.path)!;
        const dest = join(cacheDir(opts), f.path);
        if (local !== dest) await copyFile(local, dest);
      }
    }
  }
  return loadBenchmark(path, { format: b.format, name, labels: b.labels ? paths.get(b.labels) : undefined });
}

/** Splits a corpus text into document texts. */
export function splitCorpus(text: string, splitter: CorpusSplitter): string[] {
  switch (splitter) {
    case 'paragraphs':
      return text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean);
    case 'wikitext-articles':
      // Articles start at a level-1 heading line " = Title = "; sub-headings have more '='.
      return text
        .split(/\n(?= = [^=\n][^\n]* = \n)/)
        .map((a) => a.trim())
        .filter(Boolean);
    case 'lines':
      return text.split('\n').map((l) => l.trim()).filter(Boolean);
    default: {
      const never: never = splitter;
      throw new Error(`unknown splitter ${String(never)}`);
    }
  }
}

/**
 * A source of a registered corpus's documents (ids `<dataset>/<file>#<n>`, `meta.dataset`).
 * One task per file. Defaults: fetch options from the environment.
 */
export function corpus(name: string, opts: FetchOptions = {}): Source {
  const ds = entry(name);
  if (!ds.corpus) throw new Error(`dataset '${name}' is a ${ds.kind}, not a corpus`);
  const splitter = ds.corpus.splitter;
  return {
    kind: 'source',
    type: 'datasets.corpus',
    name: 'datasets.corpus',
    version: '1',
    config: { name, files: ds.files.map((f) => ({ path: f.path, sha256: f.sha256 })) },
    async plan() {
      return ds.files.map((f) => ({ key: `${name}|${f.path}|${f.sha256}`, uri: f.path }));
    },
    async *read(part) {
      const file = ds.files.find((f) => f.path === part.uri)!;
      const { paths } = await fetchDataset(name, opts);
      const texts = splitCorpus(await readFile(paths.get(file.path)!, 'utf8'), splitter);
      const base = file.path.split('/').pop()!;
      let batch: Doc[] = [];
      for (let i = 0; i < texts.length; i++) {
        batch.push({ id: `${name}/${base}#${i}`, text: texts[i]!, meta: { dataset: name, source: `${file.url}#${i}` } });
        if (batch.length >= 256) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
    },
  };
}

/** The URLs of a registered path list (e.g. Common Crawl WARC paths). */
export async function pathList(name: string, opts: FetchOptions = {}): Promise<string[]> {
  const { entry: ds, paths } = await fetchDataset(name, opts);
  if (!ds.paths) throw new Error(`dataset '${name}' is a ${ds.kind}, not a path list`);
  const out: string[] = [];
  for (const f of ds.files) {
    const { text } = await readInputText(paths.get(f.path)!);
    for (const line of text.split('\n')) if (line.trim()) out.push(ds.paths.prefix + line.trim());
  }
  return out;
}

/**
 * A registered benchmark as the eval stage's `BenchmarkSpec` (`{ name, path, format, labels }`),
 * its files fetched first; `null` when `optional` and the files cannot be had (e.g. offline
 * without a mirror), so a pipeline can evaluate on what is available. A file that is there but
 * not the pinned one (a hash mismatch) is never passed over silently: with `optional` it is a
 * warning through `log` (default: stderr) naming the file and both hashes, then `null`.
 */
export async function benchmarkSpec(name: string, opts: FetchOptions & { optional?: boolean } = {}): Promise<{ name: string; path: string; format: BenchmarkFormat; labels?: string } | null> {
  let fetched;
  try {
    fetched = await fetchDataset(name, opts);
  } catch (e) {
    if (!opts.optional) throw e;
    if (e instanceof HashMismatchError) {
      const warn = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
      warn(`warning: optional benchmark '${name}' left out: ${e.path} has sha256 ${e.actual}, expected ${e.expected} (${e.message})`);
    }
    return null;
  }
  const b = fetched.entry.benchmark;
  if (!b) throw new Error(`dataset '${name}' is a ${fetched.entry.kind}, not a benchmark`);
  const path = fetched.paths.get(b.path) ?? dirname(fetched.paths.get(fetched.entry.files[0]!.path)!);
  return { name, path, format: b.format, ...(b.labels ? { labels: fetched.paths.get(b.labels)! } : {}) };
}
