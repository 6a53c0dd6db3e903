import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dedup } from '../../../operators/dedup/index.ts';
import { findRepeatsNaive } from '../../../operators/dedup/repeats.ts';
import { loadTokenizer } from '../../../operators/tokenize/load.ts';
import type { Doc } from '../../../engine/types.ts';
import { dataPath, needData } from '../../helpers/data.ts';
import { runLocal } from './helpers.ts';

function files(dir: string, parts: Doc[][]): string[] {
  return parts.map((docs, i) => {
    const p = join(dir, `in-${i}.jsonl`);
    writeFileSync(p, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    return p;
  });
}

test('dedup.substrings on Shakespeare with planted repeats: removes exactly what brute force finds, sharded or not, any worker count', { skip: needData('tinyshakespeare') }, async () => {
  const play = readFileSync(dataPath('tinyshakespeare', 'input.txt'), 'utf8');
  const chunk = (i: number) => play.slice(i * 60_000, i * 60_000 + 900);
  const planted = play.slice(500_000, 500_700);
  const texts = Array.from({ length: 10 }, (_, i) => chunk(i));
  texts[2] = planted + texts[2];
  texts[6] = texts[6]!.slice(0, 400) + planted + texts[6]!.slice(400);
  texts[9] = texts[9] + '\n' + planted + ' é😀';
  const docs = texts.map((text, i) => ({ id: `d${i}`, text, meta: {} }));
  const dir = mkdtempSync(join(tmpdir(), 'substr-'));
  try {
    const paths = files(dir, [docs.slice(0, 4), docs.slice(4, 7), docs.slice(7)]);
    const one = await runLocal(dedup.substrings({ tokenizer: 'gpt2', minTokens: 50 }), paths, join(dir, 'w1'), 1);
    // Brute force over the same tokens.
    const tok = await loadTokenizer('gpt2');
    const sep = tok.vocabSize;
    const flat: number[] = [];
    for (const t of texts) flat.push(...tok.encodeOrdinary(t), sep);
    const want = findRepeatsNaive(flat, 50, sep);
    const wantTokens = want.reduce((s, r) => s + r.end - r.start, 0);
    const info = one.datasets.get('dedup.repeats')!.manifest.info!;
    assert.equal(info.removedTokens, wantTokens);
    assert.equal(info.tokens, flat.length - texts.length);
    assert.ok(Number(info.removedShare) > 0.05 && Number(info.removedShare) < 0.3, String(info.removedShare));
    const kept = new Map(one.kept.map((d) => [d.id, d.text]));
    assert.equal(kept.get('d2'), texts[2], 'the first occurrence stays whole');
    const core = planted.slice(150, 550);
    for (const id of ['d6', 'd9']) assert.ok(!kept.get(id)!.includes(core), `${id} lost the planted passage`);
    assert.ok(kept.get('d9')!.endsWith(' é😀'), 'multi-byte text after a cut survives intact');
    const spans = one.drops.filter((d) => d.reason === 'dedup.repeatedSubstring');
    assert.deepEqual([...new Set(spans.map((d) => d.id))], ['d6', 'd9']);
    assert.equal(spans.reduce((s, d) => s + Number(d.details!.tokens), 0), wantTokens);
    // Tiny shards, cut inside documents (planted copies straddle cuts and lie in different shards), merged; two workers.
    const sharded = await runLocal(dedup.substrings({ tokenizer: 'gpt2', minTokens: 50, shardTokens: 97 }), paths, join(dir, 'w2'), 2);
    assert.ok(Number(sharded.datasets.get('dedup.repeats')!.manifest.info!.shards) >= 20);
    assert.deepEqual(sharded.kept, one.kept);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dedup.substrings drops a document that is entirely a repeat and rejects bad options', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'substr-'));
  try {
    const text = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.';
    const paths = files(dir, [[{ id: 'a', text, meta: {} }, { id: 'b', text, meta: {} }]]);
    const r = await runLocal(dedup.substrings({ tokenizer: 'gpt2', minTokens: 8 }), paths, join(dir, 'w'), 1);
    assert.deepEqual(r.kept.map((d) => d.id), ['a']);
    assert.deepEqual(r.drops.map((d) => [d.id, d.reason]), [['b', 'dedup.repeatedSubstring'], ['b', 'dedup.substringsEmptied']]);
    assert.throws(() => dedup.substrings({ tokenizer: 'gpt2', minTokens: 0 }), /dedup\.substrings.*minTokens/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
