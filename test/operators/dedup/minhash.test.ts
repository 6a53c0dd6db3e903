import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { dedup } from '../../../operators/dedup/index.ts';
import { createOperator } from '../../../engine/operator.ts';
import { runOperators } from '../../../engine/testing.ts';
import { jaccard, shingleSet } from '../../../operators/dedup/minhash/shingle.ts';
import { corpus, runLocal } from './helpers.ts';

const summary = (r: Awaited<ReturnType<typeof runLocal>>) => ({
  kept: r.kept.map((d) => [d.id, d.meta.dedupCluster ?? null, d.meta.dedupClusterSize ?? null]),
  // Concurrent tasks share one in-memory audit, so drops arrive in completion order: compare sorted.
  drops: r.drops.map((d) => [d.id, d.reason, d.score, d.details]).sort((x, y) => (x[0]! < y[0]! ? -1 : x[0]! > y[0]! ? 1 : 0)),
});

test('dedup.minhash: identical output for 1 or 4 workers, spilling sort buffers, multi-pass merges and band groups', async () => {
  const c = await corpus(3, { docs: 240, pairFraction: 0.7, seed: 1 });
  try {
    const a = await runLocal(dedup.minhash(), c.paths, join(c.dir, 'w1'), 1);
    const b = await runLocal(dedup.minhash({ bufferMB: 0.01, fanIn: 2, bandsPerTask: 4 }), c.paths, join(c.dir, 'w4'), 4);
    assert.ok(a.drops.length > 50, `${a.drops.length} near-duplicates found`);
    assert.deepEqual(summary(b), summary(a));
    const sig = b.datasets.get('dedup.signatures')!;
    assert.ok(sig.files().filter((f) => f.endsWith('.run')).length > 14 * 3 * 2, 'the tiny buffer spilled several runs per band and file');
    assert.equal(a.kept.length + a.drops.length, c.docs, 'every doc is kept or dropped with a record');
  } finally {
    rmSync(c.dir, { recursive: true, force: true });
  }
});

test('dedup.minhash: drops name their cluster and the kept doc; unplanted docs survive; high-similarity pairs are found', async () => {
  const c = await corpus(2, { docs: 300, pairFraction: 0.6, seed: 2 });
  try {
    const r = await runLocal(dedup.minhash(), c.paths, join(c.dir, 'w'), 2);
    const kept = new Map(r.kept.map((d) => [d.id, d]));
    const partner = new Map<string, string>();
    for (const p of c.pairs) {
      partner.set(p.base, p.variant);
      partner.set(p.variant, p.base);
    }
    for (const d of r.drops) {
      assert.equal(d.reason, 'dedup.nearDuplicate');
      assert.equal(d.operator, 'dedup.minhash');
      const det = d.details!;
      const keeper = kept.get(det.keptId as string);
      assert.ok(keeper, `kept doc ${det.keptId} of ${d.id} is in the output`);
      assert.equal(det.keptUrl, keeper!.meta.url);
      assert.equal(keeper!.meta.dedupCluster, det.cluster, 'keeper carries the same cluster name');
      assert.equal(det.clusterSize, 2);
      assert.equal(partner.get(d.id), det.keptId, 'only planted partners are clustered together');
      assert.ok(typeof d.score === 'number' && d.score > 0.3 && d.score <= 1, `Jaccard estimate ${d.score}`);
    }
    const dropped = new Set(r.drops.map((d) => d.id));
    for (const p of c.pairs.filter((p) => p.jaccard >= 0.95)) assert.ok(dropped.has(p.variant) !== dropped.has(p.base), `pair ${p.base} at J=${p.jaccard.toFixed(2)} deduplicated`);
  } finally {
    rmSync(c.dir, { recursive: true, force: true });
  }
});

test('dedup.minhash verify: every removed doc has exact Jaccard ≥ threshold with the kept one; keep longest', async () => {
  const c = await corpus(2, { docs: 300, pairFraction: 0.8, seed: 3 });
  try {
    const plain = await runLocal(dedup.minhash(), c.paths, join(c.dir, 'p'), 2);
    const r = await runLocal(dedup.minhash({ verify: true, threshold: 0.8, keep: 'longest' }), c.paths, join(c.dir, 'v'), 2);
    const texts = new Map<string, string>();
    for (const d of [...r.kept, ...r.drops.map((x) => x.doc)]) texts.set(d.id, d.text);
    assert.ok(r.drops.length > 20);
    for (const d of r.drops) {
      const keptText = texts.get(d.details!.keptId as string)!;
      const j = jaccard(shingleSet(d.doc.text, 5), shingleSet(keptText, 5));
      assert.ok(j >= 0.8, `${d.id} removed at exact Jaccard ${j.toFixed(3)}`);
      assert.ok(Math.abs(j - d.score!) < 1e-12, 'the score is the exact Jaccard with the kept doc');
      assert.ok(Buffer.byteLength(keptText) >= Buffer.byteLength(d.doc.text), 'keep: longest');
    }
    const below = plain.drops.filter((d) => {
      const p = c.pairs.find((x) => x.base === d.id || x.variant === d.id)!;
      return p.jaccard < 0.8;
    });
    assert.ok(below.length > 0, 'without verify, LSH also removes pairs below 0.8 (the curve is ~0.72 at 14×8)');
  } finally {
    rmSync(c.dir, { recursive: true, force: true });
  }
});

test('dedup.minhash as an operator (sluice apply): whole-input dedup, drops carry cluster and kept id', async () => {
  const docs = [
    { id: 'a', text: 'the river flows past the old mill and under the stone bridge to the sea', meta: { url: 'https://a.example/' } },
    { id: 'b', text: 'completely different words about gardens flowers trees and a quiet afternoon', meta: {} },
    { id: 'c', text: 'The river flows past the old mill, and under the stone bridge to the sea!', meta: { url: 'https://c.example/' } },
    { id: 'd', text: '', meta: {} },
    { id: 'e', text: '', meta: {} },
  ];
  const { out, audit } = await runOperators([createOperator('dedup.minhash', { keep: 'first' })], docs);
  assert.deepEqual(out.map((d) => d.id), ['a', 'b', 'd', 'e'], 'empty docs are never clustered');
  assert.equal(out[0]!.meta.dedupCluster, 'a');
  assert.equal(audit.drops.length, 1);
  assert.deepEqual(audit.drops[0]!.details, { cluster: 'a', clusterSize: 2, keptId: 'a', keptUrl: 'https://a.example/' });
  assert.equal(audit.drops[0]!.score, 1);
});

test('dedup.minhash config errors name the key', () => {
  assert.throws(() => dedup.minhash({ bands: 0 }), /dedup.minhash: config key 'bands'/);
  assert.throws(() => dedup.minhash({ keep: 'biggest' as never }), /config key 'keep'/);
  assert.throws(() => dedup.minhash({ nope: 1 } as never), /dedup.minhash/);
});
