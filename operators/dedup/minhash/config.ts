/** The `dedup.minhash` configuration (validated with zod; errors name the key). */
import { z } from 'zod';
import { parseConfig } from '../../../engine/operator.ts';

export const minhashSchema = z
  .object({
    /** Words per shingle. */
    ngram: z.number().int().min(1).max(16).default(5),
    /** LSH bands. */
    bands: z.number().int().min(1).max(1024).default(14),
    /** Hash values per band. */
    rows: z.number().int().min(1).max(64).default(8),
    /** Seed of the hash functions. */
    seed: z.number().int().min(0).max(0xffffffff).default(1),
    /** Exact Jaccard check of candidate pairs (removes LSH false positives). */
    verify: z.boolean().default(false),
    /** Jaccard a verified pair must reach. */
    threshold: z.number().min(0).max(1).default(0.8),
    /** Keeper rule per cluster (ties: input order). */
    keep: z.enum(['first', 'longest', 'score']).default('first'),
    /** Dotted `meta` path of the score used by `keep: 'score'`. */
    scoreKey: z.string().min(1).default('quality.score'),
    /** Bands per bucketing task. */
    bandsPerTask: z.number().int().min(1).default(1),
    /** Memory budget of the sort buffers of one task, MiB. */
    bufferMB: z.number().min(0.001).max(4096).default(64),
    /** Most sorted runs merged at once. */
    fanIn: z.number().int().min(2).max(4096).default(64),
    /** Verification: most representatives a bucket keeps comparing against. */
    maxReps: z.number().int().min(1).max(1024).default(8),
    /** Instance name for the audit (default `dedup.minhash`). */
    name: z.string().min(1).optional(),
  })
  .strict();

export type MinHashConfig = z.output<typeof minhashSchema>;

/** Validates a `dedup.minhash` config and applies the defaults. */
export function parseMinhashConfig(config: unknown): MinHashConfig {
  return parseConfig('dedup.minhash', minhashSchema, config);
}
