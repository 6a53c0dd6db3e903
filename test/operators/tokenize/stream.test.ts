import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { loadEncoding } from '../../../operators/tokenize/bpe/tiktoken-format.ts';
import { BpeTokenizer } from '../../../operators/tokenize/bpe/tokenizer.ts';
import { decodeStream, encodeStream, formatIds, parseIdStream, safeCut } from '../../../operators/tokenize/stream.ts';
import { BIN } from '../../helpers/cli.ts';
import { mulberry32 } from '../../../engine/random.ts';

const rng = mulberry32;

// Pieces that sit on the boundaries the cut rule reasons about: line breaks (LF, CR LF, runs),
// one and two spaces, tabs, Unicode spaces (NBSP, NEL), letters, digits, punctuation, contractions,
// multi-byte and astral characters.
const ATOMS = ['\n', '\n', '\n', '\r\n', '\n\n', ' ', ' ', '  ', '\t', '\u00a0', '\u0085', 'the', 'Word', 'x', 'Z', '123', '4', '.', '!?', '--', '(', "'s", "'LL", 'é', 'Ünïcode', '日本語', '😀', 'ab/', '/'];

function randomText(r: () => number, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ATOMS[Math.floor(r() * ATOMS.length)];
  return s;
}

/** Feeds `bytes` in random-sized pieces (splitting multi-byte characters). */
async function* pieces(bytes: Buffer, r: () => number, max = 40): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; ) {
    const n = 1 + Math.floor(r() * max);
    yield bytes.subarray(i, i + n);
    i += n;
  }
}

async function concatIds(it: AsyncIterable<Uint32Array>): Promise<{ ids: number[]; chunks: number }> {
  const ids: number[] = [];
  let chunks = 0;
  for await (const c of it) {
    chunks++;
    ids.push(...c);
  }
  return { ids, chunks };
}

for (const name of ['gpt2', 'cl100k_base', 'o200k_base'] as const) {
  test(`encodeStream (${name}): cut into pieces, the ids equal encoding the whole text`, async () => {
    const tok = loadEncoding(name);
    const r = rng(name.length * 7919);
    let cuts = 0;
    for (let round = 0; round < 60; round++) {
      const text = randomText(r, 400);
      const whole = [...tok.encode(text)];
      const { ids, chunks } = await concatIds(encodeStream(tok, pieces(Buffer.from(text), r), {}, 1 + Math.floor(r() * 64)));
      assert.deepEqual(ids, whole, `round ${round}: ${JSON.stringify(text)}`);
      cuts += chunks - 1;
    }
    assert.ok(cuts > 100, `the texts were cut (${cuts} cuts)`);
  });
}

for (const name of ['gpt2', 'cl100k_base', 'o200k_base'] as const) {
  test(`safeCut (${name}): pre-tokens of the two sides equal those of the whole text at every cut`, () => {
    // The rule's invariant, stronger than equal ids (a wrong cut can still give the same ids).
    const tok = loadEncoding(name);
    const r = rng(name.length * 31);
    let cuts = 0;
    for (let round = 0; round < 300; round++) {
      const text = randomText(r, 60);
      const whole = tok.preTokens(text);
      for (let end = text.length; end > 0; ) {
        const at = safeCut(text.slice(0, end), 0, name !== 'gpt2');
        if (at < 0) break;
        assert.deepEqual([...tok.preTokens(text.slice(0, at)), ...tok.preTokens(text.slice(at))], whole, `cut at ${at} of ${JSON.stringify(text)}`);
        cuts++;
        end = at - 1;
      }
    }
    assert.ok(cuts > 300, `${cuts} cuts checked`);
  });
}

