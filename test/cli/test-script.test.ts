/**
 * `npm test`'s runner (scripts/test.js) on a project of its own: every compiled test file runs,
 * with TMPDIR a folder of the run's own that is gone afterwards; a failing test fails the run;
 * SLUICE_TEST_KEEP_TMP=1 keeps the folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { REPO } from '../helpers/data.ts';

const SCRIPT = join(REPO, 'scripts', 'test.js');
/** The environment of a top-level run: node:test marks its own children (NODE_TEST_CONTEXT), and a `node --test` under that mark reports to its parent instead of running as `npm test` does. */
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT'));

/** A project with test/<name>.test.ts and its "compiled" dist-test copy, which writes a scratch file and records where. */
function project(tests: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-testscript-'));
  for (const [name, body] of Object.entries(tests)) {
    mkdirSync(join(dir, 'test'), { recursive: true });
    mkdirSync(join(dir, 'dist-test', 'test'), { recursive: true });
    writeFileSync(join(dir, 'test', `${name}.test.ts`), '// source; the runner runs the compiled copy\n');
    writeFileSync(join(dir, 'dist-test', 'test', `${name}.test.js`), body);
  }
  return dir;
}

const SCRATCH = (out: string, pass: boolean) => `import { test } from 'node:test';
import { mkdtempSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
test('writes scratch', () => {
  const d = mkdtempSync(join(tmpdir(), 'scratch-'));
  writeFileSync(join(d, 'f'), 'x');
  appendFileSync(${JSON.stringify(out)}, d + '\\n');
  if (!${pass}) throw new Error('planted failure');
});
`;

test('scripts/test.js: every test file runs with TMPDIR a folder of the run, removed at the end; failures fail the run', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'sluice-testscript-out-')), 'scratch.txt');
  const dir = project({ a: SCRATCH(out, true), b: SCRATCH(out, true) });
  const r = spawnSync(process.execPath, [SCRIPT], { cwd: dir, encoding: 'utf8', env: ENV });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const made = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(made.length, 2, 'both test files ran');
  const runDirs = new Set(made.map((d) => dirname(d)));
  assert.equal(runDirs.size, 1, 'one folder for the run');
  const run = [...runDirs][0]!;
  assert.match(basename(run), /^sluice-test-run-/);
  assert.equal(dirname(run), tmpdir(), 'made in the temporary folder the runner was given');
  assert.ok(!existsSync(run), `${run} is removed after the run`);

  const failing = project({ c: SCRATCH(out, false) });
  const f = spawnSync(process.execPath, [SCRIPT], { cwd: failing, encoding: 'utf8', env: ENV });
  assert.notEqual(f.status, 0, 'a failing test fails the run');
  assert.match(f.stdout, /planted failure/);
  const last = readFileSync(out, 'utf8').trim().split('\n').at(-1)!;
  assert.ok(!existsSync(dirname(last)), 'removed after a failing run too');

  const kept = spawnSync(process.execPath, [SCRIPT, '--test-name-pattern=writes'], { cwd: dir, encoding: 'utf8', env: { ...ENV, SLUICE_TEST_KEEP_TMP: '1' } });
  assert.equal(kept.status, 0, kept.stdout + kept.stderr);
  const keptDir = /kept in (\S+)/.exec(kept.stderr)?.[1];
  assert.ok(keptDir && existsSync(keptDir), `SLUICE_TEST_KEEP_TMP=1 keeps the folder (${kept.stderr})`);
  assert.equal(readFileSync(out, 'utf8').trim().split('\n').filter((d) => d.startsWith(keptDir + '/')).length, 2);
});
