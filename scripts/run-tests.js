#!/usr/bin/env node
/**
 * `npm test`'s runner: node:test's `run()` over the compiled test files (dist-test/, built by
 * `pretest`) in scripts/test-files.js's order, 4 at a time, TAP on stdout, exit code 1 when a
 * test fails. Not `node --test <files>`: that sorts the files by name, and the slow ones must
 * start first. Run it under `node --conditions=sluice-source` (the test processes inherit the
 * flag, as `node --test` passed it on).
 *
 * Options: `--concurrency N` (default 4), any other argument is a test file to run instead of all.
 */
import { resolve } from 'node:path';
import { run } from 'node:test';
import { tap } from 'node:test/reporters';
import { testFiles } from './test-files.js';

const args = process.argv.slice(2);
const at = args.indexOf('--concurrency');
const concurrency = at >= 0 ? Number(args.splice(at, 2)[1]) : 4;
if (!Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write(`run-tests: --concurrency must be a positive integer (got ${JSON.stringify(process.argv[process.argv.indexOf('--concurrency') + 1])})\n`);
  process.exit(2);
}
const files = (args.length ? args : testFiles({ built: true })).map((f) => resolve(f));
const stream = run({ files, concurrency, timeout: 600_000 });
stream.on('test:fail', () => {
  process.exitCode = 1;
});
stream.compose(tap).pipe(process.stdout);
