import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { storage } from '../../engine/storage/index.ts';
import { needS3, makeBucket } from '../helpers/s3.ts';
import { runCli, startCli, tempProject } from '../helpers/cli.ts';
import { writeInputs, writeTestPipeline } from '../helpers/fixtures.ts';
import type { RunSummary } from '../../engine/runner.ts';

const skip = await needS3();

async function streamToBuffer(s: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function objectHashes(prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await storage.list(prefix)) {
    if (e.uri.includes('/_logs/') || e.uri.includes('/_timing/') || e.uri.includes('/_report/') || e.uri.endsWith('_plan.json') || e.uri.endsWith('/audit.html')) continue;
    out[e.uri.slice(prefix.length)] = createHash('sha256').update(await storage.read(e.uri)).digest('hex');
  }
  return out;
}

test('S3 storage: atomic writes, multipart, ranged reads, listing, deletes', { skip }, async () => {
  const bucket = await makeBucket();
  const base = `s3://${bucket}/t`;
  assert.equal(await storage.exists(`${base}/a.txt`), false);
  assert.equal(await storage.stat(`${base}/a.txt`), null);
  await storage.write(`${base}/a.txt`, 'hello world');
  assert.equal(await storage.readText(`${base}/a.txt`), 'hello world');
  assert.equal((await storage.stat(`${base}/a.txt`))!.size, 11);
  assert.equal((await streamToBuffer(await storage.readStream(`${base}/a.txt`, 6, 11))).toString(), 'world');
  assert.equal((await streamToBuffer(await storage.readStream(`${base}/a.txt`, 6))).toString(), 'world');

  // 40 MiB through the streaming writer: a multipart upload, invisible until commit.
  const big = randomBytes(40 * 1024 * 1024);
  const w = await storage.writer(`${base}/big.bin`);
  for (let i = 0; i < big.length; i += 3 * 1024 * 1024) await w.write(big.subarray(i, i + 3 * 1024 * 1024));
  assert.equal(await storage.exists(`${base}/big.bin`), false, 'not visible before commit');
  await w.commit();
  const got = await storage.read(`${base}/big.bin`);
  assert.equal(Buffer.compare(Buffer.from(got), big), 0);
  const mid = await streamToBuffer(await storage.readStream(`${base}/big.bin`, 20_000_000, 20_000_100));
  assert.equal(Buffer.compare(mid, big.subarray(20_000_000, 20_000_100)), 0);

  const aborted = await storage.writer(`${base}/never.bin`);
  await aborted.write(randomBytes(1000));
  await aborted.abort();
  assert.equal(await storage.exists(`${base}/never.bin`), false);

  await storage.write(`${base}x/other.txt`, 'sibling prefix');
  assert.deepEqual((await storage.list(base)).map((e) => e.uri), [`${base}/a.txt`, `${base}/big.bin`]);
  await storage.deletePrefix(base);
  assert.deepEqual(await storage.list(base), []);
  assert.equal(await storage.exists(`${base}x/other.txt`), true);
  await assert.rejects(storage.read(`${base}/gone`), /S3 GET s3:\/\/.*\/t\/gone failed: NoSuchKey/);
});

test('a pipeline with an s3:// workdir runs, survives kill -9, and resumes byte-identical', { skip }, async () => {
  const bucket = await makeBucket();
  const dir = tempProject();
  writeInputs(dir, 6, 30);
  // Inputs on S3 too, read through an s3:// glob.
  for (let f = 0; f < 6; f++) await storage.write(`s3://${bucket}/inputs/part-${f}.jsonl`, readFileSync(join(dir, 'data', `part-${f}.jsonl`)));
  writeTestPipeline(dir, { delayMs: 10 });
  const secret = `sEcReT${randomBytes(6).toString('hex')}`;
  const env = { AWS_ACCESS_KEY_ID: 'AKIATESTKEY', AWS_SECRET_ACCESS_KEY: secret };
  const ref = `s3://${bucket}/ref`;
  const first = await runCli(['run', 'pipeline.ts', '--workdir', ref, '--workers', '2', '--json'], { cwd: dir, env });
  assert.equal(first.code, 0, first.stderr);
  const summary = JSON.parse(first.stdout) as RunSummary;
  assert.ok(summary.stages[1]!.dir.startsWith(`${ref}/clean/`));
  assert.ok(await storage.exists(`${summary.stages[1]!.dir}/manifest.json`));
  const reference = await objectHashes(ref + '/');

  const work = `s3://${bucket}/work`;
  const { child, done } = startCli(['run', 'pipeline.ts', '--workdir', work, '--workers', '2'], { cwd: dir, env });
  const markers = async () => (await storage.list(`${work}/clean/`)).filter((e) => /\/_tasks\/\d{5}\.json$/.test(e.uri)).length;
  const t0 = Date.now();
  while ((await markers()) < 2 && Date.now() - t0 < 120_000) await new Promise((r) => setTimeout(r, 100));
  process.kill(-child.pid!, 'SIGKILL');
  const killed = await done;
  assert.equal(killed.signal, 'SIGKILL');
  assert.ok((await markers()) < 6, 'killed mid-stage');
  const resumed = await runCli(['run', 'pipeline.ts', '--workdir', work, '--workers', '2'], { cwd: dir, env });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(await objectHashes(work + '/'), reference);

  // Credentials never appear in output or written objects.
  for (const text of [first.stdout, first.stderr, resumed.stdout, resumed.stderr, killed.stderr]) assert.ok(!text.includes(secret));
  for (const e of await storage.list(`s3://${bucket}/`)) assert.ok(!Buffer.from(await storage.read(e.uri)).toString('latin1').includes(secret), e.uri);

  // read.jsonl over s3:// globs, split into byte ranges: every line read once.
  const p2 = join(dir, 's3in.ts');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    p2,
    `import { pipeline, read } from ${JSON.stringify(join(process.cwd(), 'index.ts'))};\nexport default pipeline({ name: 's3in', workdir: ${JSON.stringify(`s3://${bucket}/s3in`)} }, (p) => { p.stage('load', read.jsonl('s3://${bucket}/inputs/*.jsonl', { splitBytes: 700 })); });\n`,
  );
  const r = await runCli(['run', 's3in.ts', '--json'], { cwd: dir, env });
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as RunSummary;
  assert.ok(s.stages[0]!.tasks > 12, `split into ${s.stages[0]!.tasks} range tasks`);
  assert.equal(s.stages[0]!.docsOut, 180);
});