test('encodeStream with special tokens allowed matches encode; a custom pattern is encoded whole', async () => {
  const tok = loadEncoding('cl100k_base');
  const text = 'Hello there\nBob<|endoftext|>\nAlice said hi\n'.repeat(50);
  const { ids } = await concatIds(encodeStream(tok, pieces(Buffer.from(text), rng(3)), { allowedSpecial: 'all' }, 30));
  assert.deepEqual(ids, [...tok.encode(text, { allowedSpecial: 'all' })]);
  assert.ok(ids.includes(100257), 'the special token was recognised');

  const custom = new BpeTokenizer({ ...tok.definition, pattern: '\\S+|\\s+' });
  const c = await concatIds(encodeStream(custom, pieces(Buffer.from(text), rng(4)), {}, 30));
  assert.equal(c.chunks, 1, 'no cut: the rule is only proven for the presets');
  assert.deepEqual(c.ids, [...custom.encode(text)]);
});

test('safeCut: after a line break that follows a non-space, before a word; never inside "\\n  x"', () => {
  assert.equal(safeCut('abc\nDef ghi', 0, true), 4);
  assert.equal(safeCut('abc\n Def ghi', 0, true), 4);
  assert.equal(safeCut('abc\n  Def ghi', 0, true), -1, 'two spaces: gpt2 joins "\\n " when text follows');
  assert.equal(safeCut('abc \nDef ghi', 0, true), -1, 'a space before the line break');
  assert.equal(safeCut('abc\r\nDef ghi', 0, true), 5);
  assert.equal(safeCut('abc\r\nDef ghi', 0, false), -1, 'gpt2: no cut after CR LF');
  assert.equal(safeCut('abc\n-ef ghi', 0, true), -1);
  assert.equal(safeCut('a.\nB c\nD ef', 0, true), 7, 'the last cut');
  assert.equal(safeCut('a.\nB c\nD ef', 4, true), 7);
  assert.equal(safeCut('a.\nB cc dd ef', 4, true), -1, 'nothing at or after min');
});

test('formatIds writes decimal ids like Array.join', () => {
  const ids = Uint32Array.from([0, 9, 10, 99, 100, 12345, 100256, 4294967295, 7]);
  assert.equal(formatIds(ids, 32, false).toString(), [...ids].join(' '));
  assert.equal(formatIds(ids, 44, true).toString(), ',' + [...ids].join(','));
  assert.equal(formatIds(new Uint32Array(0), 32, true).length, 0);
});

async function parseAll(text: string, vocab = 1000, chunk = 3): Promise<number[]> {
  const out: number[] = [];
  for await (const b of parseIdStream(pieces(Buffer.from(text), rng(chunk), chunk), 'stdin', vocab, 4)) out.push(...b);
  return out;
}

test('parseIdStream reads JSON arrays and whitespace-separated ids in any chunking', async () => {
  assert.deepEqual(await parseAll('[1, 22,333 ,4,\n5]\n'), [1, 22, 333, 4, 5]);
  assert.deepEqual(await parseAll(' 1 22\t333\n4\r\n5 '), [1, 22, 333, 4, 5]);
  assert.deepEqual(await parseAll('[]'), []);
  assert.deepEqual(await parseAll('  \n'), []);
  assert.deepEqual(await parseAll(Array.from({ length: 100 }, (_, i) => i).join(' '), 1000, 1), Array.from({ length: 100 }, (_, i) => i));
});

test('parseIdStream: a clear error naming the input and the bad text', async () => {
  const bad: Array<[string, RegExp]> = [
    ['[1, 1000]', /stdin: 1000 is not a token id of this vocabulary \(0…999\)/],
    ['1 2 abc 3', /stdin: "abc" is not a token id/],
    ['1 2x', /stdin: "2x" is not a token id/],
    ['1,2', /stdin: "1," is not a token id/],
    ['[1,]', /stdin: invalid JSON array of ids at "]"/],
    ['[1 2]', /stdin: expected , or \] before "2"/],
    ['[1, 2', /not closed with \]/],
    ['[1] 2', /unexpected "2" after the closing \]/],
    ['-1', /stdin: "-1" is not a token id/],
  ];
  // Read whole (the excerpt in a message ends where the read piece ends).
  for (const [text, re] of bad) await assert.rejects(parseAll(text, 1000, 64), re, text);
});

