/**
 * Crash safety of S3 multipart uploads: the part size setting, aborting orphaned uploads, and a
 * run killed with SIGKILL between two parts of an upload, then run again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, ListPartsCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { storage } from '../../engine/storage/index.ts';
import { S3Storage, S3_PART_SIZE, s3PartSize } from '../../engine/storage/s3.ts';
import { removeLeftovers } from '../../engine/runner.ts';
import { needS3, makeBucket } from '../helpers/s3.ts';
import { runCli, startCli, tempProject, writePipeline } from '../helpers/cli.ts';
import { writeInputs } from '../helpers/fixtures.ts';

const skip = await needS3();
const MiB = 1024 * 1024;

function client(): S3Client {
  return new S3Client({ endpoint: process.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true, region: process.env.AWS_REGION ?? 'us-east-1' });
}

/** Unfinished multipart uploads under `prefix` (a key prefix of `bucket`), with their parts' sizes. */
async function uploads(c: S3Client, bucket: string, prefix: string): Promise<{ key: string; parts: number[] }[]> {
  const r = await c.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  const out: { key: string; parts: number[] }[] = [];
  for (const u of r.Uploads ?? []) {
    const p = await c.send(new ListPartsCommand({ Bucket: bucket, Key: u.Key!, UploadId: u.UploadId! }));
    out.push({ key: u.Key!, parts: (p.Parts ?? []).map((x) => x.Size ?? 0) });
  }
  return out;
}

/** sha256 of every object under `prefix` except logs and plans (plans hold the workdir's URI). */
async function objectHashes(prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await storage.list(prefix)) {
    if (e.uri.includes('/_logs/') || e.uri.endsWith('_plan.json') || e.uri.endsWith('/audit.html')) continue;
    out[e.uri.slice(prefix.length)] = createHash('sha256').update(await storage.read(e.uri)).digest('hex');
  }
  return out;
}

test('SLUICE_S3_PART_SIZE: bytes or KiB/MiB/GiB, within S3 limits of 5 MiB to 5 GiB, else an error naming it', () => {
  assert.equal(s3PartSize({}), S3_PART_SIZE);
  assert.equal(s3PartSize({ SLUICE_S3_PART_SIZE: '' }), S3_PART_SIZE);
  assert.equal(s3PartSize({ SLUICE_S3_PART_SIZE: '5MiB' }), 5 * MiB);
  assert.equal(s3PartSize({ SLUICE_S3_PART_SIZE: '5242880' }), 5 * MiB);
  assert.equal(s3PartSize({ SLUICE_S3_PART_SIZE: '8192KiB' }), 8 * MiB);
  assert.equal(s3PartSize({ SLUICE_S3_PART_SIZE: '5GiB' }), 5 * 1024 * MiB);
  assert.throws(() => s3PartSize({ SLUICE_S3_PART_SIZE: '4MiB' }), /SLUICE_S3_PART_SIZE="4MiB": 4194304 bytes is outside S3's part sizes, 5 MiB \(5242880\) to 5 GiB/);
  assert.throws(() => s3PartSize({ SLUICE_S3_PART_SIZE: '6GiB' }), /SLUICE_S3_PART_SIZE="6GiB": .* outside S3's part sizes/);
  assert.throws(() => s3PartSize({ SLUICE_S3_PART_SIZE: '16MB' }), /SLUICE_S3_PART_SIZE="16MB": expected a number of bytes, optionally with KiB, MiB or GiB/);
  assert.throws(() => s3PartSize({ SLUICE_S3_PART_SIZE: '-5MiB' }), /expected a number of bytes/);
  const saved = process.env.SLUICE_S3_PART_SIZE;
  process.env.SLUICE_S3_PART_SIZE = '1MiB';
  try {
    assert.throws(() => new S3Storage(), /SLUICE_S3_PART_SIZE="1MiB"/, 'checked when the backend is created, before any upload');
  } finally {
    if (saved === undefined) delete process.env.SLUICE_S3_PART_SIZE;
    else process.env.SLUICE_S3_PART_SIZE = saved;
  }
});

test('S3 removeTemps aborts the unfinished multipart uploads under a prefix, and only those', { skip }, async () => {
  const bucket = await makeBucket();
  const c = client();
  const start = async (key: string) => {
    const u = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    await c.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: u.UploadId!, PartNumber: 1, Body: randomBytes(1000) }));
  };
  await start('run/stage/fp/part-00000.parquet');
  await start('run/stage/fp/_audit/00000.parquet');
  await start('run/stagex/fp/part-00000.parquet');
  const s3 = new S3Storage();
  assert.equal(await s3.removeTemps(`s3://${bucket}/run/stage`), 2);
  assert.deepEqual((await uploads(c, bucket, 'run/')).map((u) => u.key), ['run/stagex/fp/part-00000.parquet'], "a sibling prefix 'stagex' is not under 'stage'");
  assert.equal(await s3.removeTemps(`s3://${bucket}/run/stage`), 0);
  c.destroy();
});

