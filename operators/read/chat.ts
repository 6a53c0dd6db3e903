/**
 * `read.chat(glob, { format })` and `read.preferences(glob, { format })`: conversations and
 * preference pairs from JSON Lines files, or JSON files holding one array of records
 * (AlpacaEval's `*.model_outputs.json`), local or `s3://`, plain, gzip or zstd (as `read.jsonl`
 * opens them). The formats are operators/read/chat-formats.ts's.
 *
 * A chat doc carries its messages in `meta.chat`, a preference doc its pair in
 * `meta.preference`; `text` is their plain rendering (formats/chat.ts `plainText`: for a pair,
 * prompt then chosen), so text filters, dedup and the audit work on them unchanged. Other scalar
 * fields of a record go to `meta`; `meta.source` is `file:line` (`file[index]` in a JSON array).
 *
 * A record that is not a conversation or pair (no assistant turn, an unknown role, a missing
 * field, a malformed JSON line) is skipped and recorded in the audit with its reason and an error
 * naming the file, line and field; a file of which nothing could be read fails the task.
 * `read.preferences` drops, audited, a pair whose chosen and rejected are identical
 * (`preferences.identical`) or whose prompt is empty (`preferences.emptyPrompt`).
 */
import { z } from 'zod';
import { toJson } from '../../engine/json.ts';
import { parseConfig } from '../../engine/operator.ts';
import type { Doc, DocMeta, Source, SourcePart, TaskContext } from '../../engine/types.ts';
import { plainText, type ChatMessage, type PreferenceRecord } from '../../formats/chat.ts';
import { CHAT_FORMATS, parseChatRecord, parsePreferenceRecord, preferenceDropReason, PREFERENCE_FORMATS, type RecordProblem } from './chat-formats.ts';
import { expandInputs, inputLabel } from './files.ts';
import { openInput, type OpenedInput } from './open.ts';
import { jsonlRecords, ReadTally, type JsonlEvent } from './records.ts';

/** Fields a format reads: not copied into `meta`. */
const CONSUMED = new Set(['id', 'messages', 'conversations', 'instruction', 'input', 'output', 'instances', 'system', 'chosen', 'rejected', 'prompt', 'text', 'meta']);

/** One record of a file: its place (`file:line` or `file[index]`) and value, or a skip. */
type Item = { kind: 'record'; where: string; line: number; offset: number; value: unknown } | { kind: 'skip'; where: string; event: Extract<JsonlEvent, { kind: 'skip' }> };

