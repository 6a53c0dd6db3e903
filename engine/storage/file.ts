/**
 * Local-disk backend: atomic writes by temporary file + rename within the same directory. Every
 * error names the file it concerns and keeps the system error code (`ENOSPC`, `EACCES`, …):
 * Node's own messages for a failed write or a stream read carry no path.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { access, constants, mkdir, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
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

/** An error that says what failed on which path, keeping the original's `code`, `syscall` and cause. */
export function fileError(action: string, path: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.message === 'string' && err.message.startsWith(`cannot ${action} ${path}:`)) return err;
  const out = new Error(`cannot ${action} ${path}: ${err?.message ?? String(e)}`, { cause: e }) as NodeJS.ErrnoException;
  if (err?.code) out.code = err.code;
  if (err?.syscall) out.syscall = err.syscall;
  return out;
}

/**
 * `mkdir -p` whose failure says what it is. Node's recursive mkdir reports ENOENT when a parent
 * cannot be created on a read-only file system (measured: a read-only bind mount, as root); the
 * real reason is found by creating the first missing directory on its own, or by a write-access
 * check of the deepest existing one.
 */
export async function ensureDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    return;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError('create directory', dir, e);
    let existing = dir;
    let child = dir;
    while (!(await stat(existing).then((st) => st.isDirectory(), () => false))) {
      const up = dirname(existing);
      if (up === existing) throw fileError('create directory', dir, e);
      child = existing;
      existing = up;
    }
    try {
      await mkdir(child);
    } catch (real) {
      if ((real as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError('create directory', `${dir} (at ${child})`, real);
    }
    try {
      await access(existing, constants.W_OK);
    } catch (real) {
      throw fileError('create directory', `${dir} (in ${existing})`, real);
    }
    throw fileError('create directory', dir, e);
  }
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
    const rs =
      end !== undefined && start !== undefined && end <= start
        ? createReadStream(uri, { start: 0, end: -1 })
        : createReadStream(uri, { start, end: end === undefined ? undefined : end - 1, highWaterMark: 1 << 20 });
    // A read error (EIO, EISDIR) says only 'read': name the file before any consumer sees it.
    rs.on('error', (e: NodeJS.ErrnoException) => {
      if (!e.message.includes(uri)) e.message = `cannot read ${uri}: ${e.message}`;
    });
    return rs;
  }
  async write(uri: string, data: Uint8Array | string): Promise<void> {
    await ensureDir(dirname(uri));
    const tmp = tempName(uri);
    try {
      await writeFile(tmp, data);
      await rename(tmp, uri);
    } catch (e) {
      await rm(tmp, { force: true });
      throw fileError('write', uri, e);
    }
  }
  async writer(uri: string): Promise<AtomicWriter> {
    await ensureDir(dirname(uri));
    const tmp = tempName(uri);
    const ws: WriteStream = createWriteStream(tmp);
    let failed: Error | undefined;
    ws.on('error', (e) => (failed = fileError('write', uri, e)));
    const check = () => {
      if (failed) throw failed;
    };
    return {
      async write(chunk: Uint8Array) {
        check();
        if (ws.write(chunk)) return;
        try {
          await once(ws, 'drain');
        } catch (e) {
          throw failed ?? fileError('write', uri, e);
        }
      },
      async commit() {
        check();
        ws.end();
        try {
          await once(ws, 'finish');
          await rename(tmp, uri);
        } catch (e) {
          throw failed ?? fileError('write', uri, e);
        }
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
