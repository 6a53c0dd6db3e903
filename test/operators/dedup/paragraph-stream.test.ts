import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dedup } from '../../../operators/dedup/index.ts';
import { HashTable128, SLOT_BYTES } from '../../../operators/dedup/hash-table.ts';
import type { Doc } from '../../../engine/types.ts';
import { runLocal } from './helpers.ts';

/** A seeded xorshift PRNG in [0, 1). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const VOCAB = [
  'The quick brown fox jumps over the lazy dog.',
  'Cookie policy: we use cookies to improve your experience.',
  'Home',
  'Über uns — Kontakt',
  '日本語のテキストの行です。',
  'Subscribe to our newsletter',
  'All rights reserved.',
  'x',
  'Emoji line 😀 with a surrogate pair',
  'Read more',
];

/** Files of documents whose lines repeat across and within documents, with unique and blank lines. */
function corpus(seed: number, files: number, docs: number): Doc[][] {
  const r = rng(seed);
  let id = 0;
  return Array.from({ length: files }, () =>
    Array.from({ length: docs }, () => {
      const lines: string[] = [];
      const n = 1 + Math.floor(r() * 8);
      for (let i = 0; i < n; i++) {
        const p = r();
        if (p < 0.55) lines.push(VOCAB[Math.floor(r() * VOCAB.length)]!);
        else if (p < 0.65) lines.push('');
        else lines.push(`unique line ${Math.floor(r() * 200)}`);
      }
      return { id: `d${id++}`, text: lines.join('\n'), meta: {} };
    }),
  );
}

/** The brute-force result of line dedup (minChars 1): every non-blank line seen before is cut with its newline, and a document left blank by cuts is dropped. */
function reference(parts: Doc[][]): { kept: Array<[string, string]>; cuts: Array<[string, string, string]> } {
  const first = new Map<string, string>();
  const kept: Array<[string, string]> = [];
  const cuts: Array<[string, string, string]> = [];
  for (const docs of parts)
    for (const d of docs) {
      const lines = d.text.split('\n');
      let out = '';
      const before = cuts.length;
      for (let i = 0; i < lines.length; i++) {
        const span = lines[i]! + (i < lines.length - 1 ? '\n' : '');
        const key = lines[i]!;
        if (key.trim().length >= 1 && first.has(key)) cuts.push([d.id, key, first.get(key)!]);
        else {
          if (key.trim().length >= 1) first.set(key, d.id);
          out += span;
        }
      }
      // Only a document that lost a line is dropped for being left blank.
      if (cuts.length === before || /\S/.test(out)) kept.push([d.id, out]);
    }
  return { kept, cuts };
}

