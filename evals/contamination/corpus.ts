/**
 * Training corpora for ad-hoc contamination checks (`sluice contamination --against …`): a stage
 * output directory (its `manifest.json` names the Parquet files and the fingerprint), Parquet
 * files, JSON Lines or plain text files; JSONL and text may be gzip or zstd (by their first
 * bytes) and UTF-16/32 with a byte-order mark, read through the shared input opener. JSONL
 * streams; a text file is one document. A damaged compressed input, or one of which no line
 * could be read, is an error naming it: a scan that silently missed part of the corpus would
 * under-report contamination.
 *
 * A JSONL record's text is its `text` field when it has one, else all its string values joined
 * by newlines (so a benchmark file such as PIQA's `{goal, sol1, sol2}` can stand in for training
 * data); its id is `id` or `<file>:<line>`, its URL `url` or `meta.url`.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { glob } from 'tinyglobby';
import type { Doc, Manifest } from '../../engine/types.ts';
import { readDocsParquet } from '../../engine/parquet.ts';
import { openInput, readInputText } from '../../operators/read/open.ts';
import { jsonlRecords, ReadTally } from '../../operators/read/records.ts';

/** `.jsonl`, optionally with a compression suffix (the compression itself is read from the bytes). */
const JSONL = /\.jsonl(\.(gz|zst|zstd))?$/i;

/** One corpus input, resolved: what to read and how it enters the corpus fingerprint. */
export interface CorpusInput {
  kind: 'dataset' | 'parquet' | 'jsonl' | 'text';
  path: string;
  /** For the fingerprint: dataset fingerprint, or file size and mtime. */
  describe: string;
}

/** Resolves paths, globs and dataset directories into inputs; an unmatched pattern is an error naming it. */
export async function resolveCorpus(specs: string[]): Promise<CorpusInput[]> {
  const out: CorpusInput[] = [];
  for (const spec of specs) {
    const st = await stat(spec).catch(() => null);
    if (st?.isDirectory()) {
      const mpath = join(spec, 'manifest.json');
      const m = await readFile(mpath, 'utf8').catch(() => null);
      if (m === null) throw new Error(`--against ${spec}: a directory must be a stage output with manifest.json`);
      const manifest = JSON.parse(m) as Manifest;
      if (manifest.output !== 'docs') throw new Error(`--against ${spec}: stage '${manifest.stage}' is an artifact, not a doc dataset`);
      out.push({ kind: 'dataset', path: spec, describe: `${manifest.pipeline}/${manifest.stage}@${manifest.fingerprint}` });
      continue;
    }
    const files = st ? [spec] : await glob(spec, { absolute: false, onlyFiles: true });
    if (files.length === 0) throw new Error(`--against ${spec}: no such file, directory or matching files`);
    for (const f of files.sort()) {
      const fs = await stat(f);
      const kind = /\.parquet$/i.test(f) ? 'parquet' : JSONL.test(f) ? 'jsonl' : 'text';
      out.push({ kind, path: f, describe: `${f} ${fs.size} ${fs.mtimeMs.toFixed(0)}` });
    }
  }
  return out;
}

/** Streams the docs of a resolved input. `onSkip` hears about malformed JSONL lines. */
export async function* readCorpusInput(input: CorpusInput, onSkip?: (where: string, why: string) => void, batchSize = 256): AsyncIterable<Doc[]> {
  switch (input.kind) {
    case 'dataset': {
      const manifest = JSON.parse(await readFile(join(input.path, 'manifest.json'), 'utf8')) as Manifest;
      for (const f of manifest.files) yield* readDocsParquet(join(input.path, f.path), { batchSize });
      return;
    }
    case 'parquet':
      yield* readDocsParquet(input.path, { batchSize });
      return;
    case 'text': {
      const { text, invalidAt } = await readInputText(input.path);
      if (invalidAt !== null) {
        onSkip?.(input.path, `read.invalidUtf8: not UTF-8 at byte ${invalidAt}`);
        return;
      }
      yield [{ id: input.path, text, meta: { source: input.path } }];
      return;
    }
    case 'jsonl': {
      const opened = await openInput(input.path);
      const tally = new ReadTally();
      let batch: Doc[] = [];
      for await (const ev of jsonlRecords(opened)) {
        const where = `${input.path}:${ev.line}`;
        if (ev.kind === 'skip') {
          if (ev.reason === 'read.truncated' || ev.reason === 'read.corrupt') throw new Error(String(ev.details.error));
          tally.skip(ev);
          onSkip?.(where, `${ev.reason}${typeof ev.details.error === 'string' ? `: ${ev.details.error}` : ''}`);
          continue;
        }
        const r = ev.value as Record<string, unknown>;
        if (!r || typeof r !== 'object' || Array.isArray(r)) {
          tally.skip({ kind: 'skip', offset: ev.offset, line: ev.line, reason: 'not a document', details: { error: 'record is not a JSON object' } }, ev.raw);
          onSkip?.(where, 'record is not a JSON object');
          continue;
        }
        tally.ok();
        const text = typeof r.text === 'string' ? r.text : Object.values(r).filter((v): v is string => typeof v === 'string').join('\n');
        const meta = (r.meta && typeof r.meta === 'object' ? r.meta : {}) as Doc['meta'];
        const url = typeof r.url === 'string' ? r.url : typeof meta.url === 'string' ? meta.url : undefined;
        batch.push({ id: typeof r.id === 'string' || typeof r.id === 'number' ? String(r.id) : where, text, meta: { ...meta, ...(url ? { url } : {}), source: where } });
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
      tally.check(`--against ${input.path}`, opened);
      return;
    }
    default: {
      const never: never = input.kind;
      throw new Error(`unknown corpus input kind ${String(never)}`);
    }
  }
}
