/**
 * `read.parquet(glob)`: documents from Parquet files, local or `s3://`, one task per file,
 * streamed a record batch at a time. Files in Sluice's doc schema (`id`, `text`, `url`, `meta`
 * JSON, `tokens`) round-trip exactly; other files (e.g. Hugging Face exports) need a text column
 * (`textField`, default `text`), and their other scalar columns become `meta`.
 */
import { z } from 'zod';
import type { Doc, DocMeta, Source } from '../../engine/types.ts';
import { parseConfig } from '../../engine/operator.ts';
import { readParquetTables } from '../../engine/parquet.ts';
import { tableToDocs } from '../../formats/doc.ts';
import { expandInputs, inputLabel } from './files.ts';
import { toJson } from '../../engine/json.ts';
import { ReadTally } from './records.ts';

const Config = z.strictObject({
  paths: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  /** Column with the text (default `text`). */
  textField: z.string().default('text'),
  /** Column with the id; rows without one get `<file>#<row>` (default `id`). */
  idField: z.string().default('id'),
  /** Rows per batch (default 512). */
  batchSize: z.number().int().positive().default(512),
});

/** Options of `read.parquet`. */
export type ParquetOptions = Partial<Omit<z.input<typeof Config>, 'paths'>>;

function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (v && typeof v === 'object' && 'toJSON' in v && typeof (v as { toJSON: unknown }).toJSON === 'function') return (v as { toJSON(): unknown }).toJSON();
  return v;
}

/**
 * Reads Parquet documents; a row whose text is not a string is skipped with its reason, and a
 * file of which no row is a document fails its task with an error naming it.
 */
export function parquet(paths: string | string[], options: ParquetOptions = {}): Source {
  const cfg = parseConfig('read.parquet', Config, { ...options, paths });
  return {
    kind: 'source',
    type: 'read.parquet',
    name: 'read.parquet',
    version: '1',
    config: toJson(cfg),
    async plan(ctx) {
      const files = await expandInputs(cfg.paths, ctx);
      return files.map((f) => ({ key: `${f.uri}|${f.size}|${f.version}`, uri: f.uri, size: f.size }));
    },
    async *read(part, ctx) {
      const label = inputLabel(part.uri, ctx.baseDir);
      const tally = new ReadTally();
      let row = 0;
      for await (const t of readParquetTables(part.uri, { batchSize: cfg.batchSize })) {
        const names = t.schema.fields.map((f) => f.name);
        if (!names.includes(cfg.textField)) throw new Error(`${label}: no column '${cfg.textField}' (columns: ${names.join(', ')})`);
        const isDocSchema = cfg.textField === 'text' && cfg.idField === 'id' && names.includes('meta') && names.includes('id');
        if (isDocSchema) {
          row += t.numRows;
          const docs = tableToDocs(t);
          tally.records += docs.length;
          yield docs;
          continue;
        }
        const out: Doc[] = [];
        const cols = names.map((n) => [n, t.getChild(n)!] as const);
        for (let i = 0; i < t.numRows; i++, row++) {
          const meta: DocMeta = {};
          let text: unknown;
          let id: unknown;
          for (const [n, col] of cols) {
            const v = col.get(i);
            if (n === cfg.textField) text = v;
            else if (n === cfg.idField) id = plain(v);
            else meta[n] = plain(v);
          }
          if (typeof text !== 'string') {
            const error = `column '${cfg.textField}' is ${text === null ? 'null' : typeof text}`;
            tally.skip({ kind: 'skip', offset: row, line: row + 1, reason: 'not a document', details: { error } });
            ctx.audit.skip(`${label}#${row}`, 'not a document', { error });
            continue;
          }
          tally.ok();
          meta.source ??= `${label}#${row}`;
          out.push({ id: id !== undefined && id !== null && id !== '' ? String(id) : `${label}#${row}`, text, meta });
        }
        if (out.length) yield out;
      }
      tally.check(`read.parquet ${label}`);
    },
  };
}
