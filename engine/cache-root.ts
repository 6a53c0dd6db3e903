/**
 * Sluice's cache folder on this machine: `SLUICE_CACHE`, else `~/.cache/sluice`. Datasets
 * (datasets/fetch.ts), LLM responses (llm/cache.ts) and compiled pipelines
 * (engine/modules/pipeline-compile.ts) each keep a sub-folder of it.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The cache folder: `SLUICE_CACHE`, else `~/.cache/sluice`. Read at each call, so a test may set it. */
export function sluiceCacheRoot(): string {
  return process.env.SLUICE_CACHE ?? join(homedir(), '.cache', 'sluice');
}
