/** Shared fixtures of the dedup tests: a planted-duplicate corpus and a local expansion run. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCorpus, type CorpusOptions, type PlantedPair } from '../../../bench/dedup-corpus.ts';
import { MemoryAudit } from '../../../engine/testing.ts';
import type { Doc, StageExpansion } from '../../../engine/types.ts';
import { jsonlDataset, runExpansionLocal } from '../../../operators/dedup/local.ts';

export interface Corpus {
  dir: string;
  paths: string[];
  pairs: PlantedPair[];
  docs: number;
}

/** Writes a generated corpus into a fresh temp dir. */
export async function corpus(files: number, opts: CorpusOptions): Promise<Corpus> {
  const dir = mkdtempSync(join(tmpdir(), 'dedup-test-'));
  const c = await writeCorpus(join(dir, 'in'), files, opts);
  return { dir, paths: c.paths, pairs: c.pairs, docs: c.docs };
}

/** Runs an expansion over JSONL files with the local runner; returns kept docs and drops. */
export async function runLocal(exp: StageExpansion, paths: string[], workdir: string, workers = 1) {
  const audit = new MemoryAudit();
  const input = jsonlDataset('input', join(paths[0]!, '..'), paths);
  const { result, datasets } = await runExpansionLocal(exp, 'dedup', input, { workdir, audit, workers });
  const kept: Doc[] = [];
  for await (const b of result.readDocs()) kept.push(...b);
  return { kept, drops: audit.drops, audit, datasets };
}
