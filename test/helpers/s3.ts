/**
 * The S3 test server: `.ci/run` starts one (moto, or Ceph radosgw) and exports
 * `AWS_ENDPOINT_URL_S3` with credentials. Tests call `needS3()` and skip, visibly, without it.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';

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
