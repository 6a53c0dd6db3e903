/**
 * The test files of `npm test` (scripts/test.js), sorted, as their compiled copies under dist-test/.
 *
 * The order is the one `node --test` uses anyway: it sorts the files it is given (Node 20), so an
 * earlier "slowest folders first" list here never took effect. Measured 2026-12-06 through
 * node:test's `run()`, which keeps a given order, on the quiet 2-core machine with the CPU sampled
 * every second: the run is CPU-bound from start to end in every order; slow folders first put the
 * tfjs and torch training tests side by side and took 11.0 min of CPU and 6 min 28 s (against
 * 10.1 min and 6 min 06 s alphabetically); the torch test first, 6 min 06–23 s. Alphabetical stays.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/** The compiled copies under dist-test/ of the test files under `test/` (relative to the working directory), sorted. */
export function testFiles() {
  return walk('test')
    .sort()
    .map((f) => `dist-test/${f.replace(/\.ts$/, '.js')}`);
}
