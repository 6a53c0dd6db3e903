/** `sluice chat render`: one JSON string per input line; null and a stderr line where the template raises. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN } from '../helpers/cli.ts';
import { REPO } from '../helpers/data.ts';

const render = (args: string[], input: string) => spawnSync(process.execPath, [BIN, 'chat', 'render', ...args], { input, encoding: 'utf8', cwd: REPO });

test('sluice chat render: built-in and file templates, generation prompt, bos/eos, null + stderr when the template raises', () => {
  const lines = [
    { messages: [{ role: 'system', content: 'Sé bref.' }, { role: 'user', content: 'Hi 👋' }] },
    { messages: [{ role: 'user', content: 'Q' }, { role: 'assistant', content: 'A' }] },
  ].map((l) => JSON.stringify(l)).join('\n') + '\n';
  const r = render(['--template', 'chatml', '--add-generation-prompt'], lines);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as string), [
    '<|im_start|>system\nSé bref.<|im_end|>\n<|im_start|>user\nHi 👋<|im_end|>\n<|im_start|>assistant\n',
    '<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n<|im_start|>assistant\n',
  ]);

  const dir = mkdtempSync(join(tmpdir(), 'sluice-chat-cli-'));
  const file = join(dir, 'strict.jinja');
  writeFileSync(file, "{{ bos_token }}{% for m in messages %}{% if (m.role == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('roles must alternate') }}{% endif %}{{ m.content }}{{ eos_token }}{% endfor %}\n");
  const bad = JSON.stringify({ messages: [{ role: 'assistant', content: 'first' }] });
  const good = JSON.stringify({ messages: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }] });
  const s = render(['--template', file, '--bos-token', '<s>', '--eos-token', '</s>'], `${good}\n${bad}\n${good}\n`);
  assert.equal(s.status, 0, s.stderr);
  assert.deepEqual(s.stdout.split('\n'), ['"<s>q</s>a</s>"', 'null', '"<s>q</s>a</s>"', '']);
  assert.match(s.stderr, /^stdin:2: chat template '.*strict\.jinja' raised: roles must alternate\n$/);

  const m = render(['--template', 'zephyr'], `{"messages": 3}\nnot json\n`);
  assert.equal(m.status, 1);
  assert.equal(m.stdout, 'null\nnull\n');
  assert.match(m.stderr, /stdin:1: field 'messages' is missing or not a list\nstdin:2: invalid JSON/);
  const u = render([], '');
  assert.equal(u.status, 2);
  assert.match(u.stderr, /--template NAME\|FILE is required/);
});

test('sluice apply chat.tokenize writes tokens and the loss mask as JSON arrays', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-chat-apply-'));
  const input = join(dir, 'in.jsonl');
  writeFileSync(input, JSON.stringify({ id: 'x', text: 't', meta: { chat: { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Yo' }] } } }) + '\n');
  const r = spawnSync(process.execPath, [BIN, 'apply', 'chat.tokenize', '--config', '{"tokenizer":"gpt2","template":"chatml"}', '--in', input], { encoding: 'utf8', cwd: REPO });
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { tokens: number[]; lossMask: number[] };
  assert.ok(Array.isArray(doc.lossMask) && doc.lossMask.length === doc.tokens.length);
  assert.deepEqual(doc.lossMask.slice(-5), [1, 1, 1, 1, 1]);
  assert.equal(doc.lossMask[0], 0);
});
