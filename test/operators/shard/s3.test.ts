import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempProject, SLUICE } from '../../helpers/cli.ts';
import { makeBucket, needS3 } from '../../helpers/s3.ts';
import type { RunSummary } from '../../../engine/runner.ts';
import type { ShardManifest } from '../../../formats/shards.ts';
import { readBin } from '../../../formats/bin.ts';
import { shard } from '../../../operators/shard/index.ts';

// On the shared S3 test server (test/helpers/s3.ts), as every other S3 test: this one used to start
// a moto_server of its own on a random port and wait for it, which failed when the port was taken
// (seen once in a full run: the server exited, 20 s of waiting, then ESRCH).
test('shard.tokens writes its shards to s3:// and reads packed chunks back with ranged GETs', async (t) => {
  const s3 = await needS3();
  if (s3) return t.skip(s3);
  const bucket = await makeBucket('sluice-shards');
  const dir = tempProject('sluice-s3-');
  mkdirSync(join(dir, 'data'));
  const texts = Array.from({ length: 300 }, (_, i) => `Document ${i}: the mill race turns the wheel ${i % 7} times before the weir.`);
  writeFileSync(join(dir, 'data', 'a.jsonl'), texts.map((t, i) => JSON.stringify({ id: `d${i}`, text: t })).join('\n') + '\n');
  writeFileSync(
    join(dir, 'pipeline.ts'),
    `import { pipeline, read, tokenize, shard } from ${JSON.stringify(SLUICE)};
export default pipeline({ name: 's3tok', workdir: 'runs' }, (p) => {
  const docs = p.stage('load', read.jsonl('data/*.jsonl'));
  const enc = p.stage('encoded', docs, [tokenize.encode({ tokenizer: 'gpt2' })]);
  p.stage('shards', enc, shard.tokens({ tokenizer: 'gpt2', seqLen: 32, shardTokens: 320, valFraction: 0.05, chunkSequences: 8 }));
});
`,
  );
  const r = await runCli(['run', 'pipeline.ts', '--json', '--workdir', `s3://${bucket}/runs`, '--workers', '2'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as RunSummary;
  const shardsDir = summary.stages.find((s) => s.stage === 'shards')!.dir;
  assert.ok(shardsDir.startsWith(`s3://${bucket}/runs/shards/`), shardsDir);
  const { Storage } = await import('../../../engine/storage/index.ts');
  const store = new Storage();
  const m = await store.readJson<ShardManifest>(`${shardsDir}/shards.json`);
  assert.equal(m.dtype, 'uint16');
  assert.equal(m.vocabSize, 50257);
  assert.equal(m.eotToken, 50256);
  assert.ok(m.train.length >= 3, `${m.train.length} train shards`);
  let total = 0;
  for (const s of [...m.train, ...m.val]) {
    assert.ok(s.uri.startsWith(`s3://${bucket}/runs/shards.write/`), s.uri);
    const bytes = await store.read(s.uri);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), s.sha256);
    total += readBin(bytes, s.uri).tokens.length;
  }
  assert.equal(total, m.tokens.train + m.tokens.val);
  assert.equal(total + m.droppedTokens, m.inputTokens);
});

test('a shard that could exceed S3\'s 10,000 multipart parts is rejected up front', () => {
  assert.throws(() => shard.tokens({ tokenizer: 'gpt2', shardTokens: 50_000_000_000 }), /10,000 parts/);
  assert.throws(() => shard.tokens({ tokenizer: 'gpt2', seqLen: 1024, shardTokens: 100 }), /less than one sequence/);
  assert.throws(() => shard.tokens({ tokenizer: 'gpt2', format: 'csv' as never }), /shard\.tokens: config key 'format'/);
});