test('decodeStream joins characters split between batches, like decode of all ids', async () => {
  const tok = loadEncoding('cl100k_base');
  const text = 'naïve 日本語 😀 ok\n'.repeat(20);
  const ids = [...tok.encode(text)];
  // 😀 as its four single-byte tokens: batches of one id split the character.
  const byteId = (b: number) => {
    for (let id = 0; id < tok.vocabSize; id++) if (tok.definition.tokens[id]?.length === 1 && tok.definition.tokens[id]![0] === b) return id;
    throw new Error(`no token for byte ${b}`);
  };
  const emoji = [...Buffer.from('😀')].map(byteId);
  async function* batches(xs: number[]): AsyncGenerator<number[]> {
    for (const x of xs) yield [x];
  }
  let out = '';
  for await (const s of decodeStream(tok, batches(ids))) out += s;
  assert.equal(out, text);
  let joined = '';
  for await (const s of decodeStream(tok, batches(emoji))) joined += s;
  assert.equal(joined, '😀');
  let cutOff = '';
  for await (const s of decodeStream(tok, batches(emoji.slice(0, 3)))) cutOff += s;
  assert.equal(cutOff, tok.decode(emoji.slice(0, 3)), 'a cut-off character ends as U+FFFD, as in decode');
});

function sluice(args: string[], stdin: Buffer): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
    child.stdin.end(stdin);
  });
}

test('sluice tokenizer encode/decode stream a multi-megabyte input with the same result as whole-text encoding', async () => {
  const tok = loadEncoding('cl100k_base');
  const r = rng(11);
  // ~2.5 MB: several 1 MiB pieces, so the CLI cuts the input.
  const lines: string[] = [];
  for (let size = 0; size < 2_500_000; ) {
    const l = randomText(r, 12).replace(/[\r\n]/g, ' ') + '\n';
    lines.push(l);
    size += l.length;
  }
  const text = lines.join('');
  const want = [...tok.encode(text)];
  const enc = await sluice(['tokenizer', 'encode', '--vocab', 'cl100k_base'], Buffer.from(text));
  assert.equal(enc.code, 0, enc.stderr);
  assert.equal(enc.stdout.toString(), want.join(' ') + '\n');
  const json = await sluice(['tokenizer', 'encode', '--vocab', 'cl100k_base', '--json'], Buffer.from(text));
  assert.equal(json.stdout.toString(), JSON.stringify(want) + '\n');
  const dec = await sluice(['tokenizer', 'decode', '--vocab', 'cl100k_base'], enc.stdout);
  assert.equal(dec.code, 0, dec.stderr);
  assert.equal(dec.stdout.toString(), text);
});

test('sluice tokenizer encode streams through the shared input opener: gzip and a BOM read as plain text; invalid UTF-8 is an error at its byte offset', async () => {
  const { gzipSync } = await import('node:zlib');
  const text = 'Hello there\nworld é 日本\n'.repeat(5000);
  const plain = await sluice(['tokenizer', 'encode', '--vocab', 'cl100k_base'], Buffer.from(text));
  assert.equal(plain.code, 0, plain.stderr);
  const gz = await sluice(['tokenizer', 'encode', '--vocab', 'cl100k_base'], gzipSync(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])));
  assert.equal(gz.code, 0, gz.stderr);
  assert.equal(gz.stdout.toString(), plain.stdout.toString());
  // A lone continuation byte after 70,000 valid bytes (past the first 64 KiB read), and a
  // character cut off at the very end.
  const bytes = Buffer.from(text);
  const at = bytes.indexOf('é', 70_000);
  const bad = await sluice(['tokenizer', 'encode', '--vocab', 'cl100k_base'], Buffer.concat([bytes.subarray(0, at), Buffer.from([0xa9]), bytes.subarray(at)]));
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, new RegExp(`stdin: not valid UTF-8 at byte ${at}\\n`));
  const cut = await sluice(['tokenizer', 'encode', '--vocab', 'cl100k_base'], Buffer.concat([bytes, Buffer.from([0xe6, 0x97])]));
  assert.match(cut.stderr, new RegExp(`stdin: not valid UTF-8 at byte ${bytes.length}\\n`));
});
