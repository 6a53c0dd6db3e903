/**
 * Training corpora for ad-hoc contamination checks (`sluice contamination --against …`): a stage
 * output directory (its `manifest.json` names the Parquet files and the fingerprint), Parquet
 * files, JSON Lines (plain or `.gz`) or plain text files. Everything streams.
 *
 * A JSONL record's text is its `text` field when it has one, else all its string values joined
 * by newlines (so a benchmark file such as PIQA's `{goal, sol1, sol2}` can stand in for training
 * data); its id is `id` or `<file>:<line>`, its URL `url` or `meta.url`.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { join } from 'node:path';
import { glob } from 'tinyglobby';
import type { Doc, Manifest } from '../../engine/types.ts';
import { readDocsParquet } from '../../engine/parquet.ts';
import { lines } from '../../operators/read/jsonl.ts';

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
      const kind = /\.parquet$/i.test(f) ? 'parquet' : /\.jsonl(\.gz)?$/i.test(f) ? 'jsonl' : 'text';
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
      const text = await readFile(input.path, 'utf8');
      yield [{ id: input.path, text, meta: { source: input.path } }];
      return;
    }
    case 'jsonl': {
      let stream: AsyncIterable<Buffer> = createReadStream(input.path);
      if (/\.gz$/i.test(input.path)) stream = createReadStream(input.path).pipe(createGunzip());
      let batch: Doc[] = [];
      let n = 0;
      for await (const [, buf] of lines(stream)) {
        n++;
        if (!buf.length) continue;
        const where = `${input.path}:${n}`;
        let r: Record<string, unknown>;
        try {
          r = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
        } catch (e) {
          onSkip?.(where, `invalid JSON: ${(e as Error).message}`);
          continue;
        }
        if (!r || typeof r !== 'object' || Array.isArray(r)) {
          onSkip?.(where, 'record is not a JSON object');
          continue;
        }
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
      return;
    }
    default: {
      const never: never = input.kind;
      throw new Error(`unknown corpus input kind ${String(never)}`);
    }
  }
}
