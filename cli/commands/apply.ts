/** `sluice apply`: one registered operator over JSONL docs, for debugging and audits of samples. */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { parse } from '../args.ts';
import { createOperator, listOperators } from '../../engine/operator.ts';
import { localTaskContext, pipeOperators } from '../../engine/testing.ts';
import { openInput, TEXT_ENCODINGS, type TextEncoding } from '../../operators/read/open.ts';
import { jsonlRecords, ReadTally } from '../../operators/read/records.ts';
import type { AuditSink, Doc, Json } from '../../engine/types.ts';

/**
 * Parses `{id, text, meta}` JSONL lines of `path` (`-` = stdin; gzip/zstd and the encoding by
 * the shared input opener) into docs; bad lines are reported through `onBad` and counted in
 * `tally`, which fails the input when no line could be read.
 */
async function* readDocs(path: string, encoding: TextEncoding, tally: ReadTally, onBad: (line: number, why: string) => void): AsyncIterable<Doc[]> {
  const label = path === '-' ? 'stdin' : path;
  const input = await openInput(path, { encoding });
  let batch: Doc[] = [];
  for await (const ev of jsonlRecords(input)) {
    if (ev.kind === 'skip') {
      tally.skip(ev);
      onBad(ev.line, `${ev.reason}: ${typeof ev.details.error === 'string' ? ev.details.error : JSON.stringify(ev.details)}`);
      continue;
    }
    const r = ev.value as { id?: unknown; text?: unknown; meta?: unknown } | null;
    if (typeof r?.text !== 'string') {
      tally.skip({ kind: 'skip', offset: ev.offset, line: ev.line, reason: 'not a document', details: { error: "missing string field 'text'" } }, ev.raw);
      onBad(ev.line, "missing string field 'text'");
      continue;
    }
    tally.ok();
    const meta = r.meta && typeof r.meta === 'object' && !Array.isArray(r.meta) ? (r.meta as Doc['meta']) : {};
    batch.push({ id: typeof r.id === 'string' || typeof r.id === 'number' ? String(r.id) : `${label}:${ev.line}`, text: r.text, meta });
    if (batch.length >= 256) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
  tally.check(label, input);
}

function write(out: Writable, doc: Doc): Promise<void> | void {
  // Typed arrays as JSON arrays (JSON.stringify would write them as objects keyed by index).
  const { tokens, lossMask, ...rest } = doc;
  const line = JSON.stringify({ ...rest, ...(tokens ? { tokens: [...tokens] } : {}), ...(lossMask ? { lossMask: [...lossMask] } : {}) }) + '\n';
  if (!out.write(line)) return new Promise((r) => out.once('drain', () => r()));
}

export const applyCommand: Command = {
  usage: `sluice apply <operator> [--config JSON] [--in F.jsonl|-] [--out F.jsonl|-] [--keep-dropped]
                    [--encoding E]

Reads docs as JSON Lines ({"id", "text", "meta"}; gzip or zstd, detected by their first bytes;
UTF-8, or UTF-16/32 with a byte-order mark), runs the operator, writes the kept docs as JSON
Lines. Bad lines are skipped and reported on stderr; an input of which no line could be read,
or a truncated compressed input, is an error (exit 1). With --keep-dropped, dropped docs are written too, with
meta.dropped = {operator, reason, score, ...details}. A summary goes to stderr.
Defaults: --in - (stdin), --out - (stdout), --config {}, --encoding auto (by byte-order mark,
else UTF-8; also utf-8, utf-16le, utf-16be, utf-32le, utf-32be, latin1, windows-1252).

Example:
  sluice apply filter.gopherQuality --config '{"minWords": 100}' --in docs.jsonl --keep-dropped

Registered operators: run 'sluice apply --list'.`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      config: { type: 'string' },
      in: { type: 'string' },
      out: { type: 'string' },
      'keep-dropped': { type: 'boolean' },
      list: { type: 'boolean' },
      encoding: { type: 'string' },
    });
    // Registers every operator; loaded here so other commands start fast.
    await import('../../index.ts');
    if (values.list) {
      for (const o of listOperators()) process.stdout.write(`${o.type.padEnd(26)} ${o.describe}\n`);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError('expected exactly one operator name (sluice apply --list shows them)');
    let config: Json = {};
    if (values.config) {
      try {
        config = JSON.parse(values.config) as Json;
      } catch (e) {
        throw new UsageError(`--config is not valid JSON: ${(e as Error).message}`);
      }
    }
    const op = createOperator(positionals[0]!, config);
    const inPath = values.in ?? '-';
    const encoding = (values.encoding ?? 'auto') as TextEncoding;
    if (!TEXT_ENCODINGS.includes(encoding)) throw new UsageError(`--encoding must be one of ${TEXT_ENCODINGS.join(', ')} (got '${values.encoding}')`);
    const tally = new ReadTally();
    const outPath = values.out ?? '-';
    const out: Writable = outPath === '-' ? process.stdout : createWriteStream(outPath);
    const keep = values['keep-dropped'] ?? false;
    const counts = { in: 0, out: 0, dropped: {} as Record<string, number> };
    const ctx = localTaskContext({ stage: 'apply' });
    const pendingDrops: Doc[] = [];
    const audit: AuditSink = {
      drop(operator, doc, reason, score, details) {
        counts.dropped[reason] = (counts.dropped[reason] ?? 0) + 1;
        if (keep) pendingDrops.push({ ...doc, meta: { ...doc.meta, dropped: { operator, reason, score: score ?? null, ...(details ?? {}) } } });
      },
      score() {},
      skip(inputName, reason) {
        process.stderr.write(`skipped ${inputName}: ${reason}\n`);
      },
    };
    ctx.audit.drop = audit.drop;
    ctx.audit.score = audit.score;
    ctx.audit.skip = audit.skip;
    try {
      const docs = readDocs(inPath, encoding, tally, (line, why) => {
        process.stderr.write(`${inPath}:${line}: skipped: ${why}\n`);
      });
      const counted = (async function* () {
        for await (const b of docs) {
          counts.in += b.length;
          yield b;
        }
      })();
      for await (const batch of pipeOperators(counted, [op], ctx)) {
        for (const d of pendingDrops.splice(0)) await write(out, d);
        for (const d of batch) {
          counts.out++;
          await write(out, d);
        }
      }
      for (const d of pendingDrops.splice(0)) await write(out, d);
    } finally {
      ctx.dispose();
      if (out !== process.stdout) await new Promise<void>((r) => out.end(r));
    }
    const drops = Object.entries(counts.dropped).map(([r, n]) => `${r}=${n}`).join(', ');
    const skips = Object.entries(tally.reasons).map(([r, n]) => `${r}=${n}`).join(', ');
    process.stderr.write(`${op.type}: ${counts.in} docs in, ${counts.out} kept, ${counts.in - counts.out} dropped${drops ? ` (${drops})` : ''}${tally.skipped ? `, ${tally.skipped} input line(s) skipped (${skips})` : ''}\n`);
    // A damaged compressed input lost an unknown number of docs: the output is incomplete.
    if (tally.reasons['read.truncated'] || tally.reasons['read.corrupt']) {
      process.stderr.write(`sluice apply: error: ${inPath} could not be read to its end; the output holds only the docs before the damage\n`);
      return 1;
    }
    return 0;
  },
};
