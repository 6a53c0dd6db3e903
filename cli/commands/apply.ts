/** `sluice apply`: one registered operator over JSONL docs, for debugging and audits of samples. */
import { createReadStream, createWriteStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import type { Readable, Writable } from 'node:stream';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { parse } from '../args.ts';
import { createOperator, listOperators } from '../../engine/operator.ts';
import { localTaskContext, pipeOperators } from '../../engine/testing.ts';
import { lines } from '../../operators/read/jsonl.ts';
import type { AuditSink, Doc, Json } from '../../engine/types.ts';

/** Parses `{id, text, meta}` JSONL lines into docs; bad lines are reported and counted. */
async function* readDocs(input: Readable, label: string, onBad: (line: number, why: string) => void): AsyncIterable<Doc[]> {
  let batch: Doc[] = [];
  let n = 0;
  for await (const [, buf] of lines(input as AsyncIterable<Buffer>)) {
    n++;
    if (!buf.length) continue;
    let r: { id?: unknown; text?: unknown; meta?: unknown };
    try {
      r = JSON.parse(buf.toString('utf8'));
    } catch (e) {
      onBad(n, `invalid JSON: ${(e as Error).message}`);
      continue;
    }
    if (typeof r?.text !== 'string') {
      onBad(n, "missing string field 'text'");
      continue;
    }
    const meta = r.meta && typeof r.meta === 'object' && !Array.isArray(r.meta) ? (r.meta as Doc['meta']) : {};
    batch.push({ id: typeof r.id === 'string' || typeof r.id === 'number' ? String(r.id) : `${label}:${n}`, text: r.text, meta });
    if (batch.length >= 256) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

function write(out: Writable, doc: Doc): Promise<void> | void {
  const { tokens, ...rest } = doc;
  const line = JSON.stringify(tokens ? { ...rest, tokens: [...tokens] } : rest) + '\n';
  if (!out.write(line)) return new Promise((r) => out.once('drain', () => r()));
}

export const applyCommand: Command = {
  usage: `sluice apply <operator> [--config JSON] [--in F.jsonl|-] [--out F.jsonl|-] [--keep-dropped]

Reads docs as JSON Lines ({"id", "text", "meta"}; .gz accepted), runs the operator, writes the
kept docs as JSON Lines. With --keep-dropped, dropped docs are written too, with
meta.dropped = {operator, reason, score, ...details}. A summary goes to stderr.
Defaults: --in - (stdin), --out - (stdout), --config {}.

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
    let input: Readable = inPath === '-' ? process.stdin : createReadStream(inPath);
    if (inPath.endsWith('.gz')) input = input.pipe(createGunzip());
    const outPath = values.out ?? '-';
    const out: Writable = outPath === '-' ? process.stdout : createWriteStream(outPath);
    const keep = values['keep-dropped'] ?? false;
    const counts = { in: 0, out: 0, bad: 0, dropped: {} as Record<string, number> };
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
      const docs = readDocs(input, inPath === '-' ? 'stdin' : inPath, (line, why) => {
        counts.bad++;
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
    process.stderr.write(`${op.type}: ${counts.in} docs in, ${counts.out} kept, ${counts.in - counts.out} dropped${drops ? ` (${drops})` : ''}${counts.bad ? `, ${counts.bad} bad input line(s) skipped` : ''}\n`);
    return 0;
  },
};
