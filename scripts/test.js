#!/usr/bin/env node
/**
 * `npm test` (after `pretest` built dist/ and dist-test/): runs every compiled test file with
 * Node's test runner, 4 files at a time, each test's timeout 10 min, with `TMPDIR` set to a
 * folder of this run's own, which is deleted when the run ends, pass or fail.
 *
 * Why the folder: tests, and the `sluice` processes, workers, Python, Chromium and Slurm jobs
 * they start, make their scratch folders with `os.tmpdir()` (or `tempfile`, `mktemp`), and many
 * leave them: one run left 172 folders and 1.2 GB in /tmp (measured 2026-12-06; a session of
 * runs, 20 GB). Everything they write now lands in `<tmp>/sluice-test-run-XXXXXX/`.
 *
 * - Arguments are passed to `node --test` before the file list, e.g.
 *   `npm test -- --test-name-pattern=megatron`.
 * - `SLUICE_TEST_KEEP_TMP=1` keeps the folder and prints where it is, to look at what a test wrote.
 * - Ctrl-C (SIGINT) or SIGTERM is passed on to the test runner; the folder goes once it exits.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testFiles } from './test-files.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-test-run-'));
const keep = process.env.SLUICE_TEST_KEEP_TMP === '1';
const args = ['--conditions=sluice-source', '--test', '--test-concurrency=4', '--test-timeout=600000', ...process.argv.slice(2), ...testFiles()];
const child = spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, TMPDIR: dir } });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  if (keep) process.stderr.write(`sluice: the tests' temporary files are kept in ${dir}\n`);
  else {
    try {
      // A process a test started may still be writing (a server being shut down): retried.
      rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    } catch (e) {
      process.stderr.write(`sluice: could not remove the tests' temporary folder ${dir}: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }
  process.exitCode = code ?? (signal ? 128 + ({ SIGINT: 2, SIGTERM: 15, SIGKILL: 9 }[signal] ?? 1) : 1);
});
