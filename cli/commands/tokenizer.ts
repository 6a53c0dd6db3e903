/** `sluice tokenizer train|encode|decode`: BPE tokenizers outside a pipeline. */
import { isUtf8 } from 'node:buffer';
import { once } from 'node:events';
import type { Command } from '../command.ts';
import { subcommands, UsageError } from '../command.ts';
import { intOption, parse } from '../args.ts';
import { storage } from '../../engine/storage/index.ts';
import { BpeTrainer } from '../../operators/tokenize/bpe/trainer.ts';
import { loadTokenizer, tokenizerFiles } from '../../operators/tokenize/load.ts';
import { firstInvalidUtf8, openInput } from '../../operators/read/open.ts';
import { decodeStream, encodeStream, formatIds, parseIdStream } from '../../operators/tokenize/stream.ts';
import { lines as splitLines } from '../../operators/read/lines.ts';
import { DEFAULT_MAX_LINE_BYTES, jsonlRecords, ReadTally } from '../../operators/read/records.ts';

const USAGE = `sluice tokenizer train --vocab-size N [--pattern P] [--special T]… [--max-words N] --out DIR FILES…
sluice tokenizer encode --vocab NAME|PATH [--json | --jsonl] [--allow-special]
sluice tokenizer decode --vocab NAME|PATH [--jsonl]

train   Trains a byte-level BPE tokenizer on text files (.txt: the text; .jsonl, .jsonl.gz,
        .jsonl.zst: the "text" field of each line; gzip or zstd detected by the first bytes,
        UTF-16/32 by byte-order mark; bad lines are skipped and counted, a damaged compressed
        file is an error) and writes tokenizer.json (Hugging Face), tokenizer.tiktoken
        and sluice-tokenizer.json into DIR (local or s3://).
          --vocab-size N   vocabulary size, specials and 256 byte tokens included (required)
          --pattern P      gpt2 (default) | cl100k | o200k | a regex in tiktoken's dialect
          --special T      a special token (repeatable; default <|endoftext|>, the first is EOS)
          --max-words N    distinct pre-tokens kept while counting (default 4000000)
encode  Reads text on stdin and prints its token ids: space-separated, or a JSON array with
        --json. With --jsonl: one {"text": …} per input line, one {"ids": […]} per output line.
          --vocab          cl100k_base | o200k_base | r50k_base | p50k_base | p50k_edit |
                           o200k_harmony | gpt2, or a tokenizer directory/file (.tiktoken,
                           tokenizer.json, vocab.json)
          --allow-special  recognise special tokens written in the text (default: plain text)
decode  Reads ids on stdin (a JSON array or whitespace-separated) and prints the text. With
        --jsonl: one {"ids": […]} per line in, one {"text": …} per line out.

Examples:
  sluice tokenizer train --vocab-size 4096 --out tok/ data/*.jsonl
  echo 'hello world' | sluice tokenizer encode --vocab cl100k_base --json
  echo '[15339, 1917]' | sluice tokenizer decode --vocab cl100k_base`;

/**
 * Text of stdin, in pieces, through the shared input opener (gzip/zstd, BOM); invalid UTF-8 is an
 * error naming its byte offset. A character split between two read chunks is decoded whole.
 */
async function* stdinText(): AsyncGenerator<string> {
  const input = await openInput('-');
  const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let prev: Buffer = Buffer.alloc(0);
  let prevAt = 0;
  // The first invalid sequence lies in `c` or straddles `prev` and `c` (`prev` decoded): scan from
  // the first character that starts in `prev`.
  const invalid = (c: Buffer) => {
    let skip = 0;
    while (skip < 3 && skip < prev.length && (prev[skip]! & 0xc0) === 0x80) skip++;
    return new Error(`stdin: not valid UTF-8 at byte ${prevAt + skip + firstInvalidUtf8(Buffer.concat([prev.subarray(skip), c]))}`);
  };
  for await (const c of input.chunks) {
    let s: string;
    try {
      s = utf8.decode(c, { stream: true });
    } catch {
      throw invalid(c);
    }
    if (s) yield s;
    prevAt += prev.length;
    prev = c;
  }
  let s: string;
  try {
    s = utf8.decode();
  } catch {
    throw invalid(Buffer.alloc(0));
  }
  if (s) yield s;
}

