import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { read } from '../../../index.ts';
import { readSource } from '../../../engine/testing.ts';
import { tempProject } from '../../helpers/cli.ts';

function lines(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(JSON.stringify({ id: `d${i}`, text: `line ${i} ${'é'.repeat(i % 13)}`, lang: i % 2 ? 'en' : 'fr' }));
  return out.join('\n') + '\n';
}

test('byte-range splitting reads every line exactly once, whatever the split size', async () => {
  const dir = tempProject();
  writeFileSync(join(dir, 'a.jsonl'), lines(500));
  for (const splitBytes of [13, 64, 333, 4096, 1 << 20]) {
    const src = read.jsonl('a.jsonl', { splitBytes });
    const { out, audit } = await readSource(src, { baseDir: dir });
    assert.deepEqual(out.map((d) => d.id), Array.from({ length: 500 }, (_, i) => `d${i}`), `splitBytes ${splitBytes}`);
    assert.equal(audit.skips.length, 0);
  }
  const { out } = await readSource(read.jsonl('a.jsonl'), { baseDir: dir });
  assert.deepEqual(out[3], { id: 'd3', text: `line 3 ${'é'.repeat(3)}`, meta: { lang: 'en', source: 'a.jsonl#' + Buffer.byteLength(lines(3)) } });
});

test('gzip (multi-member) and zstd inputs; malformed lines are skipped with reasons', async () => {
  const dir = tempProject();
  const text = lines(100);
  const half = text.indexOf('\n', text.length / 2) + 1;
  writeFileSync(join(dir, 'a.jsonl.gz'), Buffer.concat([gzipSync(text.slice(0, half)), gzipSync(text.slice(half))]));
  const gz = await readSource(read.jsonl('*.jsonl.gz'), { baseDir: dir });
  assert.equal(gz.out.length, 100);
  let hasZstd = true;
  try {
    execFileSync('zstd', ['-q', '-f', '-o', join(dir, 'b.jsonl.zst')], { input: text });
  } catch {
    hasZstd = false;
  }
  if (hasZstd) {
    const zs = await readSource(read.jsonl('b.jsonl.zst'), { baseDir: dir });
    assert.deepEqual(zs.out.map((d) => d.id), gz.out.map((d) => d.id));
  }
  writeFileSync(join(dir, 'bad.jsonl'), '{"text":"ok"}\n{"text": 5}\n[1,2]\nnot json\n\n{"id":"x","text":"fine","meta":{"url":"u"}}\n');
  const bad = await readSource(read.jsonl('bad.jsonl'), { baseDir: dir });
  assert.deepEqual(bad.out.map((d) => d.text), ['ok', 'fine']);
  assert.equal(bad.out[1]!.meta.url, 'u');
  assert.deepEqual(bad.audit.skips.map((s) => [s.input, s.reason]), [
    ['bad.jsonl#14', 'not a document'],
    ['bad.jsonl#26', 'not a document'],
    ['bad.jsonl#32', 'invalid JSON'],
  ]);
  // A truncated gzip keeps every complete record before the damage and records the rest.
  const gzAll = gzipSync(text);
  writeFileSync(join(dir, 'trunc.jsonl.gz'), gzAll.subarray(0, Math.floor(gzAll.length * 0.6)));
  const tr = await readSource(read.jsonl('trunc.jsonl.gz'), { baseDir: dir });
  assert.ok(tr.out.length > 30 && tr.out.length < 100, `${tr.out.length} records before the damage`);
  assert.deepEqual(tr.out.map((d) => d.id), Array.from({ length: tr.out.length }, (_, i) => `d${i}`));
  assert.equal(tr.audit.skips[0]!.reason, 'read.truncated');
  await assert.rejects(readSource(read.jsonl('nothing-*.jsonl'), { baseDir: dir }), /input nothing-\*\.jsonl: no files match/);
});
