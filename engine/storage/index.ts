/**
 * One storage interface over local paths (`/x`, `./x`, `file:///x`) and `s3://bucket/prefix`.
 * Every write is atomic: a local write goes to a temporary name then `rename`s; an S3 write is a
 * single PUT or a multipart upload that becomes visible only when completed.
 */
import type { Readable } from 'node:stream';
import type { StorageLike } from '../types.ts';
import { FileStorage } from './file.ts';

/** An object or file with its size and a version token (mtime for files, ETag for S3). */
export interface Entry {
  uri: string;
  size: number;
  version: string;
}

/** An atomic streaming writer: nothing is visible at `uri` until `commit()` resolves. */
export interface AtomicWriter {
  write(chunk: Uint8Array): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

/** A storage backend. URIs are absolute paths or `s3://` URLs. */
export interface Backend {
  exists(uri: string): Promise<boolean>;
  stat(uri: string): Promise<Entry | null>;
  read(uri: string): Promise<Uint8Array>;
  /** A byte stream of `[start, end)` (end exclusive; default: to the end). */
  readStream(uri: string, start?: number, end?: number): Promise<Readable>;
  write(uri: string, data: Uint8Array | string): Promise<void>;
  writer(uri: string): Promise<AtomicWriter>;
  /** All objects under a prefix (recursive), sorted by URI. */
  list(prefix: string): Promise<Entry[]>;
  delete(uri: string): Promise<void>;
  deletePrefix(prefix: string): Promise<void>;
  /** Removes what killed atomic writes left behind under a prefix; returns how many. */
  removeTemps(prefix: string): Promise<number>;
}

/** The storage facade operators and the engine use; dispatches on the URI scheme. */
export class Storage implements StorageLike {
  private readonly file = new FileStorage();
  // The AWS SDK takes ~1 s to import: loaded on the first s3:// URI only.
  private s3: Promise<Backend> | undefined;

  private async backend(uri: string): Promise<Backend> {
    if (uri.startsWith('s3://')) return (this.s3 ??= import('./s3.ts').then((m) => new m.S3Storage()));
    return this.file;
  }
  /** Joins path segments onto a base URI with single slashes. */
  join(base: string, ...parts: string[]): string {
    let out = base.replace(/\/+$/, '');
    for (const p of parts) {
      const seg = p.replace(/^\/+|\/+$/g, '');
      if (seg) out += '/' + seg;
    }
    return out;
  }
  async exists(uri: string) {
    return (await this.backend(uri)).exists(normalise(uri));
  }
  async stat(uri: string) {
    return (await this.backend(uri)).stat(normalise(uri));
  }
  async read(uri: string) {
    return (await this.backend(uri)).read(normalise(uri));
  }
  async readText(uri: string): Promise<string> {
    return Buffer.from(await this.read(uri)).toString('utf8');
  }
  async readJson<T>(uri: string): Promise<T> {
    const text = await this.readText(uri);
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new Error(`${uri}: invalid JSON: ${(e as Error).message}`);
    }
  }
  async readStream(uri: string, start?: number, end?: number) {
    return (await this.backend(uri)).readStream(normalise(uri), start, end);
  }
  async write(uri: string, data: Uint8Array | string) {
    return (await this.backend(uri)).write(normalise(uri), data);
  }
  async writer(uri: string) {
    return (await this.backend(uri)).writer(normalise(uri));
  }
  async list(prefix: string) {
    return (await this.backend(prefix)).list(normalise(prefix));
  }
  async delete(uri: string) {
    return (await this.backend(uri)).delete(normalise(uri));
  }
  async removeTemps(prefix: string) {
    return (await this.backend(prefix)).removeTemps(normalise(prefix));
  }
  async deletePrefix(prefix: string) {
    return (await this.backend(prefix)).deletePrefix(normalise(prefix));
  }
}

/** `file:///x` → `/x`; other URIs unchanged. */
export function normalise(uri: string): string {
  if (uri.startsWith('file://')) return decodeURIComponent(uri.slice('file://'.length));
  return uri;
}

/** True for a URI with a scheme (`s3://…`, `https://…`, `file://…`), false for a plain path. */
export function hasScheme(uri: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(uri);
}

/** True for remote URIs (anything with a scheme other than file://). */
export function isRemote(uri: string): boolean {
  return hasScheme(uri) && !uri.startsWith('file://');
}

/** The process-wide storage facade. */
export const storage = new Storage();
