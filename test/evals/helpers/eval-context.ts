/**
 * A task context for running an `evaluate` stage in-process: files go to `outDir`, `setInfo`
 * and `log` are collected, and `writeDocs` is refused (an evaluation writes files only).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localTaskContext } from '../../../engine/testing.ts';
import type { CustomTaskContext, Dataset, Json } from '../../../engine/types.ts';

/** The context, the local context under it (to `dispose`), and what the stage set and logged. */
export function evalTaskContext(outDir: string, datasets: Map<string, Dataset>) {
  const base = localTaskContext({ dir: outDir, datasets, stage: 'eval' });
  const info: Record<string, Json> = {};
  const logs: string[] = [];
  const ctx: CustomTaskContext = Object.assign(base, {
    inputs: [...datasets.values()],
    log: (m: string) => void logs.push(m),
    async writeFile(name: string, data: Uint8Array | string) {
      writeFileSync(join(outDir, name), data);
    },
    async writeDocs(): Promise<{ rows: number }> {
      throw new Error('not used');
    },
    setInfo(i: Record<string, Json>) {
      Object.assign(info, i);
    },
  });
  return { ctx, base, info, logs };
}