test('a failure to remove leftovers is a warning naming the stage directory, not a failed run', { skip }, async () => {
  const uri = `s3://sluice-no-such-bucket-${randomBytes(4).toString('hex')}/w/stage/fp`;
  const lines: string[] = [];
  const write = process.stderr.write;
  process.stderr.write = ((chunk: string | Uint8Array) => lines.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    assert.equal(await removeLeftovers(uri, 'stage'), 0);
  } finally {
    process.stderr.write = write;
  }
  assert.match(lines.join(''), /^stage: warning: could not remove what interrupted writes left under s3:\/\/sluice-no-such-bucket-[0-9a-f]+\/w\/stage\/fp: S3 LIST uploads .* failed: NoSuchBucket/);
});

test('kill -9 between two parts of a multipart upload: no visible object, the rerun aborts the orphaned upload and writes identical bytes', { skip, timeout: 180_000 }, async () => {
  const bucket = await makeBucket();
  const dir = tempProject();
  // A custom stage streams a 7 MiB file through the engine's atomic writer (ctx.fileWriter):
  // after 6 MiB one 5 MiB part is uploaded, then it holds until the file `go` exists. While it is
  // missing, the run waits with one part stored and the object not completed, however slow the
  // machine. (Parquet outputs are no use here: parquet-wasm hands over a file's bytes only when
  // it is closed, so their upload happens in one burst at the end of a task.)
  writeInputs(dir, 1, 5);
  const go = join(dir, 'go');
  writePipeline(
    dir,
    'pipeline.ts',
    `import { existsSync } from 'node:fs';
const big = (input) => ({
  kind: 'custom', type: 'test.big', name: 'test.big', version: '1', config: {}, inputs: [input], output: 'artifact',
  async run(ctx) {
    const w = await ctx.fileWriter('big.bin');
    for (let k = 0; k < 7; k++) {
      if (k === 6) while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 20));
      await w.write(new Uint8Array(1 << 20).fill(k + 1));
    }
    await w.commit();
  },
});
export default pipeline({ name: 'big', workdir: 'runs/big' }, (p) => {
  p.stage('big', big(p.stage('load', read.jsonl('data/*.jsonl'))));
});`,
  );
  writeFileSync(go, '');
  const env = { SLUICE_S3_PART_SIZE: '5MiB' };
  const ref = `s3://${bucket}/ref`;
  const first = await runCli(['run', 'pipeline.ts', '--workdir', ref, '--workers', '1'], { cwd: dir, env });
  assert.equal(first.code, 0, first.stderr);
  const reference = await objectHashes(ref + '/');
  const file = Object.keys(reference).find((k) => k.endsWith('/big.bin'));
  assert.equal(file && (await storage.stat(ref + '/' + file))!.size, 7 * MiB, 'the output needs two parts');

  const c = client();
  rmSync(go);
  const { child, done } = startCli(['run', 'pipeline.ts', '--workdir', `s3://${bucket}/work`, '--workers', '1'], { cwd: dir, env });
  let seen: { key: string; parts: number[] }[] = [];
  let exited = false;
  void done.then(() => (exited = true));
  const t0 = Date.now();
  while (!exited && Date.now() - t0 < 120_000) {
    // moto lists a part while its body is still arriving: wait for a whole 5 MiB part.
    seen = (await uploads(c, bucket, 'work/')).filter((u) => u.parts.includes(5 * MiB));
    if (seen.length) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  process.kill(-child.pid!, 'SIGKILL');
  const killed = await done;
  assert.equal(killed.signal, 'SIGKILL', `killed mid-upload, not finished (stderr: ${killed.stderr.slice(-400)})`);
  assert.equal(seen.length, 1, 'one upload had a whole part (of the SLUICE_S3_PART_SIZE size) stored when the run was killed');
  assert.match(seen[0]!.key, /^work\/big\/[0-9a-f]+\/big\.bin$/);
  // Nothing half-written is visible, and the upload is still there for the rerun to find.
  assert.equal(await storage.stat(`s3://${bucket}/${seen[0]!.key}`), null);
  assert.deepEqual((await uploads(c, bucket, 'work/')).map((u) => u.key), [seen[0]!.key]);

  writeFileSync(go, '');
  const resumed = await runCli(['run', 'pipeline.ts', '--workdir', `s3://${bucket}/work`, '--workers', '1'], { cwd: dir, env });
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(await uploads(c, bucket, 'work/'), [], 'no multipart upload is left under the workdir');
  assert.match(resumed.stderr, /big: removed 1 temporary file\(s\) or unfinished upload\(s\) left by an interrupted write/);
  assert.deepEqual(await objectHashes(`s3://${bucket}/work/`), reference);
  c.destroy();
});
