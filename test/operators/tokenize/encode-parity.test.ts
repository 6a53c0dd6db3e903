import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { get_encoding, Tiktoken } from 'tiktoken';
import { loadEncoding, parseTiktoken, serializeTiktoken, type EncodingName } from '../../../operators/tokenize/bpe/tiktoken-format.ts';
import { loadTokenizer } from '../../../operators/tokenize/load.ts';
import { BpeTokenizer } from '../../../operators/tokenize/bpe/tokenizer.ts';
import { dataPath, needData } from '../../helpers/data.ts';

test('all 435 SharpToken TestPlans cases (tiktoken-generated, specials included) encode byte-exactly', { skip: needData('bpe-tokenizer/sharptoken') }, () => {
  const text = readFileSync(dataPath('bpe-tokenizer/sharptoken/TestPlans.txt'), 'utf8');
  const blocks = text.split('\n\n').filter((b) => b.trim());
  assert.equal(blocks.length, 435);
  const failures: string[] = [];
  const seen = new Set<string>();
  for (const block of blocks) {
    const [a, b, c] = block.split('\n');
    const name = a!.replace('EncodingName: ', '') as EncodingName;
    const sample = b!.replace('Sample: ', '');
    const expected = JSON.parse(c!.replace('Encoded: ', '')) as number[];
    seen.add(name);
    const tok = loadEncoding(name);
    const got = [...tok.encode(sample, { allowedSpecial: 'all' })];
    if (JSON.stringify(got) !== JSON.stringify(expected)) failures.push(`${name} ${JSON.stringify(sample)}: ${JSON.stringify(got)} ≠ ${JSON.stringify(expected)}`);
    else assert.equal(tok.decode(got), sample, `${name} round trip`);
  }
  assert.deepEqual(failures, []);
  assert.deepEqual([...seen].sort(), ['cl100k_base', 'o200k_base', 'o200k_harmony', 'p50k_base', 'p50k_edit', 'r50k_base']);
});

test('specials are plain text unless allowed', () => {
  const tok = loadEncoding('cl100k_base');
  const plain = [...tok.encode('a<|endoftext|>b')];
  assert.ok(!plain.includes(100257));
  assert.deepEqual(plain, [...get_encoding('cl100k_base').encode_ordinary('a<|endoftext|>b')]);
  assert.deepEqual([...tok.encode('a<|endoftext|>b', { allowedSpecial: ['<|endoftext|>'] })], [64, 100257, 65]);
  assert.throws(() => tok.encode('x', { allowedSpecial: ['<|nope|>'] }), /not a special token/);
});

// Characters where JS and Rust regex disagree or the patterns have corner cases.
const TRICKY = [
  'a', 'Z', 'é', 'ſ', 'K', 'ß', 'İ', 'ǅ', 'ʰ', '中', '\u0301', '\u0903', '1', '٣', '½', 'Ⅻ', "'", '’', ' ', '  ', '\t', '\n', '\r', '\r\n',
  '\u000b', '\u000c', '\u0085', '\u00a0', '\u1680', '\u2003', '\u2028', '\u202f', '\u3000', '\ufeff', '\u200b', '😀', '👍🏽', '𝔘', '/', '.', ',', '!', '-', '$', 'x',
  "'s", "'S", "'ſ", "'ll", "'LL", "'re", "'Ve", "'d", "'m", "'t", ' the', 'The', 'HTTP', 'camelCase', 'ÀÉ', 'Ωmega',
];

