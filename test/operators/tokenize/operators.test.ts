import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOperators, localTaskContext } from '../../../engine/testing.ts';
import { createOperator } from '../../../engine/operator.ts';
import type { CustomTaskContext, Dataset, Doc, Json, Manifest } from '../../../engine/types.ts';
import { tokenize } from '../../../operators/tokenize/index.ts';
import { loadTokenizer } from '../../../operators/tokenize/load.ts';

const docs = (texts: string[]): Doc[] => texts.map((text, i) => ({ id: `d${i}`, text, meta: {} }));

test('tokenize.encode appends EOS; token ids are uint32 in docs whatever the vocabulary', async () => {
  const { out } = await runOperators([tokenize.encode({ tokenizer: 'cl100k_base' })], docs(['hello world', '', 'a<|endoftext|>b']));
  assert.ok(out[0]!.tokens instanceof Uint32Array);
  assert.deepEqual([...out[0]!.tokens!], [15339, 1917, 100257]);
  assert.deepEqual([...out[1]!.tokens!], [100257], 'an empty doc is just EOS');
  assert.ok(!out[2]!.tokens!.slice(0, -1).includes(100257), 'a special in the text is plain text by default');
  const gpt2 = await runOperators([tokenize.encode({ tokenizer: 'gpt2' })], docs(['hello world']));
  assert.ok(gpt2.out[0]!.tokens instanceof Uint32Array, 'a 50k vocabulary too: only stores narrow (formats/tokens.ts)');
  assert.deepEqual([...gpt2.out[0]!.tokens!], [31373, 995, 50256]);
});

test('tokenize.encode is registered for sluice apply and validates its config', async () => {
  const op = createOperator('tokenize.encode', { tokenizer: 'r50k_base', eos: false } as Json);
  const { out } = await runOperators([op], docs(['hello world']));
  assert.deepEqual([...out[0]!.tokens!], [31373, 995]);
  assert.throws(() => tokenize.encode({ tokenizer: '' }), /tokenize\.encode: config key 'tokenizer'/);
});

function memoryDataset(stage: string, dir: string, all: Doc[]): Dataset {
  const manifest = { format: 'sluice.dataset/1', stage, files: [], info: {} } as unknown as Manifest;
  return { stage, dir, manifest, files: () => [], async *readDocs() { yield all; } };
}

test('tokenize.trainBpe trains from its input dataset and writes the three tokenizer files; encode reads them by stage ref', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-train-'));
  const input = memoryDataset('clean', dir, docs(Array.from({ length: 200 }, (_, i) => `the cat sat on the mat ${i} times, then the dog did too.`)));
  const clean = { kind: 'stage' as const, name: 'clean', pipeline: 'p' };
  const stage = tokenize.trainBpe(clean, { vocabSize: 300 });
  assert.equal(stage.output, 'artifact');
  assert.deepEqual(stage.inputs, [clean]);
  const base = localTaskContext({ dir });
  const written: string[] = [];
  let info: Record<string, Json> = {};
  const ctx: CustomTaskContext = {
    ...base,
    inputs: [input],
    async writeFile(name, data) {
      written.push(name);
      await base.storage.write(join(dir, name), data);
    },
    async writeDocs() {
      throw new Error('unused');
    },
    setInfo(i) {
      info = { ...info, ...i };
    },
  };
  await stage.run(ctx);
  assert.deepEqual(written.sort(), ['sluice-tokenizer.json', 'tokenizer.json', 'tokenizer.tiktoken']);
  assert.equal(info.vocabSize, 300);
  assert.equal(info.eotToken, 0);
  const meta = JSON.parse(readFileSync(join(dir, 'sluice-tokenizer.json'), 'utf8'));
  assert.equal(meta.fingerprint, info.fingerprint);

  const tok = await loadTokenizer(dir);
  const bpe = { kind: 'stage' as const, name: 'bpe', pipeline: 'p' };
  const op = tokenize.encode({ tokenizer: bpe });
  assert.deepEqual(op.refs, [bpe]);
  const { out } = await runOperators([op], docs(['the cat sat']), { datasets: new Map([['bpe', memoryDataset('bpe', dir, [])]]) });
  assert.deepEqual([...out[0]!.tokens!], [...tok.encode('the cat sat'), 0]);
  assert.ok(out[0]!.tokens!.length < 'the cat sat'.length, 'merges learned');
  base.dispose();
});
