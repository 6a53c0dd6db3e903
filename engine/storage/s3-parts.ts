/**
 * S3 multipart part sizes. Apart from s3.ts, so that reading them (shard.tokens checks its shard
 * size against them at declaration) does not load the AWS SDK, ~0.4 s of every process that
 * imports 'sluice'.
 */
/** Default part size of multipart uploads: 16 MiB keeps a 150 GiB object under S3's 10,000 parts. */
export const S3_PART_SIZE = 16 * 1024 * 1024;
/** S3's smallest part (all but the last); moto and `@aws-sdk/lib-storage` enforce it too. */
export const S3_MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3's largest part. */
export const S3_MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;

const UNITS: Record<string, number> = { '': 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };

/**
 * The multipart part size in bytes: `$SLUICE_S3_PART_SIZE` when set (an integer number of bytes,
 * or with a `KiB`/`MiB`/`GiB` suffix, e.g. `5MiB`), else 16 MiB. S3 accepts 5 MiB to 5 GiB; a
 * value outside that range, or not a number, is an error naming the variable. Smaller parts make
 * an object of 10,000 parts smaller (5 MiB parts: at most 48.8 GiB per object).
 */
export function s3PartSize(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SLUICE_S3_PART_SIZE;
  if (raw === undefined || raw.trim() === '') return S3_PART_SIZE;
  const m = /^\s*(\d+)\s*(KiB|MiB|GiB)?\s*$/.exec(raw);
  if (!m) throw new Error(`SLUICE_S3_PART_SIZE=${JSON.stringify(raw)}: expected a number of bytes, optionally with KiB, MiB or GiB (e.g. 5MiB)`);
  const bytes = Number(m[1]) * UNITS[m[2] ?? '']!;
  if (bytes < S3_MIN_PART_SIZE || bytes > S3_MAX_PART_SIZE) throw new Error(`SLUICE_S3_PART_SIZE=${JSON.stringify(raw)}: ${bytes} bytes is outside S3's part sizes, 5 MiB (${S3_MIN_PART_SIZE}) to 5 GiB (${S3_MAX_PART_SIZE})`);
  return bytes;
}
