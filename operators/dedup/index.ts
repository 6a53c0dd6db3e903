/**
 * The `dedup.*` factories: `dedup.exact`, `dedup.url`, `dedup.minhash`, `dedup.paragraphs`,
 * `dedup.substrings`. Each returns a stage
 * expansion for `p.stage(name, input, dedup.x({...}))` (global dedup across all tasks and
 * machines); the same names are registered for `sluice apply`, where they run in-process over
 * one input.
 */
import { registerOperator } from '../../engine/operator.ts';
import type { Json } from '../../engine/types.ts';
import { expansionOperator } from './apply.ts';
import { exact, type ExactOptions } from './exact.ts';
import { minhash } from './minhash/stages.ts';
import { paragraphs, type ParagraphsOptions } from './paragraphs.ts';
import { substrings, substringsFromJson } from './substrings.ts';
import type { MinHashConfig } from './minhash/config.ts';
import { url, type UrlOptions } from './url.ts';

/** Deduplication operators (expansions). */
export const dedup = {
  exact,
  url,
  minhash,
  paragraphs,
  substrings,
};

registerOperator('dedup.minhash', 'MinHash-LSH near-duplicate removal (whole input; drops name cluster and kept id)', (c: Json) =>
  expansionOperator(minhash((c ?? {}) as Partial<MinHashConfig>)),
);
registerOperator('dedup.exact', 'exact content duplicates (optionally after normalisation); keeps the first in input order', (c: Json) =>
  expansionOperator(exact((c ?? {}) as ExactOptions)),
);
registerOperator('dedup.url', 'one document per normalised URL (keeps the latest crawl or the longest)', (c: Json) => expansionOperator(url((c ?? {}) as UrlOptions)));
registerOperator('dedup.paragraphs', 'removes repeated lines / paragraphs / N-sentence windows, keeping the first occurrence (exact sort or Bloom filter)', (c: Json) =>
  expansionOperator(paragraphs((c ?? {}) as ParagraphsOptions)),
);
registerOperator('dedup.substrings', 'removes repeated token spans of >= minTokens (suffix array, Lee et al. 2021), keeping the first occurrence', (c: Json) =>
  expansionOperator(substringsFromJson(c)),
);
