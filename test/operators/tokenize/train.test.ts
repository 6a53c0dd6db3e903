import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from 'tokenizers';
import { Tiktoken } from 'tiktoken';
import { BpeTrainer } from '../../../operators/tokenize/bpe/trainer.ts';
import { BpeTokenizer } from '../../../operators/tokenize/bpe/tokenizer.ts';
import { bytesToGpt2 } from '../../../operators/tokenize/bpe/bytes.ts';
import { loadTokenizer, tokenizerFiles } from '../../../operators/tokenize/load.ts';
import { dataPath, needData } from '../../helpers/data.ts';

const CS336 = 'bpe-tokenizer/cs336-a1';

test('training on cs336 corpus.en (vocab 500, <|endoftext|>) reproduces the reference merges and vocabulary exactly', { skip: needData(CS336) }, () => {
  const trainer = new BpeTrainer({ vocabSize: 500, specials: ['<|endoftext|>'] });
  trainer.add(readFileSync(dataPath(CS336, 'corpus.en'), 'utf8'));
  const { definition, stats } = trainer.train();
  const spell = (id: number) => bytesToGpt2(definition.tokens[id]!);
  const ours = definition.merges!.map(([a, b]) => `${spell(a)} ${spell(b)}`);
  const ref = readFileSync(dataPath(CS336, 'train-bpe-reference-merges.txt'), 'utf8').split('\n').filter(Boolean);
  assert.equal(ours.length, 243);
  assert.deepEqual(ours, ref);
  const vocab: Record<string, number> = { '<|endoftext|>': 0 };
  definition.tokens.forEach((b, id) => b && (vocab[bytesToGpt2(b)] = id));
  const refVocab = JSON.parse(readFileSync(dataPath(CS336, 'train-bpe-reference-vocab.json'), 'utf8')) as Record<string, number>;
  assert.deepEqual(vocab, refVocab);
  assert.equal(stats.prunedWords, 0);
});

test('special tokens split the training text and are never merged with neighbours', () => {
  const t = new BpeTrainer({ vocabSize: 300, specials: ['<|endoftext|>'] });
  t.add('ab<|endoftext|>ab<|endoftext|>ab'.repeat(50));
  const { definition } = t.train();
  for (const b of definition.tokens) if (b) assert.ok(!Buffer.from(b).toString('latin1').includes('<|'), 'no token spans the special');
  assert.deepEqual(definition.specials, { '<|endoftext|>': 0 });
});

test('counting memory is bounded: past maxWords the rarest pre-tokens are pruned and reported', () => {
  const t = new BpeTrainer({ vocabSize: 300, maxWords: 1000 });
  for (let i = 0; i < 5000; i++) t.add(`common words here w${i}x `);
  const { stats } = t.train();
  assert.ok(stats.distinctWords <= 1000, `distinct ${stats.distinctWords}`);
  assert.ok(stats.prunedWords > 0);
  assert.equal(stats.pruneThreshold, 1);
});

test('bad options are clear errors', () => {
  assert.throws(() => new BpeTrainer({ vocabSize: 100 }), /vocabSize must be an integer ≥ 257/);
  assert.throws(() => new BpeTrainer({ vocabSize: 300, specials: ['a', 'a'] }), /distinct/);
  assert.throws(() => new BpeTrainer({ vocabSize: 300, pattern: '(?x)a' }), /inline flags/);
});

test('a trained tokenizer saved as tokenizer.json encodes identically in HF tokenizers; the .tiktoken in tiktoken', { skip: needData('tinyshakespeare') }, async () => {
  const text = readFileSync(dataPath('tinyshakespeare/input.txt'), 'utf8');
  const train = text.slice(0, 300_000);
  const held = text.slice(600_000, 640_000);
  for (const pattern of ['gpt2', 'cl100k']) {
    const t = new BpeTrainer({ vocabSize: 1000, pattern });
    t.add(train);
    const { definition } = t.train();
    const files = tokenizerFiles(definition);
    const dir = mkdtempSync(join(tmpdir(), 'sluice-bpe-'));
    for (const [n, d] of Object.entries(files)) writeFileSync(join(dir, n), d);
    const ours = await loadTokenizer(dir);
    assert.equal(ours.fingerprint, new BpeTokenizer(definition).fingerprint);
    const ids = [...ours.encode(held)];
    assert.equal(ours.decode(ids), held);

    const hf = Tokenizer.fromString(files['tokenizer.json']!);
    const enc = await hf.encode(held);
    assert.deepEqual(ids, enc.getIds(), `HF tokenizers agrees (${pattern})`);
    // Specials: HF splits added tokens out of the text, as our allowedSpecial 'all' does.
    const withEot = 'To be<|endoftext|>or not';
    assert.deepEqual([...ours.encode(withEot, { allowedSpecial: 'all' })], (await hf.encode(withEot)).getIds());

    const tk = new Tiktoken(files['tokenizer.tiktoken']!, definition.specials, (await loadTokenizer(dir)).pattern);
    const tkIds = [...tk.encode_ordinary(held)];
    // tiktoken merges by rank (any split), HF by the merge list: identical on this text.
    assert.deepEqual(tkIds, ids, `tiktoken agrees (${pattern})`);
    tk.free();
  }
});

test('a tokenizer.json written by HF tokenizers itself (GPT-2 from vocab.json + merges.txt) loads and encodes as tiktoken gpt2', { skip: needData(CS336) }, async () => {
  const { BPE, byteLevelPreTokenizer } = await import('tokenizers');
  const model = await BPE.fromFile(dataPath(CS336, 'gpt2_vocab.json'), dataPath(CS336, 'gpt2_merges.txt'));
  const hf = new Tokenizer(model);
  hf.setPreTokenizer(byteLevelPreTokenizer(false, true));
  hf.addSpecialTokens(['<|endoftext|>']);
  const dir = mkdtempSync(join(tmpdir(), 'sluice-hfjson-'));
  const file = join(dir, 'tokenizer.json');
  hf.save(file);
  const ours = await loadTokenizer(file);
  const { get_encoding } = await import('tiktoken');
  const ref = get_encoding('gpt2');
  const text = readFileSync(dataPath(CS336, 'tinystories_sample.txt'), 'utf8') + readFileSync(dataPath(CS336, 'german.txt'), 'utf8');
  assert.deepEqual([...ours.encode(text)], [...ref.encode_ordinary(text)]);
  // HF always splits out added tokens (the sample has <|endoftext|>): compare with specials allowed.
  assert.deepEqual([...ours.encode(text, { allowedSpecial: 'all' })], (await hf.encode(text)).getIds());
  assert.equal(ours.eotId, 50256);
  ref.free();
});
