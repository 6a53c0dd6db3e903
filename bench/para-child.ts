/**
 * One `dedup.paragraphs` growth measurement in a fresh process (for `bench/subdoc.bench.ts`): runs
 * the stage's tasks on one core over a JSONL corpus the parent wrote (`writeParaCorpus`), with
 * the pipeline's Parquet audit writer, and prints CPU seconds, the span count and the process's
 * peak RSS above its state before the work, so memory can be compared across corpus sizes.
 *
 * Usage: node --expose-gc --import tsx bench/para-child.ts <corpusDir> <exact | sort | bloom> <expectedLines> [bufferMB]
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { TaskAudit } from '../engine/audit.ts';
import { jsonlDataset, runExpansionLocal } from '../operators/dedup/local.ts';
import { paragraphs } from '../operators/dedup/paragraphs.ts';
import { peakRss } from './harness.ts';

const [dir, mode, expected] = [process.argv[2]!, process.argv[3]!, Number(process.argv[4])];
const bufferMB = process.argv[5] === undefined ? undefined : Number(process.argv[5]);
if (mode !== 'exact' && mode !== 'sort' && mode !== 'bloom') throw new Error(`para-child: mode must be exact, sort or bloom, got ${mode}`);
const inDir = join(dir, 'in');
const paths = readdirSync(inDir)
  .filter((f) => f.endsWith('.jsonl'))
  .sort()
  .map((f) => join(inDir, f));
const work = join(dir, `work-${mode}`);
const input = jsonlDataset('input', inDir, paths);
// The Bloom filter is sized for the corpus's line count, as a user would size it (fpRate 1e-6).
// 'exact' is the default (stream strategy), 'sort' the three-stage strategy.
const opts = mode === 'bloom' ? { unit: 'line', bloom: { expected, fpRate: 1e-6 } } : mode === 'sort' ? { unit: 'line', strategy: 'sort' as const, bufferMB } : { unit: 'line', bufferMB };
global.gc?.();
const before = process.memoryUsage().rss;
const c0 = process.cpuUsage();
const audit = new TaskAudit(join(work, '_audit'), 0);
const logs: string[] = [];
await runExpansionLocal(paragraphs(opts), 'dedup', input, { workdir: work, audit, workers: 1, log: (m) => void (m.includes('table full') && logs.push(m)) });
await audit.close();
const c = process.cpuUsage(c0);
const spans = audit.operators['dedup.paragraphs']?.drops['dedup.duplicateLine'] ?? 0;
const peakAboveBase = peakRss() - before;
rmSync(work, { recursive: true, force: true });
console.log(JSON.stringify({ cpuS: (c.user + c.system) / 1e6, spans, peakAboveBase, logs }));
