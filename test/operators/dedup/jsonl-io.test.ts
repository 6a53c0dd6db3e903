import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonlEncoder, readJsonlDocs } from '../../../operators/dedup/jsonl-io.ts';
import type { Doc } from '../../../engine/types.ts';

test('JsonlEncoder writes exactly the bytes of JSON.stringify: escapes, non-ASCII, lone surrogates, tokens, undefined fields', () => {
  // Characters JSON escapes (short and \u00XX forms), ones it does not (DEL, U+2028), multi-byte
  // UTF-8, and lone surrogates (which JSON.stringify writes as \udXXX).
  const alphabet = ['a', ' ', '\n', '\t', '\r', '\b', '\f', '\x00', '\x01', '\x1f', '\x7f', '"', '\\', '/', 'é', '€', '😀', '\ud800', '\udc00', '\u2028', '\ufeff'];
  let seed = 1;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  const enc = new JsonlEncoder(8); // tiny, so that every growth path runs
  const want: string[] = [];
  for (let t = 0; t < 3000; t++) {
    let s = '';
    const n = Math.floor(rnd() * 60);
    for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
    const doc = { id: `d${t}${s.slice(0, 2)}`, text: s, meta: { s, n: t / 7, nested: { u: undefined, a: [s] } } } as Doc & Record<string, unknown>;
    if (t % 3 === 0) doc.tokens = new Uint32Array([t, 1, 2]);
    if (t % 5 === 0) doc.skipped = undefined;
    if (t % 7 === 0) doc['k"\n'] = s;
    enc.add(doc);
    want.push(JSON.stringify(doc.tokens ? { ...doc, tokens: Array.from(doc.tokens) } : doc) + '\n');
    if (t % 100 === 99) assert.equal(enc.take().toString('utf8'), want.splice(0).join(''));
  }
  assert.equal(enc.take().toString('utf8'), want.join(''));
  // A text that grows sixfold when escaped.
  const ctrl = { id: 'c', text: '\x01'.repeat(5000), meta: {} };
  enc.add(ctrl);
  assert.equal(enc.take().toString('utf8'), JSON.stringify(ctrl) + '\n');
});

test('readJsonlDocs: same docs for any chunk size (lines and UTF-8 sequences across chunks, BOM, blank lines); a bad line names file and line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jsonl-io-'));
  try {
    const docs = Array.from({ length: 300 }, (_, i) => ({ id: `d${i}`, text: (i % 3 ? 'é😀x\n' : 'ascii ').repeat(i * 3), meta: { i } }));
    // Lines longer than one decoded run (64 KiB), ASCII and not.
    docs[100]!.text = 'long '.repeat(30_000);
    docs[200]!.text = 'ü'.repeat(70_000);
    const path = join(dir, 'a.jsonl');
    writeFileSync(path, '\ufeff' + docs.map((d) => JSON.stringify(d)).join('\n') + '\n\n');
    for (const chunk of [5, 64, 1000, 1 << 20]) {
      const got: Doc[] = [];
      const sizes: number[] = [];
      for await (const b of readJsonlDocs(path, 37, chunk)) {
        got.push(...b);
        sizes.push(b.length);
      }
      assert.deepEqual(got, docs, `chunk ${chunk}`);
      assert.deepEqual(sizes, [...Array(8).fill(37), 4], `batches of 37 at chunk ${chunk}`);
    }
    const bad = join(dir, 'b.jsonl');
    writeFileSync(bad, `${JSON.stringify(docs[0])}\n\n{"id": oops}\n`);
    await assert.rejects(async () => {
      for await (const _ of readJsonlDocs(bad, 10, 8));
    }, /b\.jsonl:3: not a JSON line/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
