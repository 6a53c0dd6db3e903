/**
 * Gets a registered dataset's files onto local disk: from the cache (`SLUICE_CACHE`, default
 * `~/.cache/sluice`), else from an offline mirror (`SLUICE_DATA_MIRROR`, read in place), else by
 * downloading through undici into the cache. Every file is verified against its pinned sha256
 * wherever it came from; a mismatch is an error naming the file, both hashes and the source.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sluiceCacheRoot } from '../engine/cache-root.ts';
import { lazyPackage } from '../engine/modules/lazy.ts';

const undici = lazyPackage<typeof import('undici')>('undici');
import { entry, type DatasetEntry, type DatasetFile } from './registry.ts';

/** Where files are looked for and put. */
export interface FetchOptions {
  /** Cache directory (default `SLUICE_CACHE`, else `~/.cache/sluice`). */
  cache?: string;
  /** Offline mirror root laid out like `../shared/data` (default `SLUICE_DATA_MIRROR`). */
  mirror?: string;
  /** Never download (default: `SLUICE_OFFLINE=1`). */
  offline?: boolean;
  /** Allow files without a pinned sha256 (their computed hash is reported via `log`). */
  allowUnpinned?: boolean;
  /** Download timeout per file in ms (default 10 minutes). */
  timeoutMs?: number;
  log?: (message: string) => void;
}

/** The default cache directory. */
export function cacheDir(opts: FetchOptions = {}): string {
  return opts.cache ?? sluiceCacheRoot();
}

/** sha256 of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** A file whose content is not the pinned one: names the file and both hashes. */
export class HashMismatchError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
    message: string,
  ) {
    super(message);
    this.name = 'HashMismatchError';
  }
}

async function verified(path: string, file: DatasetFile, source: string): Promise<boolean> {
  if (!existsSync(path)) return false;
  if (!file.sha256) return true;
  const got = await sha256File(path);
  if (got !== file.sha256) throw new HashMismatchError(path, file.sha256, got, `${source} ${path}: sha256 ${got} does not match the pinned ${file.sha256} (upstream ${file.url})`);
  return true;
}

async function download(file: DatasetFile, dest: string, opts: FetchOptions): Promise<string> {
  await mkdir(dirname(dest), { recursive: true });
  const tmp = `${dest}.part-${process.pid}`;
  const hash = createHash('sha256');
  try {
    const { Agent, interceptors, request } = undici();
    const dispatcher = new Agent({ headersTimeout: 60_000, bodyTimeout: opts.timeoutMs ?? 600_000 }).compose(interceptors.redirect({ maxRedirections: 5 }));
    const res = await request(file.url, { dispatcher });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`HTTP ${res.statusCode}`);
    }
    const out = createWriteStream(tmp);
    for await (const chunk of res.body) {
      hash.update(chunk as Buffer);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
    }
    await new Promise<void>((res2, rej) => out.end((e?: Error | null) => (e ? rej(e) : res2())));
    const got = hash.digest('hex');
    if (file.sha256 && got !== file.sha256) throw new HashMismatchError(file.url, file.sha256, got, `sha256 ${got} does not match the pinned ${file.sha256}`);
    if (!file.sha256) opts.log?.(`${file.url}: unpinned; downloaded sha256 ${got}`);
    await rename(tmp, dest);
    return dest;
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Local path of one file of a dataset, fetching it if needed. */
export async function fetchFile(ds: DatasetEntry, file: DatasetFile, opts: FetchOptions = {}): Promise<string> {
  if (!file.sha256 && !opts.allowUnpinned) {
    throw new Error(`dataset '${ds.name}': ${file.url} has no pinned sha256; pass allowUnpinned (CLI: --allow-unpinned) to fetch it and pin the reported hash`);
  }
  const cached = join(cacheDir(opts), file.path);
  if (await verified(cached, file, 'cached file')) return cached;
  if (file.derive) {
    const bytes = await file.derive();
    const got = createHash('sha256').update(bytes).digest('hex');
    if (file.sha256 && got !== file.sha256) throw new HashMismatchError(file.path, file.sha256, got, `dataset '${ds.name}': derived ${file.path} has sha256 ${got}, not the pinned ${file.sha256} (is ${file.url} installed at that version?)`);
    await mkdir(dirname(cached), { recursive: true });
    const tmp = `${cached}.part-${process.pid}`;
    await writeFile(tmp, bytes);
    await rename(tmp, cached);
    return cached;
  }
  const mirror = opts.mirror ?? process.env.SLUICE_DATA_MIRROR;
  const mirrored = mirror ? join(mirror, file.path) : undefined;
  if (mirrored && (await verified(mirrored, file, 'mirror file'))) return mirrored;
  const offline = opts.offline ?? process.env.SLUICE_OFFLINE === '1';
  const where = mirrored ? `no copy in the mirror at ${mirrored}` : 'no mirror set (SLUICE_DATA_MIRROR)';
  if (offline) throw new Error(`dataset '${ds.name}': ${file.url} is not cached at ${cached}, ${where}, and downloads are off (offline)`);
  try {
    opts.log?.(`downloading ${file.url}`);
    return await download(file, cached, opts);
  } catch (e) {
    const msg = `dataset '${ds.name}': download of ${file.url} failed (${(e as Error).message}); ${where}`;
    if (e instanceof HashMismatchError) throw new HashMismatchError(e.path, e.expected, e.actual, msg);
    throw new Error(msg);
  }
}

/** Fetches every file of a dataset; returns the local root each file path resolves under. */
export async function fetchDataset(name: string, opts: FetchOptions = {}): Promise<{ entry: DatasetEntry; paths: Map<string, string> }> {
  const ds = entry(name);
  const paths = new Map<string, string>();
  for (const f of ds.files) paths.set(f.path, await fetchFile(ds, f, opts));
  return { entry: ds, paths };
}
