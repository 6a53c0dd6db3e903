#!/usr/bin/env node
/**
 * Prints the test files for `npm test`, slowest folders first (with `--built`, their compiled
 * copies under dist-test/). node --test starts files in the
 * order given, --test-concurrency at a time; the quickstart test alone takes ~100 s of a ~380 s run,
 * so when it started last (test/pipelines sorts late) one core idled while it finished. Measured on
 * 2 cores: 6 min 21 s in alphabetical order. Within each group the order stays alphabetical.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Folders whose tests spawn whole pipelines, clusters or browsers (tens of seconds each): run first. */
const SLOW_FIRST = ['test/pipelines', 'test/engine', 'test/report', 'test/trainer'];

function testFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(p));
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const all = testFiles('test').sort();
const rank = (f) => {
  const i = SLOW_FIRST.findIndex((d) => f.startsWith(d + '/'));
  return i === -1 ? SLOW_FIRST.length : i;
};
const ordered = all.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map((x) => x.f);
// --built: the compiled copies in dist-test/ (scripts/build-tests.js) that `npm test` runs.
const built = process.argv.includes('--built');
process.stdout.write(ordered.map((f) => (built ? `dist-test/${f.replace(/\.ts$/, '.js')}` : f)).join('\n') + '\n');
