/**
 * Where archive bytes come from: local paths and `s3://` through the storage facade (ranged
 * streams), `http(s)://` through undici. An HTTP download that drops mid-file resumes with a
 * `Range` request when the server advertises `Accept-Ranges: bytes`, so a multi-GB Common Crawl
 * file survives a reset connection without starting over. Also expands globs into parts.
 */
import { isAbsolute, resolve } from 'node:path';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';
import type { Dispatcher } from 'undici';
import { lazyPackage } from '../../../engine/modules/lazy.ts';

const undici = lazyPackage<typeof import('undici')>('undici');
import type { PlanContext, SourcePart, StorageLike } from '../../../engine/types.ts';

let agent: Dispatcher | undefined;
/** One keep-alive agent that follows up to 5 redirects, shared by every HTTP input. */
function dispatcher(): Dispatcher {
  const { Agent, interceptors } = undici();
  return (agent ??= new Agent().compose(interceptors.redirect({ maxRedirections: 5 })));
}

const isHttp = (u: string) => /^https?:\/\//i.test(u);
const isS3 = (u: string) => u.startsWith('s3://');
const hasGlob = (u: string) => /[*?[\]{}]/.test(u);

/** Opens `uri` as a stream of byte chunks. Errors name the URI. */
export async function openInput(uri: string, s: StorageLike, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array>> {
  if (isHttp(uri)) return httpStream(uri, signal);
  return (await s.readStream(uri)) as AsyncIterable<Uint8Array>;
}

/** Streams an HTTP(S) resource, resuming with `Range` after a dropped connection (up to 5 times). */
async function* httpStream(url: string, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  let got = 0;
  let ranges = false;
  for (let attempt = 0; ; attempt++) {
    const headers: Record<string, string> = { 'user-agent': 'sluice (read.warc)' };
    if (got > 0) headers.range = `bytes=${got}-`;
    let res;
    try {
      res = await undici().request(url, { headers, signal, dispatcher: dispatcher() });
    } catch (e) {
      if (attempt < 5 && (got === 0 || ranges)) {
        await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
        continue;
      }
      throw new Error(`cannot read ${url}: ${(e as Error).message}`);
    }
    if (got > 0 && res.statusCode !== 206) {
      await res.body.dump();
      throw new Error(`cannot read ${url}: connection dropped at byte ${got} and the server did not honour a Range request (HTTP ${res.statusCode})`);
    }
    if (got === 0 && res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`cannot read ${url}: HTTP ${res.statusCode}`);
    }
    if (got === 0) ranges = String(res.headers['accept-ranges'] ?? '').includes('bytes');
    try {
      for await (const c of res.body) {
        got += c.length;
        yield c as Uint8Array;
      }
      return;
    } catch (e) {
      if (signal?.aborted || !ranges || attempt >= 5) throw new Error(`cannot read ${url}: ${(e as Error).message} at byte ${got}`);
      await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
    }
  }
}

/** HEAD of an HTTP resource: size and a version token (ETag, else Last-Modified). */
async function httpStat(url: string): Promise<{ size: number; version: string }> {
  const res = await undici().request(url, { method: 'HEAD', headers: { 'user-agent': 'sluice (read.warc)' }, dispatcher: dispatcher() });
  await res.body.dump();
  if (res.statusCode >= 400) throw new Error(`cannot read ${url}: HTTP ${res.statusCode}`);
  const size = Number(res.headers['content-length'] ?? -1);
  const version = String(res.headers.etag ?? res.headers['last-modified'] ?? '');
  return { size, version };
}

/**
 * Expands inputs (paths, globs relative to the pipeline directory, `s3://` prefixes with globs,
 * `http(s)://` URLs) into one part per file, keyed by uri, size and version. Throws when an input
 * matches nothing, naming it.
 */
export async function planParts(op: string, inputs: readonly string[], ctx: PlanContext): Promise<SourcePart[]> {
  const parts: SourcePart[] = [];
  for (const input of inputs) {
    const found: Array<{ uri: string; size: number; version: string }> = [];
    if (isHttp(input)) {
      found.push({ uri: input, ...(await httpStat(input)) });
    } else if (isS3(input)) {
      if (hasGlob(input)) {
        const cut = input.search(/[*?[\]{}]/);
        const prefix = input.slice(0, input.lastIndexOf('/', cut) + 1);
        const match = picomatch(input.slice(prefix.length));
        for (const e of await ctx.storage.list(prefix)) if (match(e.uri.slice(prefix.length))) found.push(e);
      } else {
        found.push(...(await ctx.storage.list(input)));
      }
    } else {
      const path = input.startsWith('file://') ? decodeURIComponent(input.slice(7)) : input;
      if (hasGlob(path)) {
        const files = await glob(path, { cwd: ctx.baseDir, absolute: true, onlyFiles: true });
        for (const f of files.sort()) found.push(...(await ctx.storage.list(f)));
      } else {
        const abs = isAbsolute(path) ? path : resolve(ctx.baseDir, path);
        const st = await ctx.storage.stat(abs);
        if (st) found.push(st);
      }
    }
    if (!found.length) throw new Error(`${op}: input '${input}' matches no file`);
    for (const f of found) parts.push({ key: `${f.uri}|${f.size}|${f.version}`, uri: f.uri, size: f.size });
  }
  return parts;
}