/** The records of a JSONL file, or of a JSON file whose first non-blank byte is `[` (one array). */
async function* fileRecords(input: OpenedInput, label: string): AsyncGenerator<Item> {
  const it = input.chunks[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let first = -1;
  while (first < 0) {
    const r = await it.next();
    if (r.done) break;
    head.push(r.value);
    const i = r.value.findIndex((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
    if (i >= 0) first = r.value[i]!;
  }
  async function* all(): AsyncGenerator<Buffer> {
    yield* head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  if (first !== 0x5b) {
    for await (const ev of jsonlRecords({ ...input, chunks: all() })) {
      const where = `${label}:${ev.line}`;
      if (ev.kind === 'skip') yield { kind: 'skip', where: ev.reason === 'read.truncated' || ev.reason === 'read.corrupt' ? label : where, event: ev };
      else yield { kind: 'record', where, line: ev.line, offset: ev.offset, value: ev.value };
    }
    return;
  }
  const parts: Buffer[] = [];
  for await (const b of all()) parts.push(b);
  let arr: unknown;
  try {
    arr = JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch (e) {
    yield { kind: 'skip', where: label, event: { kind: 'skip', offset: 0, line: 1, reason: 'invalid JSON', details: { error: `${label}: ${(e as Error).message}` } } };
    return;
  }
  if (!Array.isArray(arr)) return;
  for (const [i, value] of arr.entries()) yield { kind: 'record', where: `${label}[${i}]`, line: i + 1, offset: i, value };
}

function idAndMeta(rec: unknown, where: string, fallbackId: string): { id: string; meta: DocMeta } {
  const meta: DocMeta = { source: where };
  let id = fallbackId;
  if (rec !== null && typeof rec === 'object' && !Array.isArray(rec)) {
    const r = rec as Record<string, unknown>;
    if ((typeof r.id === 'string' && r.id) || typeof r.id === 'number') id = String(r.id);
    for (const [k, v] of Object.entries(r)) if (!CONSUMED.has(k) && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) meta[k] = v;
  }
  return { id, meta };
}

const common = {
  paths: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  /** Docs per batch (default 512). */
  batchSize: z.number().int().positive().default(512),
};
const ChatConfig = z.strictObject({ ...common, format: z.enum(CHAT_FORMATS).default('messages') });
const PreferenceConfig = z.strictObject({ ...common, format: z.enum(PREFERENCE_FORMATS).default('trl') });

/** Options of `read.chat`. */
export type ReadChatOptions = Partial<Omit<z.input<typeof ChatConfig>, 'paths'>>;
/** Options of `read.preferences`. */
export type ReadPreferencesOptions = Partial<Omit<z.input<typeof PreferenceConfig>, 'paths'>>;

/** A source reading records of files one task per file; `toDocs` turns one record into docs or a problem. */
function recordSource(type: string, cfg: { paths: string | string[]; batchSize: number }, config: unknown, toDocs: (rec: unknown, where: string, fallbackId: string, ctx: TaskContext) => Doc[] | RecordProblem): Source {
  return {
    kind: 'source',
    type,
    name: type,
    version: '1',
    config: toJson(config),
    async plan(ctx) {
      const files = await expandInputs(cfg.paths, ctx);
      return files.map((f): SourcePart => ({ key: `${f.uri}|${f.size}|${f.version}`, uri: f.uri, size: f.size }));
    },
    async *read(part, ctx) {
      const label = inputLabel(part.uri, ctx.baseDir);
      const input = await openInput(part.uri, { storage: ctx.storage });
      const tally = new ReadTally();
      let batch: Doc[] = [];
      for await (const item of fileRecords(input, label)) {
        if (item.kind === 'skip') {
          tally.skip(item.event);
          ctx.audit.skip(item.where, item.event.reason, item.event.details);
          continue;
        }
        const docs = toDocs(item.value, item.where, `${label}#${item.offset}`, ctx);
        if (!Array.isArray(docs)) {
          const error = `${item.where.includes('[') ? item.where.replace(/\[(\d+)\]$/, ' record $1') : item.where.replace(/:(\d+)$/, ' line $1')}: ${docs.message}`;
          tally.skip({ kind: 'skip', offset: item.offset, line: item.line, reason: docs.reason, details: { error } });
          ctx.audit.skip(item.where, docs.reason, { error, field: docs.field });
          continue;
        }
        tally.ok();
        batch.push(...docs);
        if (batch.length >= cfg.batchSize) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length) yield batch;
      tally.check(`${type} ${label}`, input);
    },
  };
}

/**
 * Reads conversations: `format` `'messages'` (default), `'alpaca'`, `'sharegpt'` or `'hh'`
 * (operators/read/chat-formats.ts). Each conversation is a doc with `meta.chat = { messages }`
 * and `text = plainText(messages)`; a record without an assistant turn, with an unknown role or
 * a missing field is skipped and recorded (`chat.noAssistantTurn`, `chat.unknownRole`,
 * `chat.missingField`, …) with an error naming the file, line and field.
 */
export function readChat(paths: string | string[], options: ReadChatOptions = {}): Source {
  const cfg = parseConfig('read.chat', ChatConfig, { ...options, paths });
  return recordSource('read.chat', cfg, cfg, (rec, where, fallbackId) => {
    const convs = parseChatRecord(rec, cfg.format);
    if (!Array.isArray(convs)) return convs;
    const { id, meta } = idAndMeta(rec, where, fallbackId);
    return convs.map((messages: ChatMessage[], k) => ({ id: convs.length > 1 ? `${id}#${k}` : id, text: plainText(messages), meta: { ...meta, chat: { messages } } }));
  });
}

/**
 * Reads preference pairs: `format` `'trl'` (default: TRL's explicit `{prompt, chosen, rejected}`
 * or implicit `{chosen, rejected}`, told apart per record) or `'hh'`. Each pair is a doc with
 * `meta.preference = { prompt, chosen, rejected }` and `text = plainText([...prompt, ...chosen])`.
 * Identical answers or an empty prompt drop the pair (`preferences.identical`,
 * `preferences.emptyPrompt`, in the audit); a malformed record is skipped and recorded
 * (`preferences.missingField`, `preferences.unknownRole`, `preferences.notTranscript`).
 */
export function readPreferences(paths: string | string[], options: ReadPreferencesOptions = {}): Source {
  const cfg = parseConfig('read.preferences', PreferenceConfig, { ...options, paths });
  return recordSource('read.preferences', cfg, cfg, (rec, where, fallbackId, ctx) => {
    const pair = parsePreferenceRecord(rec, cfg.format);
    if ('reason' in pair) return pair;
    const { id, meta } = idAndMeta(rec, where, fallbackId);
    const doc: Doc = { id, text: plainText([...pair.prompt, ...pair.chosen]), meta: { ...meta, preference: pair satisfies PreferenceRecord } };
    const drop = preferenceDropReason(pair);
    if (drop) {
      ctx.audit.drop('read.preferences', doc, drop, undefined, { source: where });
      return [];
    }
    return [doc];
  });
}
