import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipeline, read, shard, tokenize } from '../../index.ts';
import type { CustomStage, Dataset, StageRef, TaskContext } from '../../engine/types.ts';
import type { ShardsInfo } from '../../formats/shards.ts';
import type { TokenizerInfo } from '../../formats/tokenizer.ts';

// The custom stage of docs/operators.md, as written there.
type CountInfo = { docs: number; summary: string };
const count = (input: StageRef): CustomStage<CountInfo> => ({ kind: 'custom', type: 'count', name: 'count', version: '1',
  config: {}, inputs: [input], output: 'artifact',
  async run(ctx) { let docs = 0; for await (const b of ctx.inputs[0]!.readDocs(undefined, { columns: ['id'] })) docs += b.length; ctx.setInfo({ docs, summary: `${docs} docs` }); } });

/** Compile-time equality: `true` only when A and B are the same type. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const is = <T extends true>(_: T) => {};

test('a stage handle carries its info type from declaration to consumption', () => {
  const refs: { counted?: StageRef<CountInfo>; bpe?: StageRef<TokenizerInfo>; shards?: StageRef<ShardsInfo> } = {};
  const p = pipeline({ name: 'typed', workdir: '/tmp/typed' }, (p) => {
    const docs = p.stage('docs', read.jsonl('x.jsonl'));
    const counted = p.stage('count', count(docs));
    const bpe = p.stage('bpe', tokenize.trainBpe(docs, { vocabSize: 300 }));
    const enc = p.stage('enc', docs, [tokenize.encode({ tokenizer: bpe })]);
    const shards = p.stage('shards', enc, shard.tokens({ tokenizer: bpe, seqLen: 8 }));
    is<Equal<typeof counted, StageRef<CountInfo>>>(true);
    is<Equal<typeof bpe, StageRef<TokenizerInfo>>>(true);
    is<Equal<typeof shards, StageRef<ShardsInfo>>>(true);
    Object.assign(refs, { counted, bpe, shards });
  });
  assert.deepEqual(p.stages.map((s) => s.name), ['docs', 'count', 'bpe', 'enc', 'shards.pack', 'shards.write', 'shards']);
  // Where a task opens it, the manifest info has the stage's type.
  const open = (ctx: TaskContext) => ctx.dataset(refs.shards!);
  is<Equal<Awaited<ReturnType<typeof open>>, Dataset<ShardsInfo>>>(true);
  const seqLen = (ds: Dataset<ShardsInfo>) => ds.manifest.info?.seqLen;
  is<Equal<ReturnType<typeof seqLen>, number | undefined>>(true);
  // @ts-expect-error a misspelt info key is a type error, not undefined at run time
  const typo = (ds: Dataset<CountInfo>) => ds.manifest.info?.doc;
  void typo;
});
