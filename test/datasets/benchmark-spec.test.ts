import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchmarkSpec } from '../../datasets/load.ts';
import { entry } from '../../datasets/registry.ts';

test('benchmarkSpec(…, { optional: true }) warns on a hash mismatch, naming the file and both hashes', async () => {
  const root = mkdtempSync(join(tmpdir(), 'sluice-spec-'));
  const mirror = join(root, 'mirror');
  const file = entry('arc_easy').files[0]!;
  mkdirSync(join(mirror, 'mc-eval', 'llm-foundry'), { recursive: true });
  writeFileSync(join(mirror, file.path), '{"query": "not the pinned file", "choices": ["a", "b"], "gold": 0}\n');
  const logs: string[] = [];
  const opts = { cache: join(root, 'cache'), mirror, offline: true, log: (m: string) => logs.push(m) };
  assert.equal(await benchmarkSpec('arc_easy', { ...opts, optional: true }), null);
  assert.equal(logs.length, 1);
  assert.match(logs[0]!, new RegExp(`optional benchmark 'arc_easy' left out: ${join(mirror, file.path).replace(/[.]/g, '\\.')} has sha256 [0-9a-f]{64}, expected ${file.sha256}`));
  // Not optional: the same mismatch is an error.
  await assert.rejects(benchmarkSpec('arc_easy', opts), /sha256 [0-9a-f]{64} does not match the pinned/);
  // Simply absent (offline, no copy): null without a warning, as before.
  logs.length = 0;
  assert.equal(await benchmarkSpec('arc_easy', { ...opts, mirror: join(root, 'empty'), optional: true }), null);
  assert.deepEqual(logs, []);
});
