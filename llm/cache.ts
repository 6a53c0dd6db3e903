/**
 * The persistent response cache of model calls: one JSONL file, one `{"key", "value"}` line per
 * answered request, appended as each answer arrives. Re-running reads the file and answers
 * every request it holds without a call; a killed run keeps every line it finished writing and
 * resumes from there. Append-only lines survive a crash: at worst the last line is torn, and a
 * torn or otherwise unreadable line is counted and skipped on load (and fenced off with a newline
 * so the next append starts a line of its own). A key seen twice keeps its last value.
 *
 * Keys are sha256 of the canonical JSON of what determines the answer (`cacheKey`); the API key
 * and the endpoint's address are never part of them, nor of the stored values.
 */
import { appendFile, mkdir, open, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { cacheDir } from '../datasets/fetch.ts';
import { canonicalJson, sha256 } from '../engine/runtime.ts';
import type { Json } from '../engine/types.ts';

/**
 * The default cache file of model calls (judge runs, `classify.annotate`):
 * `<SLUICE_CACHE or ~/.cache/sluice>/llm/responses.jsonl`. Several processes may append to it at
 * once: each entry is one `O_APPEND` write of a whole line, which local file systems do not
 * interleave.
 */
export function defaultCachePath(): string {
  return join(cacheDir(), 'llm', 'responses.jsonl');
}

/** The cache key of a request: sha256 of the canonical JSON (sorted keys) of what decides its answer. */
export function cacheKey(material: unknown): string {
  return sha256(canonicalJson(material));
}

/** An append-only JSONL response cache, loaded into memory on open. */
export class ResponseCache {
  private readonly entries = new Map<string, Json>();
  private writing: Promise<void> = Promise.resolve();
  /** Lines skipped on load because they did not parse (a torn last line after a kill). */
  skippedLines = 0;

  private constructor(readonly path: string) {}

  /** Opens (creating its directory) the cache file at `path`, loading the entries it holds. */
  static async open(path: string): Promise<ResponseCache> {
    const cache = new ResponseCache(path);
    await mkdir(dirname(path), { recursive: true });
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const rec = JSON.parse(line) as { key?: unknown; value?: Json };
        if (typeof rec.key !== 'string' || !('value' in rec)) throw new Error('not a cache entry');
        cache.entries.set(rec.key, rec.value as Json);
      } catch {
        cache.skippedLines++;
      }
    }
    if (text.length > 0 && !text.endsWith('\n')) {
      // A torn last line: end it, so the next entry does not glue onto it and become unreadable too.
      const fh = await open(path, 'a');
      try {
        await fh.write('\n');
      } finally {
        await fh.close();
      }
    }
    return cache;
  }

  /** Number of entries held. */
  get size(): number {
    return this.entries.size;
  }

  /** The stored value of `key`, or undefined. */
  get(key: string): Json | undefined {
    return this.entries.get(key);
  }

  /** Whether `key` has a stored value. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * Stores `value` under `key`: held in memory at once, appended to the file as one line (one
   * `write` of the whole line; appends are serialised so concurrent callers never interleave).
   * Resolves once the line is written.
   */
  put(key: string, value: Json): Promise<void> {
    this.entries.set(key, value);
    const line = JSON.stringify({ key, value }) + '\n';
    const next = this.writing.then(() => appendFile(this.path, line, 'utf8'));
    // A failed append rejects this caller; later appends still run.
    this.writing = next.catch(() => undefined);
    return next;
  }

  /** Resolves once every pending append has been written. */
  async flush(): Promise<void> {
    await this.writing;
  }
}
