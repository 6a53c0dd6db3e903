/**
 * scripts/run-tests.js, npm test's runner: it runs test files in the order given (node --test
 * sorts them by name, which started the slow files last), and exits 1 when a test fails.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess } from '../helpers/cli.ts';
import { REPO } from '../helpers/data.ts';
import { testFiles } from '../../scripts/test-files.js';

test('run-tests.js runs files in the order given, one at a time with --concurrency 1, and exits 1 on a failure', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-run-tests-'));
  const log = join(dir, 'order.txt');
  for (const [name, ok] of [['c', true], ['a', true], ['b', false]] as const) {
    writeFileSync(
      join(dir, `${name}.test.mjs`),
      `import { test } from 'node:test'; import { appendFileSync } from 'node:fs';\n` +
        `test('${name}', () => { appendFileSync(${JSON.stringify(log)}, '${name}\\n'); ${ok ? '' : "throw new Error('planted');"} });\n`,
    );
  }
  const runner = join(REPO, 'scripts', 'run-tests.js');
  // Not as a child of this test run: node:test would report to it instead of running the files.
  const env = { NODE_TEST_CONTEXT: undefined };
  const good = await startProcess(process.execPath, [runner, '--concurrency', '1', 'c.test.mjs', 'a.test.mjs'], { cwd: dir, env }).done;
  assert.equal(good.code, 0, good.stdout + good.stderr);
  assert.deepEqual(readFileSync(log, 'utf8').split('\n').filter(Boolean), ['c', 'a'], 'in the order given, not sorted');
  const bad = await startProcess(process.execPath, [runner, '--concurrency', '1', 'c.test.mjs', 'b.test.mjs'], { cwd: dir, env }).done;
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /^not ok \d+ - b$/m);
  rmSync(dir, { recursive: true, force: true });
});

test('test-files.js starts the torch test first, the rest alphabetically, and maps to the compiled copies', () => {
  const files = testFiles();
  assert.ok(files.length > 100 && files.every((f) => /^test\/.+\.test\.ts$/.test(f)));
  assert.equal(files[0], 'test/trainer/torch.test.ts');
  assert.deepEqual(files.slice(1), [...files.slice(1)].sort());
  assert.deepEqual(testFiles({ built: true }).slice(0, 2), files.slice(0, 2).map((f) => `dist-test/${f.slice(0, -3)}.js`));
});
