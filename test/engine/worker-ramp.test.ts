/**
 * The local executor's worker ramp (engine/executor/local.ts, workerRampMs): a stage starts one
 * worker and adds more only while tasks are still queued after the ramp; rampMs 0 starts them all
 * at once. Each task's map appends its worker's pid to a file, which tells how many workers ran.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LocalExecutor, workerRampMs } from '../../engine/executor/local.ts';
import { run } from '../../engine/runner.ts';
import { tempProject, writePipeline } from '../helpers/cli.ts';
import { writeInputs } from '../helpers/fixtures.ts';

/** A one-map-stage pipeline over 4 input files of 3 docs (4 tasks); each task sleeps `taskMs` once, at its first doc. */
function project(taskMs: number): { dir: string; file: string; pids: () => Set<string> } {
  const dir = tempProject('sluice-ramp-');
  writeInputs(dir, 4, 3);
  const log = join(dir, 'pids.txt');
  const file = writePipeline(
    dir,
    'pipeline.ts',
    `import { appendFileSync } from 'node:fs';
export default pipeline({ name: 'ramp', workdir: ${JSON.stringify(join(dir, 'runs', 'w'))} }, (p) => {
  const raw = p.stage('load', read.jsonl(${JSON.stringify(join(dir, 'data', '*.jsonl'))}));
  p.stage('tag', raw, [
    map('pid', async (d) => {
      appendFileSync(${JSON.stringify(log)}, process.pid + '\\n');
      if (Number(d.id.slice(4)) % 3 === 0) await new Promise((r) => setTimeout(r, ${taskMs}));
      return d;
    }, { taskMs: ${taskMs} }),
  ]);
});`,
  );
  return { dir, file, pids: () => new Set(readFileSync(log, 'utf8').trim().split('\n')) };
}

test('workerRampMs reads SLUICE_WORKER_RAMP_MS (default 250) and names a bad value', () => {
  assert.equal(workerRampMs({}), 250);
  assert.equal(workerRampMs({ SLUICE_WORKER_RAMP_MS: '0' }), 0);
  assert.equal(workerRampMs({ SLUICE_WORKER_RAMP_MS: '1500' }), 1500);
  assert.throws(() => workerRampMs({ SLUICE_WORKER_RAMP_MS: 'soon' }), /SLUICE_WORKER_RAMP_MS must be a number of milliseconds ≥ 0 \(got "soon"\)/);
});

test('quick tasks run on one worker while the ramp waits; slow tasks bring more workers', async () => {
  // Quick: the 4 tasks finish long before a 60 s ramp ends, so one worker ran them all.
  const quick = project(0);
  const a = await run(quick.file, { executor: new LocalExecutor(4, 60_000), progress: 'none' });
  assert.equal(a.stages.find((s) => s.stage === 'tag')!.docsOut, 12);
  assert.equal(quick.pids().size, 1, [...quick.pids()].join(', '));
  // Slow: each task sleeps 1.5 s, so tasks are still queued when a 50 ms ramp ends.
  const slow = project(1500);
  const b = await run(slow.file, { executor: new LocalExecutor(2, 50), progress: 'none' });
  assert.equal(b.stages.find((s) => s.stage === 'tag')!.docsOut, 12);
  assert.ok(slow.pids().size >= 2, `slow tasks ran on ${slow.pids().size} worker(s)`);
  rmSync(quick.dir, { recursive: true, force: true });
  rmSync(slow.dir, { recursive: true, force: true });
});
