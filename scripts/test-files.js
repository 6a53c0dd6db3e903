#!/usr/bin/env node
/**
 * The test files of `npm test` in the order they start; printed one per line when run directly
 * (with `--built`, their compiled copies under dist-test/).
 *
 * 4 files run at a time on 2 cores, and the run is CPU-bound from start to end, so the order
 * matters at two points (measured 2026-12-06, CPU sampled every second):
 * - the end: alphabetically, test/trainer/torch.test.ts (~40 s of wall, mostly in Python) started
 *   last and ran alone at 50–60% CPU; it now starts first;
 * - the mix: with every slow folder first (pipelines, trainer, engine, report), the tfjs and torch
 *   training tests ran side by side and the run took more CPU (11.0 min against 10.1) and wall
 *   (6 min 28 s against 6 min 06 s); the rest keeps the alphabetical order, which spreads them.
 * `node --test <files>` sorts the files it is given (Node 20), so this order holds only through
 * `scripts/run-tests.js`, which hands it to node:test's `run()`.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Files that start first: long in wall time, light on this machine's CPU. */
const FIRST = ['test/trainer/torch.test.ts'];

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
 * Every `test/**\/*.test.ts` (relative paths): FIRST, then the rest alphabetically; with `built`,
 * the compiled copies (`dist-test/test/…/x.test.js`).
 */
export function testFiles({ built = false } = {}) {
  const all = walk('test').sort();
  const ordered = [...FIRST.filter((f) => all.includes(f)), ...all.filter((f) => !FIRST.includes(f))];
  return built ? ordered.map((f) => `dist-test/${f.replace(/\.ts$/, '.js')}`) : ordered;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(testFiles({ built: process.argv.includes('--built') }).join('\n') + '\n');
}