for (const name of ['cl100k_base', 'o200k_base', 'r50k_base'] as const) {
  test(`${name}: random strings of tricky characters encode exactly as tiktoken (WASM, the Rust original)`, () => {
    const ours = loadEncoding(name);
    const ref = get_encoding(name);
    try {
      fc.assert(
        fc.property(fc.array(fc.constantFrom(...TRICKY), { maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), (parts, extra) => {
          const s = parts.join('') + extra;
          assert.deepEqual([...ours.encode(s)], [...ref.encode_ordinary(s)], JSON.stringify(s));
        }),
        { numRuns: 1500, seed: 42 },
      );
    } finally {
      ref.free();
    }
  });
}

test('U+FEFF is not whitespace and U+0085 is (Rust semantics), unlike JavaScript \\s', () => {
  const ours = loadEncoding('cl100k_base');
  const ref = get_encoding('cl100k_base');
  for (const s of ['a \ufeffb', '\ufeff hello', 'x\u0085 y', 'end \u0085', 'word\ufeff\ufeff  \n']) {
    assert.deepEqual([...ours.encode(s)], [...ref.encode_ordinary(s)], JSON.stringify(s));
  }
  ref.free();
});

test('a long piece without spaces (heap merge path) matches tiktoken and decodes back', () => {
  const ours = loadEncoding('cl100k_base');
  const ref = get_encoding('cl100k_base');
  const s = 'abcdefghij'.repeat(500) + ' ' + 'x'.repeat(3000) + ' ' + '\u4e2d\u6587'.repeat(300) + '!!'.repeat(200);
  const got = ours.encode(s);
  assert.deepEqual([...got], [...ref.encode_ordinary(s)]);
  assert.equal(ours.decode(got), s);
  ref.free();
});

test('.tiktoken rank files load (SharpToken copies) and equal the package data; serialisation round-trips', { skip: needData('bpe-tokenizer/sharptoken') }, async () => {
  for (const name of ['cl100k_base', 'r50k_base'] as const) {
    const path = dataPath('bpe-tokenizer/sharptoken', `${name}.tiktoken`);
    const fromFile = await loadTokenizer(path);
    const pkg = loadEncoding(name);
    const text = 'The quick brown fox — jumps over 1234 lazy dogs.\n\tÇa va? 日本語';
    assert.deepEqual([...fromFile.encode(text)], [...pkg.encode(text)]);
    const raw = readFileSync(path, 'utf8');
    assert.equal(serializeTiktoken(parseTiktoken(raw)), raw.endsWith('\n') ? raw : raw + '\n');
  }
  assert.throws(() => parseTiktoken('bad line', 'x.tiktoken'), /x\.tiktoken:1: expected/);
});

test('cs336 round-trip texts: GPT-2 vocab.json + merges.txt encode as tiktoken gpt2 and decode back', { skip: needData('bpe-tokenizer/cs336-a1') }, async () => {
  const tok = await loadTokenizer(dataPath('bpe-tokenizer/cs336-a1/gpt2_vocab.json'));
  const ref = get_encoding('gpt2');
  for (const f of ['address.txt', 'german.txt', 'tinystories_sample.txt', 'corpus.en']) {
    const text = readFileSync(dataPath('bpe-tokenizer/cs336-a1', f), 'utf8');
    const ids = tok.encode(text);
    assert.deepEqual([...ids], [...ref.encode_ordinary(text)], f);
    assert.equal(tok.decode(ids), text, f);
  }
  // With the special allowed, <|endoftext|> is one token, as cs336's tests expect.
  const s = 'Hello<|endoftext|> world<|endoftext|>';
  assert.deepEqual([...tok.encode(s, { allowedSpecial: 'all' })], [...ref.encode(s, 'all')]);
  ref.free();
});

test('a custom pattern in tiktoken dialect (possessive quantifiers, (?i:)) splits like the preset it spells', () => {
  const custom = new Tiktoken(serializeTiktoken(loadEncoding('cl100k_base').definition.tokens), {}, "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+");
  const ours = loadEncoding('cl100k_base');
  const s = "It's   a  TEST'LL do\r\n\n  x 12345 ünïcödé!!\n";
  assert.deepEqual([...ours.encode(s)], [...custom.encode_ordinary(s)]);
  custom.free();
});

test('custom patterns run as translated regexes exactly as tiktoken runs them (fuzzed: possessive quantifiers, $, (?i:))', () => {
  const pattern = "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++|\\p{N}{1,3}+| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*+|\\s++$|\\s*[\\r\\n]|\\s+(?!\\S)|\\s";
  const def = loadEncoding('cl100k_base').definition;
  const ours = new BpeTokenizer({ ...def, name: 'custom', pattern });
  assert.equal(ours.definition.pattern, pattern);
  const ref = new Tiktoken(serializeTiktoken(def.tokens), {}, pattern);
  try {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TRICKY), { maxLength: 30 }), (parts) => {
        const s = parts.join('');
        assert.deepEqual([...ours.encode(s)], [...ref.encode_ordinary(s)], JSON.stringify(s));
      }),
      { numRuns: 800, seed: 7 },
    );
  } finally {
    ref.free();
  }
});
