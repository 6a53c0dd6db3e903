import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempProject, SLUICE } from '../../helpers/cli.ts';
import type { RunSummary } from '../../../engine/runner.ts';
import type { ShardManifest } from '../../../formats/shards.ts';
import { readBin } from '../../../formats/bin.ts';
import { shard } from '../../../operators/shard/index.ts';

const moto = spawnSync('sh', ['-c', 'command -v moto_server'], { encoding: 'utf8' }).stdout.trim();

async function startMoto(): Promise<{ child: ChildProcess; endpoint: string }> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(moto, ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore', detached: true });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(endpoint);
      return { child, endpoint };
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  process.kill(-child.pid!);
  throw new Error('moto_server did not start');
}

test('shard.tokens writes its shards to s3:// and reads packed chunks back with ranged GETs', { skip: moto ? false : 'skipped: moto_server (pip install moto[server]) is not installed' }, async () => {
  const { child, endpoint } = await startMoto();
  const env = { AWS_ENDPOINT_URL_S3: endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
  Object.assign(process.env, env);
  try {
    const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
    await new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1' }).send(new CreateBucketCommand({ Bucket: 'sluice' }));
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
    const r = await runCli(['run', 'pipeline.ts', '--json', '--workdir', 's3://sluice/runs', '--workers', '2'], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as RunSummary;
    const shardsDir = summary.stages.find((s) => s.stage === 'shards')!.dir;
    assert.match(shardsDir, /^s3:\/\/sluice\/runs\/shards\//);
    const { Storage } = await import('../../../engine/storage/index.ts');
    const store = new Storage();
    const m = await store.readJson<ShardManifest>(`${shardsDir}/shards.json`);
    assert.equal(m.dtype, 'uint16');
    assert.equal(m.vocabSize, 50257);
    assert.equal(m.eotToken, 50256);
    assert.ok(m.train.length >= 3, `${m.train.length} train shards`);
    let total = 0;
    for (const s of [...m.train, ...m.val]) {
      assert.match(s.uri, /^s3:\/\/sluice\/runs\/shards\.write\//);
      const bytes = await store.read(s.uri);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), s.sha256);
      total += readBin(bytes, s.uri).tokens.length;
    }
    assert.equal(total, m.tokens.train + m.tokens.val);
    assert.equal(total + m.droppedTokens, m.inputTokens);
  } finally {
    process.kill(-child.pid!);
  }
});

test('a shard that could exceed S3\'s 10,000 multipart parts is rejected up front', () => {
  assert.throws(() => shard.tokens({ tokenizer: 'gpt2', shardTokens: 50_000_000_000 }), /10,000 parts/);
  assert.throws(() => shard.tokens({ tokenizer: 'gpt2', seqLen: 1024, shardTokens: 100 }), /less than one sequence/);
  assert.throws(() => shard.tokens({ tokenizer: 'gpt2', format: 'csv' as never }), /shard\.tokens: config key 'format'/);
});
