/** Local-disk backend: atomic writes by temporary file + rename within the same directory. */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { once } from 'node:events';
import type { AtomicWriter, Backend, Entry } from './index.ts';

let counter = 0;
/** A temporary sibling name; the `.tmp-` infix marks it for cleanup and for listings to skip. */
export function tempName(path: string): string {
  return `${path}.tmp-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

/** True for the temporary files atomic writes leave behind when killed. */
export function isTempName(path: string): boolean {
  return /\.tmp-\d+-[0-9a-z]+-[0-9a-z]+$/.test(path);
}

export class FileStorage implements Backend {
  async exists(uri: string): Promise<boolean> {
    try {
      await stat(uri);
      return true;
    } catch {
      return false;
    }
  }
  async stat(uri: string): Promise<Entry | null> {
    try {
      const s = await stat(uri);
      return { uri, size: s.size, version: String(Math.floor(s.mtimeMs)) };
    } catch {
      return null;
    }
  }
  async read(uri: string): Promise<Uint8Array> {
    try {
      return await readFile(uri);
    } catch (e) {
      throw new Error(`cannot read ${uri}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  async readStream(uri: string, start?: number, end?: number): Promise<Readable> {
    if (!(await this.exists(uri))) throw new Error(`cannot read ${uri}: no such file`);
    if (end !== undefined && start !== undefined && end <= start) return createReadStream(uri, { start: 0, end: -1 });
    return createReadStream(uri, { start, end: end === undefined ? undefined : end - 1, highWaterMark: 1 << 20 });
  }
  async write(uri: string, data: Uint8Array | string): Promise<void> {
    await mkdir(dirname(uri), { recursive: true });
    const tmp = tempName(uri);
    try {
      await writeFile(tmp, data);
      await rename(tmp, uri);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }
  async writer(uri: string): Promise<AtomicWriter> {
    await mkdir(dirname(uri), { recursive: true });
    const tmp = tempName(uri);
    const ws: WriteStream = createWriteStream(tmp);
    let failed: Error | undefined;
    ws.on('error', (e) => (failed = e));
    return {
      async write(chunk: Uint8Array) {
        if (failed) throw failed;
        if (!ws.write(chunk)) await once(ws, 'drain');
      },
      async commit() {
        if (failed) throw failed;
        ws.end();
        await once(ws, 'finish');
        await rename(tmp, uri);
      },
      async abort() {
        ws.destroy();
        await unlink(tmp).catch(() => {});
      },
    };
  }
  async list(prefix: string): Promise<Entry[]> {
    const out: Entry[] = [];
    const s = await stat(prefix).catch(() => null);
    if (!s) return out;
    if (!s.isDirectory()) return [{ uri: prefix, size: s.size, version: String(Math.floor(s.mtimeMs)) }];
    const walk = async (dir: string) => {
      const entries = await readdir(dir, { withFileTypes: true });
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.isFile() && !isTempName(p)) {
          const st = await stat(p);
          out.push({ uri: p, size: st.size, version: String(Math.floor(st.mtimeMs)) });
        }
      }
    };
    await walk(prefix);
    return out.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }
  async removeTemps(prefix: string): Promise<number> {
    let n = 0;
    const walk = async (dir: string) => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (isTempName(p)) {
          await rm(p, { force: true });
          n++;
        }
      }
    };
    await walk(prefix);
    return n;
  }
  async delete(uri: string): Promise<void> {
    await rm(uri, { force: true });
  }
  async deletePrefix(prefix: string): Promise<void> {
    await rm(prefix, { recursive: true, force: true });
  }
}
