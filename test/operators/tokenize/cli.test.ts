import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from '../../helpers/cli.ts';
import { dataPath, needData } from '../../helpers/data.ts';
import { BpeTrainer } from '../../../operators/tokenize/bpe/trainer.ts';
import { bytesToGpt2 } from '../../../operators/tokenize/bpe/bytes.ts';

function sluice(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

test('sluice tokenizer encode/decode: JSON, JSONL and plain ids', async () => {
  const e = await sluice(['tokenizer', 'encode', '--vocab', 'cl100k_base', '--json'], 'hello world');
  assert.equal(e.code, 0, e.stderr);
  assert.deepEqual(JSON.parse(e.stdout), [15339, 1917]);
  const d = await sluice(['tokenizer', 'decode', '--vocab', 'cl100k_base'], '15339 1917');
  assert.equal(d.stdout, 'hello world');
  const j = await sluice(['tokenizer', 'encode', '--vocab', 'gpt2', '--jsonl'], '{"text":"hi there"}\n{"text":"<|endoftext|>"}\n');
  assert.deepEqual(j.stdout.trim().split('\n').map((l) => JSON.parse(l)), [{ ids: [5303, 612] }, { ids: [27, 91, 437, 1659, 5239, 91, 29] }]);
  const s = await sluice(['tokenizer', 'encode', '--vocab', 'gpt2', '--allow-special'], '<|endoftext|>');
  assert.equal(s.stdout.trim(), '50256');
  const bad = await sluice(['tokenizer', 'decode', '--vocab', 'gpt2'], '[1, 99999999]');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /99999999 is not a token id/);
  const usage = await sluice(['tokenizer', 'frob']);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /unknown sub-command 'frob'/);
});

test('sluice tokenizer train: a >1 MiB text file fed in pieces trains the same merges as the whole text', { skip: needData('tinyshakespeare') }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'sluice-tokcli-'));
  const file = dataPath('tinyshakespeare/input.txt');
  const jsonl = join(out, 'extra.jsonl');
  writeFileSync(jsonl, '{"text": "zebra zebra zebra"}\nnot json\n');
  const r = await sluice(['tokenizer', 'train', '--vocab-size', '600', '--pattern', 'cl100k', '--out', join(out, 'tok'), file, jsonl]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /extra\.jsonl:2: skipped: /);
  const hf = JSON.parse(readFileSync(join(out, 'tok', 'tokenizer.json'), 'utf8'));
  const t = new BpeTrainer({ vocabSize: 600, pattern: 'cl100k' });
  t.add(readFileSync(file, 'utf8'));
  t.add('zebra zebra zebra');
  const { definition } = t.train();
  assert.equal(hf.model.merges.length, definition.merges!.length);
  const spell = (id: number) => bytesToGpt2(definition.tokens[id]!);
  assert.deepEqual(hf.model.merges, definition.merges!.map(([a, b]) => [spell(a), spell(b)]), 'same merges, same order');
  const enc = await sluice(['tokenizer', 'encode', '--vocab', join(out, 'tok'), '--json'], 'To be, or not to be');
  assert.equal(enc.code, 0, enc.stderr);
  const ids = JSON.parse(enc.stdout) as number[];
  const dec = await sluice(['tokenizer', 'decode', '--vocab', join(out, 'tok')], JSON.stringify(ids));
  assert.equal(dec.stdout, 'To be, or not to be');
});
