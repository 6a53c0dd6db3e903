/**
 * Streaming-operator forms of the dedup expansions, for `sluice apply dedup.<kind>` and
 * pipeline-less use: the operator consumes its whole input (spooled to the task's tmpDir, so
 * memory stays bounded), runs every stage of the expansion in-process over it, then yields the
 * kept documents in input order. Drops go to the task's audit exactly as in a pipeline, each
 * naming its cluster or group and the id and URL of the document kept instead.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Operator, StageExpansion } from '../../engine/types.ts';
import { jsonlDataset, runExpansionLocal, writeJsonl } from './local.ts';

/** Wraps an expansion as an operator that deduplicates everything it is given. */
export function expansionOperator(expansion: StageExpansion): Operator {
  return {
    kind: 'operator',
    type: expansion.type,
    name: expansion.name,
    version: expansion.version,
    config: expansion.config,
    async *process(input, ctx) {
      const dir = join(ctx.tmpDir, `${expansion.type}-${ctx.index}-${process.hrtime.bigint()}`);
      await mkdir(join(dir, 'input'), { recursive: true });
      try {
        const spool = join(dir, 'input', 'part-00000.jsonl');
        const rows = await writeJsonl(spool, input);
        ctx.log(`${expansion.type}: ${rows} documents spooled`);
        const src = jsonlDataset('input', join(dir, 'input'), [spool]);
        const { result } = await runExpansionLocal(expansion, 'dedup', src, { workdir: join(dir, 'work'), audit: ctx.audit, log: (m) => ctx.log(m), signal: ctx.signal });
        yield* result.readDocs();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
