/**
 * Random-access reads of byte ranges from artifact files (verification fetches the shingle set
 * of a bucket member by offset). Local files are read with `pread` through a small cache of open
 * handles; `s3://` objects with ranged GETs.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { isRemote, normalise, storage } from '../../engine/storage/index.ts';

export class RangeReader {
  private handles = new Map<string, FileHandle>();
  constructor(private readonly maxOpen = 64) {}

  /** Bytes `[start, end)` of `uri`. */
  async read(uri: string, start: number, end: number): Promise<Uint8Array> {
    if (end <= start) return new Uint8Array(0);
    if (isRemote(uri)) {
      const s = await storage.readStream(uri, start, end);
      const parts: Uint8Array[] = [];
      for await (const c of s as AsyncIterable<Uint8Array>) parts.push(c);
      return Buffer.concat(parts);
    }
    const path = normalise(uri);
    let h = this.handles.get(path);
    if (!h) {
      if (this.handles.size >= this.maxOpen) {
        const [oldest, fh] = this.handles.entries().next().value as [string, FileHandle];
        this.handles.delete(oldest);
        await fh.close();
      }
      h = await open(path, 'r');
      this.handles.set(path, h);
    }
    const buf = Buffer.allocUnsafe(end - start);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await h.read(buf, got, buf.length - got, start + got);
      if (bytesRead === 0) throw new Error(`${uri}: short read at ${start + got} (wanted up to ${end})`);
      got += bytesRead;
    }
    return buf;
  }

  async close(): Promise<void> {
    for (const h of this.handles.values()) await h.close();
    this.handles.clear();
  }
}
