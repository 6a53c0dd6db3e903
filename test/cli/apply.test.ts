import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempProject } from '../helpers/cli.ts';

const LONG = 'The river flows past the old mill and the stone bridge, and the water is clear and cold in the spring when the snow melts on the hills above the town. '.repeat(4);

test('sluice apply runs a registered operator over JSONL; --keep-dropped writes the dropped docs with their reason', async () => {
  const dir = tempProject();
  const lines = [
    JSON.stringify({ id: 'long', text: LONG, meta: { url: 'https://x/long' } }),
    JSON.stringify({ id: 'short', text: 'too short to keep' }),
    'not json',
    JSON.stringify({ id: 'notext' }),
  ];
  writeFileSync(join(dir, 'docs.jsonl'), lines.join('\n') + '\n');
  const r = await runCli(['apply', 'filter.gopherQuality', '--in', 'docs.jsonl', '--out', 'out.jsonl', '--keep-dropped'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const out = readFileSync(join(dir, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const kept = out.filter((d) => !d.meta.dropped);
  const dropped = out.filter((d) => d.meta.dropped);
  assert.deepEqual(kept.map((d) => d.id), ['long']);
  assert.deepEqual(dropped.map((d) => [d.id, d.meta.dropped.operator]), [['short', 'gopherQuality']]);
  assert.match(dropped[0].meta.dropped.reason, /words/i);
  assert.match(r.stderr, /docs\.jsonl:3: skipped: invalid JSON/);
  assert.match(r.stderr, /docs\.jsonl:4: skipped: missing string field 'text'/);
  assert.match(r.stderr, /filter\.gopherQuality: 2 docs in, 1 kept, 1 dropped/);

  const bad = await runCli(['apply', 'filter.nope'], { cwd: dir });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /unknown operator 'filter\.nope'; registered operators: .*filter\.gopherQuality/);
  const cfg = await runCli(['apply', 'filter.gopherQuality', '--config', '{"minWords": "many"}', '--in', 'docs.jsonl'], { cwd: dir });
  assert.equal(cfg.code, 1);
  assert.match(cfg.stderr, /filter\.gopherQuality: config key 'minWords'/);
  const list = await runCli(['apply', '--list'], { cwd: dir });
  assert.match(list.stdout, /extract\.html/);
  assert.match(list.stdout, /dedup\.minhash/);
});
