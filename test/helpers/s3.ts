/**
 * The S3 test server: `.ci/run` starts one (moto, or Ceph radosgw) and exports
 * `AWS_ENDPOINT_URL_S3` with credentials. Tests call `needS3()` and skip, visibly, without it.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { storage } from '../../engine/storage/index.ts';
import { variesBetweenRuns } from './fixtures.ts';

/** `false` when an S3 endpoint is configured and answers, else the skip message. */
export async function needS3(): Promise<false | string> {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3;
  if (!endpoint) return 'skipped: no S3 test server (set AWS_ENDPOINT_URL_S3; .ci/run starts moto)';
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(3000) });
    return false;
  } catch (e) {
    return `skipped: S3 test server ${endpoint} does not answer (${(e as Error).message})`;
  }
}

/** Creates a fresh bucket with a random name and returns it. */
export async function makeBucket(prefix = 'sluice-test'): Promise<string> {
  const name = `${prefix}-${randomBytes(5).toString('hex')}`;
  const client = new S3Client({ endpoint: process.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true, region: process.env.AWS_REGION ?? 'us-east-1' });
  await client.send(new CreateBucketCommand({ Bucket: name }));
  client.destroy();
  return name;
}

/**
 * sha256 of every object under `prefix` (key after the prefix → hash), skipping what differs between
 * runs by nature (`variesBetweenRuns`). Stage plans (`_plan.json`) hold the workdir's URI, so two
 * workdirs' plans differ: `plans: 'skip'` leaves them out, `'presence'` records only that one exists.
 */
export async function objectHashes(prefix: string, plans: 'skip' | 'presence' = 'skip'): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await storage.list(prefix)) {
    if (variesBetweenRuns(e.uri)) continue;
    if (e.uri.endsWith('_plan.json')) {
      if (plans === 'presence') out[e.uri.slice(prefix.length)] = 'plan';
      continue;
    }
    out[e.uri.slice(prefix.length)] = createHash('sha256').update(await storage.read(e.uri)).digest('hex');
  }
  return out;
}
