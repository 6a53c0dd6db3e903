/**
 * `read.jsonl(glob)`: JSON Lines documents from local files or `s3://`, plain, gzip or zstd
 * (decided by the first bytes, not the name), UTF-8, or UTF-16/32 with a byte-order mark, or an
 * explicit `encoding`. Plain UTF-8 files larger than `splitBytes` are split into byte ranges,
 * one task each: a task starts at the first line beginning inside its range and reads through
 * the line that crosses its end, so every line is read exactly once whatever the split.
 */
import { z } from 'zod';
import type { Doc, DocMeta, Source, SourcePart, TaskContext } from '../../engine/types.ts';
import { parseConfig } from '../../engine/operator.ts';
import { expandInputs, inputLabel } from './files.ts';
import { toJson } from '../../engine/json.ts';
import { openInput, sniffInput, TEXT_ENCODINGS } from './open.ts';
import { DEFAULT_MAX_LINE_BYTES, jsonlRecords, ReadTally } from './records.ts';

const Config = z.strictObject({
  paths: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  /** Plain UTF-8 files above this size are split into byte-range tasks (default 64 MiB). */
  splitBytes: z.number().int().positive().default(64 * 1024 * 1024),
  /** Field holding the document id; records without it get `<file>#<offset>` (default `id`). */
  idField: z.string().default('id'),
  /** Field holding the text (default `text`). */
  textField: z.string().default('text'),
  /** Docs per batch (default 512). */
  batchSize: z.number().int().positive().default(512),
  /**
   * Text encoding (default `auto`: a byte-order mark picks UTF-8, UTF-16LE/BE or UTF-32LE/BE,
   * else UTF-8). A line that is not valid in it is skipped as `read.invalidUtf8` (or
   * `read.invalidEncoding`); a Latin-1 file needs `encoding: 'latin1'`.
   */
  encoding: z.enum(TEXT_ENCODINGS).default('auto'),
  /** Longest line read, in bytes (default 256 MiB); a longer one is skipped as `read.lineTooLong` without being held in memory. */
  maxLineBytes: z.number().int().positive().default(DEFAULT_MAX_LINE_BYTES),
});

/** Options of `read.jsonl`. */
export type JsonlOptions = Partial<Omit<z.input<typeof Config>, 'paths'>>;

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
 * valid JSON, not valid text in the encoding, longer than `maxLineBytes` or lacks the text field
 * is skipped and recorded in the audit with its reason; a truncated or corrupt compressed file
 * keeps the records before the damage and records a `read.truncated`/`read.corrupt` skip naming
 * the file and how far it got. A task of which no line could be read fails with an error naming
 * the file. Defaults: encoding `auto`, lines up to 256 MiB, split plain files above 64 MiB into
 * byte ranges, batches of 512 docs.
 */
export function jsonl(paths: string | string[], options: JsonlOptions = {}): Source {
  const cfg = parseConfig('read.jsonl', Config, { ...options, paths });
  return {
    kind: 'source',
    type: 'read.jsonl',
    name: 'read.jsonl',
    version: '2',
    config: toJson(cfg),
    async plan(ctx) {
      const files = await expandInputs(cfg.paths, ctx);
      const parts: SourcePart[] = [];
      for (const f of files) {
        // Only a plain file in a byte-oriented encoding can be cut at arbitrary byte offsets.
        let splittable = false;
        if (f.size > cfg.splitBytes) {
          const { compression, bom } = await sniffInput(f.uri, ctx.storage);
          const enc = cfg.encoding === 'auto' ? (bom ?? 'utf-8') : cfg.encoding;
          splittable = compression === 'none' && (enc === 'utf-8' || enc === 'latin1' || enc === 'windows-1252');
        }
        if (splittable) {
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
      const start = part.start ?? 0;
      // A range task reads from one byte early: the first line counts only if it starts at `start`.
      const from = start > 0 ? start - 1 : 0;
      const input = await openInput(part.uri, { storage: ctx.storage, start: from, encoding: cfg.encoding });
      const tally = new ReadTally();
      let batch: Doc[] = [];
      for await (const ev of jsonlRecords(input, { base: from, skipFirst: start > 0, end: part.end, maxLineBytes: cfg.maxLineBytes })) {
        const where = `${label}#${ev.offset}`;
        if (ev.kind === 'skip') {
          tally.skip(ev);
          // A damaged stream is recorded against the file; a bad line against its offset.
          ctx.audit.skip(ev.reason === 'read.truncated' || ev.reason === 'read.corrupt' ? label : where, ev.reason, ev.details);
          continue;
        }
        const doc = toDoc(ev.value, cfg, label, ev.offset);
        if (typeof doc === 'string') {
          tally.skip({ kind: 'skip', offset: ev.offset, line: ev.line, reason: 'not a document', details: { error: doc } }, ev.raw);
          ctx.audit.skip(where, 'not a document', { error: doc });
          continue;
        }
        tally.ok();
        batch.push(doc);
        if (batch.length >= cfg.batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
      tally.check(`read.jsonl ${label}${part.start !== undefined ? ` bytes ${part.start}-${part.end}` : ''}`, input);
    },
  };
}