/** Writes to stdout, waiting while its buffer is full (a slow reader must not make output pile up in memory). */
async function out(data: string | Uint8Array): Promise<void> {
  if (!process.stdout.write(data)) await once(process.stdout, 'drain');
}

/**
 * Lines of `path` (`-` = stdin) as strings, without the newline, through the shared input
 * opener: gzip/zstd by magic bytes, UTF-16/32 by byte-order mark, linear in line length. A line
 * that is not valid UTF-8 or longer than 256 MiB is reported through `onBad` and skipped; a
 * damaged compressed input throws an error naming it; so does an input of which every line failed.
 */
async function* lines(path: string, onBad: (line: number, why: string) => void = (n, why) => {
  throw new Error(`${path === '-' ? 'stdin' : path}:${n}: ${why}`);
}): AsyncIterable<string> {
  const input = await openInput(path);
  const utf8 = input.encoding === 'utf-8';
  const tally = new ReadTally();
  let n = 0;
  for await (const l of splitLines(input.chunks, { maxLineBytes: DEFAULT_MAX_LINE_BYTES })) {
    n++;
    const reason = l.data === null ? 'read.lineTooLong' : isUtf8(l.data) ? null : utf8 ? 'read.invalidUtf8' : 'read.invalidEncoding';
    if (reason) {
      const error = l.data === null ? `${l.length} bytes` : `at byte ${firstInvalidUtf8(l.data)}`;
      tally.skip({ kind: 'skip', offset: l.offset, line: n, reason, details: { error } }, l.data ?? undefined);
      onBad(n, `${reason}: ${error}`);
      continue;
    }
    if (l.data!.length) tally.ok();
    yield l.data!.toString('utf8');
  }
  tally.check(path === '-' ? 'stdin' : path, input);
}

/**
 * Feeds a plain-text file in ~1 MiB pieces, cut only after a newline that is followed by a
 * non-whitespace character: no pre-token of the presets spans such a point, so the counts equal
 * those of the whole file.
 */
async function feedText(file: string, add: (t: string) => void, onBad: (line: number, why: string) => void): Promise<number> {
  let buf: string[] = [];
  let size = 0;
  let total = 0;
  for await (const line of lines(file, onBad)) {
    if (size > 1 << 20 && line.length > 0 && !/^\s/.test(line)) {
      add(buf.join('\n') + '\n');
      buf = [];
      size = 0;
    }
    buf.push(line);
    size += line.length + 1;
    total += line.length + 1;
  }
  if (buf.length) add(buf.join('\n'));
  return total;
}

async function train(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    'vocab-size': { type: 'string' },
    pattern: { type: 'string' },
    special: { type: 'string', multiple: true },
    'max-words': { type: 'string' },
    out: { type: 'string' },
  });
  const vocabSize = intOption('vocab-size', values['vocab-size'], 257);
  if (!vocabSize) throw new UsageError('--vocab-size is required');
  if (!values.out) throw new UsageError('--out DIR is required');
  if (!positionals.length) throw new UsageError('give the text files to train on (.txt or .jsonl, optionally gzip or zstd)');
  const trainer = new BpeTrainer({ vocabSize, pattern: values.pattern, specials: values.special, maxWords: intOption('max-words', values['max-words'], 1000) });
  const t0 = performance.now();
  let bad = 0;
  for (const f of positionals) {
    const onBad = (n: number, why: string) => {
      if (bad++ < 5) process.stderr.write(`${f}:${n}: skipped: ${why}\n`);
    };
    if (/\.jsonl(\.(gz|zst|zstd))?$/i.test(f)) {
      const input = await openInput(f);
      const tally = new ReadTally();
      for await (const ev of jsonlRecords(input)) {
        if (ev.kind === 'skip') {
          // A tokenizer trained on part of a damaged file would be a silent change of data.
          if (ev.reason === 'read.truncated' || ev.reason === 'read.corrupt') throw new Error(String(ev.details.error));
          tally.skip(ev);
          onBad(ev.line, `${ev.reason}${typeof ev.details.error === 'string' ? `: ${ev.details.error}` : ''}`);
          continue;
        }
        const r = ev.value as { text?: unknown } | null;
        if (typeof r?.text !== 'string') {
          tally.skip({ kind: 'skip', offset: ev.offset, line: ev.line, reason: 'not a document', details: { error: "no string field 'text'" } }, ev.raw);
          onBad(ev.line, "no string field 'text'");
          continue;
        }
        tally.ok();
        trainer.add(r.text);
      }
      tally.check(f, input);
    } else await feedText(f, (t) => trainer.add(t), onBad);
  }
  if (bad) process.stderr.write(`skipped ${bad} malformed line(s)\n`);
  const counted = (performance.now() - t0) / 1000;
  const { definition, stats } = trainer.train();
  definition.name = values.out;
  const files = tokenizerFiles(definition, { countSeconds: counted, ...stats });
  for (const [name, data] of Object.entries(files)) await storage.write(storage.join(values.out, name), data);
  process.stderr.write(`trained ${stats.merges} merges on ${stats.words} pre-tokens (${stats.distinctWords} distinct${stats.prunedWords ? `, ${stats.prunedWords} pruned` : ''}) in ${(counted + stats.mergeSeconds).toFixed(1)} s → ${values.out}\n`);
  return 0;
}

