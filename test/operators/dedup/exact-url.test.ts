import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dedup } from '../../../operators/dedup/index.ts';
import { normalizeForExact } from '../../../operators/dedup/exact.ts';
import { normalizeUrl } from '../../../operators/dedup/url.ts';
import { createOperator } from '../../../engine/operator.ts';
import { runOperators } from '../../../engine/testing.ts';
import type { Doc } from '../../../engine/types.ts';
import { runLocal } from './helpers.ts';

function files(dir: string, parts: Doc[][]): string[] {
  return parts.map((docs, i) => {
    const p = join(dir, `in-${i}.jsonl`);
    writeFileSync(p, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    return p;
  });
}

const doc = (id: string, text: string, meta: Doc['meta'] = {}): Doc => ({ id, text, meta });

test('dedup.exact keeps the first in input order (file order, then row) across files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'exact-'));
  try {
    const paths = files(dir, [
      [doc('a1', 'Hello world.'), doc('b1', 'another text'), doc('a2', 'Hello world.', { url: 'u:a2' })],
      [doc('a3', 'Hello world.'), doc('c1', 'HELLO, world!!'), doc('b2', 'another text')],
    ]);
    const raw = await runLocal(dedup.exact(), paths, join(dir, 'raw'), 1);
    assert.deepEqual(raw.kept.map((d) => d.id), ['a1', 'b1', 'c1']);
    assert.deepEqual(
      raw.drops.map((d) => [d.id, d.reason, d.details!.keptId]),
      [['a2', 'dedup.exactDuplicate', 'a1'], ['a3', 'dedup.exactDuplicate', 'a1'], ['b2', 'dedup.exactDuplicate', 'b1']],
    );
    const norm = await runLocal(dedup.exact({ normalize: true, bufferMB: 0.001, partitions: 3, fanIn: 2 }), paths, join(dir, 'norm'), 3);
    assert.deepEqual(norm.kept.map((d) => d.id), ['a1', 'b1'], 'case and punctuation variants collapse when normalised');
    assert.equal(norm.drops.find((d) => d.id === 'c1')!.details!.keptId, 'a1');
    assert.match(String(norm.drops[0]!.details!.group), /^[0-9a-f]{16}$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('normalizeForExact steps are selectable', () => {
  const all = { lowercase: true, whitespace: true, punctuation: true, digits: true };
  assert.equal(normalizeForExact('  Hello,  World 42! ', all), 'hello world');
  assert.equal(normalizeForExact('  Hello,  World 42! ', { ...all, digits: false }), 'hello world 42');
  assert.equal(normalizeForExact('A  B', false), 'A  B');
});

test('normalizeUrl folds scheme, www, default port, fragment, trailing slash, tracking params and param order', () => {
  const same = ['https://www.Example.com/a/b/?x=1&utm_source=tw&y=2#top', 'http://example.com:80/a/b?y=2&x=1', 'https://example.com:443/a/b?x=1&y=2&fbclid=abc'];
  for (const u of same) assert.equal(normalizeUrl(u), 'example.com/a/b?x=1&y=2', u);
  assert.notEqual(normalizeUrl('https://example.com/a/B'), normalizeUrl('https://example.com/a/b'), 'paths are case-sensitive');
  assert.equal(normalizeUrl('https://example.com:8080/'), 'example.com:8080');
  assert.equal(normalizeUrl(' Not A URL '), 'not a url');
});

test('dedup.url keeps the latest crawl, the longest, or the first; docs without URL are kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'url-'));
  try {
    const paths = files(dir, [
      [
        doc('old', 'short', { url: 'https://www.site.org/page', crawlDate: '2023-01-01T00:00:00Z' }),
        doc('nourl', 'no url here'),
        doc('undated', 'a much longer text than the others', { url: 'https://site.org/page/' }),
      ],
      [doc('new', 'medium text', { url: 'http://site.org/page#x', crawlDate: '2024-06-01T00:00:00Z' }), doc('other', 'x', { url: 'https://site.org/other' })],
    ]);
    const latest = await runLocal(dedup.url(), paths, join(dir, 'l'), 2);
    assert.deepEqual(latest.kept.map((d) => d.id).sort(), ['new', 'nourl', 'other']);
    assert.deepEqual(latest.drops.map((d) => [d.id, d.reason, d.details!.keptId, d.details!.keptUrl]).sort(), [
      ['old', 'dedup.duplicateUrl', 'new', 'http://site.org/page#x'],
      ['undated', 'dedup.duplicateUrl', 'new', 'http://site.org/page#x'],
    ]);
    const longest = await runLocal(dedup.url({ keep: 'longest' }), paths, join(dir, 'g'), 1);
    assert.deepEqual(longest.kept.map((d) => d.id).sort(), ['nourl', 'other', 'undated']);
    const first = await runLocal(dedup.url({ keep: 'first', partitions: 1 }), paths, join(dir, 'f'), 1);
    assert.deepEqual(first.kept.map((d) => d.id).sort(), ['nourl', 'old', 'other']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dedup.exact and dedup.url are registered for sluice apply', async () => {
  const docs = [doc('1', 'same'), doc('2', 'Same.', { url: 'https://x.org/' }), doc('3', 'same', { url: 'https://x.org' })];
  const e = await runOperators([createOperator('dedup.exact', { normalize: true })], docs);
  assert.deepEqual(e.out.map((d) => d.id), ['1']);
  const u = await runOperators([createOperator('dedup.url', { keep: 'first' })], docs);
  assert.deepEqual(u.out.map((d) => d.id), ['1', '2']);
  assert.equal(u.audit.drops[0]!.details!.keptId, '2');
  assert.throws(() => createOperator('dedup.url', { keep: 'newest' }), /dedup.url: config key 'keep'/);
});
