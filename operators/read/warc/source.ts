/**
 * The `read.warc`, `read.wet` and `read.arc` sources: one part (task) per input file, each read
 * as a stream (plain or gzip, one record per member or whole-file gzip), yielding docs in batches.
 * Malformed records are skipped into the audit with their reason; a file in which no record can
 * be found at all is an error naming the file.
 */
import { z } from 'zod';
import { parseConfig } from '../../../engine/operator.ts';
import type { Doc, Json, Source, SourcePart, TaskContext } from '../../../engine/types.ts';
import { parseArc } from './arc.ts';
import { SegmentReader } from './bytes.ts';
import { HTML_TYPES, cleanUri, docFromRecord, type DocOptions } from './doc.ts';
import { segments } from './gzip.ts';
import { openInput, planParts } from './input.ts';
import { field, parseWarc, type Fields } from './record.ts';

const optionsSchema = z
  .object({
    recordTypes: z.array(z.string().min(1)).min(1).optional(),
    mimeTypes: z.union([z.array(z.string().min(1)), z.literal('*'), z.null()]).optional(),
    maxRecordBytes: z.number().int().positive().optional(),
    batchSize: z.number().int().positive().optional(),
    name: z.string().min(1).optional(),
  })
  .strict();

/** Options of `read.warc` / `read.wet` / `read.arc`. */
export interface WarcReadOptions {
  /**
   * WARC-Type values that become docs. Default `['response']` for read.warc, `['conversion']` for
   * read.wet. `revisit` records carry no payload: unless listed here they are skipped and counted
   * (audit reason `revisit record`).
   */
  recordTypes?: string[];
  /**
   * MIME allow-list (lower-case, no parameters) on the payload's type. Default HTML
   * (`text/html`, `application/xhtml+xml`) for read.warc and read.arc, all (`'*'`) for read.wet.
   * Others are skipped with reason `mime-not-allowed`.
   */
  mimeTypes?: string[] | '*' | null;
  /** Records with a larger block are streamed past and skipped (default 32 MiB). */
  maxRecordBytes?: number;
  /** Docs per yielded batch (default 256). */
  batchSize?: number;
  /** Instance name (default: the type). */
  name?: string;
}

type Kind = 'read.warc' | 'read.wet' | 'read.arc';

/** Counts the bytes flowing through a stream (for progress). */
async function* counted(input: AsyncIterable<Uint8Array>, onBytes: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const c of input) {
    onBytes(c.length);
    yield c;
  }
}