function write(dir: string, parts: Doc[][]): string[] {
  return parts.map((docs, i) => {
    const p = join(dir, `in-${i}.jsonl`);
    writeFileSync(p, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    return p;
  });
}

test('dedup.paragraphs stream strategy: the same output and audit as the brute force and the sort strategy, whether or not the table fills', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'para-stream-'));
  try {
    for (const seed of [1, 2, 3]) {
      const parts = corpus(seed, 3, 60);
      const paths = write(dir, parts);
      const ref = reference(parts);
      const sort = await runLocal(dedup.paragraphs({ unit: 'line', strategy: 'sort', partitions: 2 }), paths, join(dir, `s${seed}`), 2);
      const norm = (drops: typeof sort.drops) => drops.map((d) => JSON.stringify([d.id, d.reason, d.doc.text, d.details])).sort();
      assert.deepEqual(sort.kept.map((d) => [d.id, d.text]), ref.kept, `sort strategy, seed ${seed}`);
      const frozenAt: string[] = [];
      // 64 MiB: everything fits the table; the small budgets freeze it after a few documents (or
      // before the first), and fanIn 2 with a 1 KiB sort buffer makes the tail merge in passes.
      for (const bufferMB of [64, 0.004, 0.002, 0.001]) {
        const r = await runLocal(dedup.paragraphs({ unit: 'line', bufferMB, fanIn: 2 }), paths, join(dir, `b${seed}-${bufferMB}`), 1);
        const tag = `seed ${seed}, bufferMB ${bufferMB}`;
        assert.deepEqual(r.kept.map((d) => [d.id, d.text]), ref.kept, tag);
        const spans = r.drops.filter((d) => d.reason === 'dedup.duplicateLine');
        for (const s of spans) assert.equal(typeof s.details!.keptId, 'string', tag);
        assert.deepEqual(norm(r.drops), norm(sort.drops), `${tag}: same spans, kept ids and groups as the sort strategy`);
        const info = r.datasets.get('dedup')!.manifest!.info as { frozenAt: { file: number; row: number } | null; repeats: number; units: number; sortedRecords: number };
        assert.equal(info.repeats, ref.cuts.length, tag);
        if (bufferMB === 64) assert.equal(info.frozenAt, null, tag);
        else {
          assert.ok(info.frozenAt, `${tag}: the table was frozen`);
          assert.ok(info.sortedRecords > 0, `${tag}: the tail went through the sort`);
          frozenAt.push(`${info.frozenAt.file}:${info.frozenAt.row}`);
        }
        assert.deepEqual(readdirSync(join(dir, `b${seed}-${bufferMB}`, '_tmp', 'dedup-0')), [], `${tag}: scratch runs removed`);
      }
      assert.ok(new Set(frozenAt).size > 1, `freezes at different points: ${frozenAt.join(', ')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dedup.paragraphs stream strategy: a freeze inside a file keeps the first occurrence before it, and a repeat within one document names that document', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'para-stream-'));
  try {
    const pad = Array.from({ length: 46 }, (_, i) => `filler ${i}`).join('\n');
    const parts = [
      [
        { id: 'a', text: `Alpha\n${pad}`, meta: {} },
        { id: 'b', text: 'Beta\nBeta\nAlpha', meta: {} },
      ],
      [{ id: 'c', text: 'Alpha\nBeta\nGamma', meta: {} }],
    ];
    const paths = write(dir, parts);
    const r = await runLocal(dedup.paragraphs({ unit: 'line', bufferMB: 0.002 }), paths, join(dir, 'w'), 1);
    const info = r.datasets.get('dedup')!.manifest!.info as { frozenAt: { file: number; row: number } | null };
    assert.deepEqual(info.frozenAt, { file: 0, row: 1 }, 'document a fills the table; b starts the sorted tail');
    assert.deepEqual(r.kept.map((d) => d.text), [`Alpha\n${pad}`, 'Beta\n', 'Gamma']);
    assert.deepEqual(
      r.drops.filter((d) => d.reason === 'dedup.duplicateLine').map((d) => [d.id, d.doc.text, d.details!.keptId]),
      [
        ['b', 'Beta\nAlpha', 'b'],
        ['c', 'Alpha\nBeta\n', 'a'],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dedup.paragraphs: strategy with bloom is refused, naming the option', () => {
  assert.throws(() => dedup.paragraphs({ strategy: 'sort', bloom: { expected: 10, fpRate: 0.01 } }), /dedup\.paragraphs.*strategy.*bloom/s);
  assert.throws(() => dedup.paragraphs({ strategy: 'fast' as 'sort' }), /dedup\.paragraphs.*strategy/s);
});

test('HashTable128: exact get/add against a Map, growth within the budget, and refusal past 3/4 load', () => {
  const r = rng(7);
  const table = new HashTable128(1024);
  const want = new Map<string, number>();
  const h = new Int32Array(4);
  for (let i = 0; i < 5000; i++) {
    // The first word repeats often (shared home slots); the others tell keys apart.
    h[0] = Math.floor(r() * 64) * 1024;
    h[1] = Math.floor(r() * 40) - 20;
    h[2] = i % 3;
    h[3] = 0x7fffffff;
    const k = h.join(',');
    assert.ok(table.reserve(1, 1 << 30));
    const got = table.getOrAdd(h, 0, i);
    if (want.has(k)) assert.equal(got, want.get(k), k);
    else {
      assert.equal(got, -1, k);
      want.set(k, i);
    }
    assert.equal(table.get(h, 0), want.get(k));
  }
  assert.equal(table.size, want.size);
  h[0] = 12345;
  assert.equal(table.get(h, 0), -1);
  // Within a 64-slot budget: grows to 64 slots, then takes entries up to 48 and refuses the next.
  const small = new HashTable128(0);
  const budget = 64 * SLOT_BYTES;
  let added = 0;
  for (let i = 0; small.reserve(1, budget); i++) {
    h[0] = i * 7919;
    h[1] = i;
    assert.equal(small.getOrAdd(h, 0, i), -1);
    added++;
  }
  assert.equal(small.bytes, budget);
  assert.equal(added, 48);
  for (let i = 0; i < added; i++) {
    h[0] = i * 7919;
    h[1] = i;
    assert.equal(small.get(h, 0), i);
  }
});
