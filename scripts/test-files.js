#!/usr/bin/env node
/**
 * The test files of `npm test`, slowest folders first; printed one per line when run directly
 * (with `--built`, their compiled copies under dist-test/).
 *
 * Order matters on 2 cores: 4 files run at a time, and a long file that starts late leaves a core
 * idle while it finishes. `node --test <files>` sorts the files it is given (Node 20), so this
 * order only holds through `scripts/run-tests.js`, which hands it to node:test's `run()`. In a
 * run in alphabetical order (2026-12-06), test/trainer/torch.test.ts started last and ran alone for
 * the last ~40 s at 50–60% CPU.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Folders whose tests spawn whole pipelines, trainers, clusters or browsers (tens of seconds each): run first, in this order. */
const SLOW_FIRST = ['test/pipelines', 'test/trainer', 'test/engine', 'test/report'];

function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

/**
 * Every `test/**\/*.test.ts` (relative paths), slowest folders first and alphabetical within each;
 * with `built`, the compiled copies (`dist-test/test/…/x.test.js`).
 */
export function testFiles({ built = false } = {}) {
  const all = walk('test').sort();
  const rank = (f) => {
    const i = SLOW_FIRST.findIndex((d) => f.startsWith(d + '/'));
    return i === -1 ? SLOW_FIRST.length : i;
  };
  const ordered = all.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map((x) => x.f);
  return built ? ordered.map((f) => `dist-test/${f.replace(/\.ts$/, '.js')}`) : ordered;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(testFiles({ built: process.argv.includes('--built') }).join('\n') + '\n');
}