function makeSource(kind: Kind, inputs: string | string[], options: WarcReadOptions | undefined): Source {
  const list = typeof inputs === 'string' ? [inputs] : inputs;
  if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string' || !s)) {
    throw new Error(`${kind}: expected a path, glob or URI (or a non-empty list of them), got ${JSON.stringify(inputs)}`);
  }
  const o = parseConfig(kind, optionsSchema, options ?? {});
  const recordTypes = (o.recordTypes ?? (kind === 'read.wet' ? ['conversion'] : ['response'])).map((t) => t.toLowerCase());
  const mime = o.mimeTypes === undefined ? (kind === 'read.wet' ? '*' : [...HTML_TYPES]) : o.mimeTypes;
  const maxRecordBytes = o.maxRecordBytes ?? 32 << 20;
  const batchSize = o.batchSize ?? 256;
  const docOpts: DocOptions = { mimeTypes: mime === '*' || mime === null ? null : mime.map((m) => m.toLowerCase()), maxBytes: Math.max(maxRecordBytes, 64 << 20) };
  const types = new Set(recordTypes);
  const config: Json = { inputs: [...list], recordTypes, mimeTypes: docOpts.mimeTypes ? [...docOpts.mimeTypes] : null, maxRecordBytes };
  const name = o.name ?? kind;
  const countRevisits = !types.has('revisit');

  return {
    kind: 'source',
    type: kind,
    name,
    version: '1',
    config,
    plan: (ctx) => planParts(kind, list, ctx),
    async *read(part: SourcePart, ctx: TaskContext): AsyncIterable<Doc[]> {
      const uri = part.uri;
      if (part.size !== undefined && part.size >= 0) ctx.progress.total(part.size);
      let pendingBytes = 0;
      const raw = await openInput(uri, ctx.storage, ctx.signal);
      const reader = new SegmentReader(segments(counted(raw, (n) => (pendingBytes += n)))[Symbol.asyncIterator]());
      let batch: Doc[] = [];
      let records = 0;
      let skipped = 0;
      const handle = (fields: Fields, block: Buffer | undefined, locator: string, warnings?: string[]): Doc | undefined => {
        const type = (field(fields, 'warc-type') ?? '').toLowerCase();
        if (type === 'revisit' && countRevisits) {
          ctx.audit.skip(uri, 'revisit record', { source: uri + locator, url: cleanUri(field(fields, 'warc-target-uri')) ?? null });
          return undefined;
        }
        if (!types.has(type)) return undefined;
        if (!block) {
          ctx.audit.skip(uri, 'record over maxRecordBytes', { source: uri + locator, maxRecordBytes });
          return undefined;
        }
        const built = docFromRecord(fields, block, uri + locator, docOpts);
        if (built.kind === 'skip') {
          ctx.audit.skip(uri, built.reason, built.details);
          return undefined;
        }
        if (warnings) built.doc.meta.warnings = [...warnings, ...((built.doc.meta.warnings as string[] | undefined) ?? [])];
        return built.doc;
      };
      const want = (fields: Fields) => types.has((field(fields, 'warc-type') ?? '').toLowerCase());
      const events = kind === 'read.arc' ? parseArc(reader, { maxRecordBytes }) : parseWarc(reader, { maxRecordBytes, want });
      try {
        for await (const ev of events) {
          if (ev.kind === 'skip') {
            skipped++;
            ctx.audit.skip(uri, ev.skip.reason, ev.skip.details);
            continue;
          }
          records++;
          const doc = handle(ev.record.fields, ev.record.block, ev.record.locator, 'warnings' in ev.record ? ev.record.warnings : undefined);
          if (doc) batch.push(doc);
          if (batch.length >= batchSize) {
            ctx.progress.add(batch.length, pendingBytes);
            pendingBytes = 0;
            yield batch;
            batch = [];
          }
          if (ctx.signal.aborted) throw new Error(`${kind}: ${uri}: aborted`);
        }
      } catch (e) {
        const msg = (e as Error).message;
        throw new Error(msg.includes(uri) ? msg : `${kind}: cannot read ${uri}: ${msg}`, { cause: e });
      }
      if (records === 0 && reader.bytesRead > 0) {
        const what = kind === 'read.arc' ? 'ARC' : 'WARC';
        throw new Error(`${kind}: ${uri} is not a ${what} file: no ${what} record found in ${reader.bytesRead} bytes${skipped ? ` (${skipped} unreadable spans)` : ''}`);
      }
      ctx.progress.add(batch.length, pendingBytes);
      if (batch.length) yield batch;
    },
  };
}

/**
 * `read.warc(inputs, options)`: docs from WARC files (local paths, globs relative to the pipeline,
 * `s3://` with globs, `http(s)://`), plain or gzipped. Each doc's text is the HTTP payload decoded
 * to UTF-8; `meta` has `url`, `warcRecordId`, `warcDate`, `contentType`, `httpStatus`,
 * `charset`/`charsetSource`, and `source` = `<file>#<offset>` (compressed member offset for gzip).
 * Defaults: `response` records, HTML only, revisits skipped and counted.
 */
export function warc(inputs: string | string[], options?: WarcReadOptions): Source {
  return makeSource('read.warc', inputs, options);
}

/**
 * `read.wet(inputs, options)`: docs from WET files (Common Crawl's extracted text): `conversion`
 * records, any MIME type; `meta.languages` carries `WARC-Identified-Content-Language`.
 */
export function wet(inputs: string | string[], options?: WarcReadOptions): Source {
  return makeSource('read.wet', inputs, options);
}

/** `read.arc(inputs, options)`: docs from ARC v1/v2 files (plain or gzipped), HTML by default. */
export function arc(inputs: string | string[], options?: WarcReadOptions): Source {
  return makeSource('read.arc', inputs, options);
}
