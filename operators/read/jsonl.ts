/**
 * `read.jsonl(glob)`: JSON Lines documents from local files or `s3://`, plain, `.gz` or `.zst`.
 * Plain files larger than `splitBytes` are split into byte ranges, one task each: a task starts
 * at the first line beginning inside its range and reads through the line that crosses its end,
 * so every line is read exactly once whatever the split.
 */
import { createGunzip } from 'node:zlib';
import { Transform, type Readable } from 'node:stream';
import { Decompress } from 'fzstd';
import { z } from 'zod';
import type { Doc, DocMeta, Json, Source, SourcePart, TaskContext } from '../../engine/types.ts';
import { parseConfig } from '../../engine/operator.ts';
import { expandInputs, inputLabel } from './files.ts';
import { toJson } from '../../engine/json.ts';

const Config = z.strictObject({
  paths: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  /** Plain files above this size are split into byte-range tasks (default 64 MiB). */
  splitBytes: z.number().int().positive().default(64 * 1024 * 1024),
  /** Field holding the document id; records without it get `<file>#<offset>` (default `id`). */
  idField: z.string().default('id'),
  /** Field holding the text (default `text`). */
  textField: z.string().default('text'),
  /** Docs per batch (default 512). */
  batchSize: z.number().int().positive().default(512),
});

/** Options of `read.jsonl`. */
export type JsonlOptions = Partial<Omit<z.input<typeof Config>, 'paths'>>;

type Compression = 'gzip' | 'zstd' | 'none';
function compressionOf(uri: string): Compression {
  if (/\.gz$/i.test(uri)) return 'gzip';
  if (/\.zst$/i.test(uri)) return 'zstd';
  return 'none';
}

function zstdStream(): Transform {
  let d: Decompress;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      try {
        d.push(chunk);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    flush(cb) {
      try {
        d.push(new Uint8Array(0), true);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
  });
  d = new Decompress((chunk) => t.push(Buffer.from(chunk)));
  return t;
}

/** Yields `[offset, lineBytes]` for each newline-terminated (or final) line of a byte stream. */
export async function* lines(stream: AsyncIterable<Buffer>, base = 0): AsyncIterable<[number, Buffer]> {
  let carry: Buffer | undefined;
  let carryOffset = base;
  let pos = base;
  for await (const chunk of stream) {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      if (carry) {
        yield [carryOffset, Buffer.concat([carry, piece])];
        carry = undefined;
      } else yield [pos + start, piece];
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      if (carry) carry = Buffer.concat([carry, rest]);
      else {
        carry = Buffer.from(rest);
        carryOffset = pos + start;
      }
    }
    pos += chunk.length;
  }
  if (carry && carry.length) yield [carryOffset, carry];
}

/** Turns one parsed record into a doc, or a reason it cannot be one. */
function toDoc(rec: unknown, cfg: z.output<typeof Config>, label: string, offset: number): Doc | string {
  if (!rec || typeof rec !== 'object' || Array.isArray(rec)) return 'record is not a JSON object';
  const r = rec as Record<string, unknown>;
  const text = r[cfg.textField];
  if (typeof text !== 'string') return `field '${cfg.textField}' is ${text === undefined ? 'missing' : `a ${typeof text}, not a string`}`;
  const rawId = r[cfg.idField];
  const id = typeof rawId === 'string' && rawId ? rawId : typeof rawId === 'number' ? String(rawId) : `${label}#${offset}`;
  const meta: DocMeta = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === cfg.textField || k === cfg.idField) continue;
    if (k === 'meta' && v && typeof v === 'object' && !Array.isArray(v)) Object.assign(meta, v);
    else meta[k] = v;
  }
  meta.source ??= `${label}#${offset}`;
  return { id, text, meta };
}

/**
 * Reads JSON Lines documents. Each line is one object with a `text` string (configurable) and
 * optionally an `id`; other fields (and a nested `meta` object) become `meta`. A line that is not
 * valid JSON or lacks the text field is skipped and recorded in the audit with its reason.
 * Defaults: split plain files above 64 MiB into byte ranges, batches of 512 docs.
 */
export function jsonl(paths: string | string[], options: JsonlOptions = {}): Source {
  const cfg = parseConfig('read.jsonl', Config, { ...options, paths });
  return {
    kind: 'source',
    type: 'read.jsonl',
    name: 'read.jsonl',
    version: '1',
    config: toJson(cfg),
    async plan(ctx) {
      const files = await expandInputs(cfg.paths, ctx);
      const parts: SourcePart[] = [];
      for (const f of files) {
        if (compressionOf(f.uri) === 'none' && f.size > cfg.splitBytes) {
          for (let start = 0; start < f.size; start += cfg.splitBytes) {
            const end = Math.min(f.size, start + cfg.splitBytes);
            parts.push({ key: `${f.uri}|${f.size}|${f.version}|${start}-${end}`, uri: f.uri, start, end, size: end - start });
          }
        } else parts.push({ key: `${f.uri}|${f.size}|${f.version}`, uri: f.uri, size: f.size });
      }
      return parts;
    },
    async *read(part, ctx: TaskContext) {
      const label = inputLabel(part.uri, ctx.baseDir);
      const comp = compressionOf(part.uri);
      const start = part.start ?? 0;
      const end = part.end ?? Infinity;
      // A range task reads from one byte early: the first line counts only if it starts at `start`.
      const from = start > 0 ? start - 1 : 0;
      let raw: Readable = await ctx.storage.readStream(part.uri, from > 0 ? from : undefined);
      if (comp === 'gzip') raw = raw.pipe(createGunzip());
      else if (comp === 'zstd') raw = raw.pipe(zstdStream());
      let batch: Doc[] = [];
      let first = start > 0;
      try {
        for await (const [offset, buf] of lines(raw as AsyncIterable<Buffer>, from)) {
          if (first) {
            first = false;
            continue; // the tail of the line before our range (or the newline ending it)
          }
          if (offset >= end) break;
          if (buf.length === 0 || (buf.length === 1 && buf[0] === 0x0d)) continue;
          let rec: unknown;
          try {
            rec = JSON.parse(buf.toString('utf8'));
          } catch (e) {
            ctx.audit.skip(`${label}#${offset}`, 'invalid JSON', { error: (e as Error).message, prefix: buf.subarray(0, 80).toString('utf8') });
            continue;
          }
          const doc = toDoc(rec, cfg, label, offset);
          if (typeof doc === 'string') {
            ctx.audit.skip(`${label}#${offset}`, 'not a document', { error: doc });
            continue;
          }
          batch.push(doc);
          if (batch.length >= cfg.batchSize) {
            yield batch;
            batch = [];
          }
        }
      } catch (e) {
        // A damaged compressed stream keeps every record before the damage; the rest is recorded.
        if (comp === 'none') throw new Error(`${label}: read failed: ${(e as Error).message}`);
        ctx.audit.skip(label, 'corrupt or truncated compressed input', { error: (e as Error).message });
      }
      if (batch.length) yield batch;
    },
  };
}
