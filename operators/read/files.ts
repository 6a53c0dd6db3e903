/**
 * Input file expansion shared by the file sources: local globs (tinyglobby, relative to the
 * pipeline's base directory), `s3://bucket/prefix/*.jsonl.gz` globs (listed from the prefix before
 * the first wildcard, matched with picomatch) and plain URIs. Results are sorted, so task
 * numbering is stable, and carry size and version (mtime or ETag) for fingerprints.
 */
import { isAbsolute, join, relative } from 'node:path';
import { glob } from 'tinyglobby';
import picomatch from 'picomatch';
import { isRemote, storage, type Entry } from '../../engine/storage/index.ts';
import type { PlanContext } from '../../engine/types.ts';

const WILDCARD = /[*?[\]{}]/;

/** Expands one or more patterns into files; a pattern that matches nothing is an error naming it. */
export async function expandInputs(patterns: string | string[], ctx: Pick<PlanContext, 'baseDir'>): Promise<Entry[]> {
  const list = Array.isArray(patterns) ? patterns : [patterns];
  if (!list.length) throw new Error('no input patterns given');
  const out = new Map<string, Entry>();
  for (const pattern of list) {
    if (typeof pattern !== 'string' || !pattern) throw new Error(`invalid input pattern ${JSON.stringify(pattern)}`);
    let found: Entry[];
    if (pattern.startsWith('s3://')) {
      const cut = pattern.search(WILDCARD);
      if (cut < 0) {
        const s = await storage.stat(pattern);
        found = s ? [s] : [];
      } else {
        const prefix = pattern.slice(0, pattern.lastIndexOf('/', cut) + 1);
        const match = picomatch(pattern.slice(prefix.length));
        found = (await storage.list(prefix)).filter((e) => match(e.uri.slice(prefix.length)));
      }
    } else if (isRemote(pattern)) {
      throw new Error(`input ${pattern}: unsupported scheme for this source (use a local path or s3://)`);
    } else {
      const path = pattern.startsWith('file://') ? decodeURIComponent(pattern.slice(7)) : pattern;
      const abs = isAbsolute(path) ? path : join(ctx.baseDir, path);
      if (!WILDCARD.test(path)) {
        const s = await storage.stat(abs);
        found = s ? [s] : [];
      } else {
        const files = await glob(relative(ctx.baseDir, abs) || '.', { cwd: ctx.baseDir, absolute: true, onlyFiles: true, expandDirectories: false });
        found = [];
        for (const f of files) {
          const s = await storage.stat(f);
          if (s) found.push(s);
        }
      }
    }
    if (!found.length) throw new Error(`input ${pattern}: no files match`);
    for (const e of found) out.set(e.uri, e);
  }
  return [...out.values()].sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
}

/** A short, stable label of an input for doc ids and audit rows: relative to the base dir when local. */
export function inputLabel(uri: string, baseDir: string): string {
  if (isRemote(uri)) return uri;
  const rel = relative(baseDir, uri);
  return rel.startsWith('..') ? uri : rel;
}