async function encode(argv: string[]): Promise<number> {
  const { values } = parse(argv, { vocab: { type: 'string' }, json: { type: 'boolean' }, jsonl: { type: 'boolean' }, 'allow-special': { type: 'boolean' } });
  if (!values.vocab) throw new UsageError('--vocab NAME|PATH is required');
  const tok = await loadTokenizer(values.vocab);
  const opts = values['allow-special'] ? { allowedSpecial: 'all' as const } : {};
  if (values.jsonl) {
    let n = 0;
    for await (const line of lines('-')) {
      n++;
      if (!line.trim()) continue;
      let text: unknown;
      try {
        text = (JSON.parse(line) as { text?: unknown }).text;
      } catch (e) {
        throw new Error(`stdin:${n}: invalid JSON: ${(e as Error).message}`);
      }
      if (typeof text !== 'string') throw new Error(`stdin:${n}: no string field 'text'`);
      await out(JSON.stringify({ ids: [...tok.encode(text, opts)] }) + '\n');
    }
    return 0;
  }
  // Streamed: the same bytes as `ids.join(' ')` or `JSON.stringify(ids)` of the whole input.
  const sep = values.json ? 44 : 32;
  if (values.json) await out('[');
  let first = true;
  for await (const ids of encodeStream(tok, stdinText(), opts)) {
    if (!ids.length) continue;
    await out(formatIds(ids, sep, !first));
    first = false;
  }
  await out(values.json ? ']\n' : '\n');
  return 0;
}

function parseIds(ids: unknown[], where: string, vocab: number): number[] {
  for (const id of ids) if (!Number.isInteger(id) || (id as number) < 0 || (id as number) >= vocab) throw new Error(`${where}: ${JSON.stringify(id)} is not a token id of this vocabulary (0…${vocab - 1})`);
  return ids as number[];
}

async function decode(argv: string[]): Promise<number> {
  const { values } = parse(argv, { vocab: { type: 'string' }, jsonl: { type: 'boolean' } });
  if (!values.vocab) throw new UsageError('--vocab NAME|PATH is required');
  const tok = await loadTokenizer(values.vocab);
  if (values.jsonl) {
    let n = 0;
    for await (const line of lines('-')) {
      n++;
      if (!line.trim()) continue;
      const r = JSON.parse(line) as { ids?: unknown };
      if (!Array.isArray(r.ids)) throw new Error(`stdin:${n}: no array field 'ids'`);
      await out(JSON.stringify({ text: tok.decode(parseIds(r.ids, `stdin:${n}`, tok.vocabSize)) }) + '\n');
    }
    return 0;
  }
  for await (const text of decodeStream(tok, parseIdStream((await openInput('-')).chunks, 'stdin', tok.vocabSize))) await out(text);
  return 0;
}

/** `sluice tokenizer <sub-command>`. */
export const tokenizerCommand: Command = subcommands(USAGE, { train, encode, decode });
