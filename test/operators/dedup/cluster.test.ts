import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UnionFind } from '../../../operators/dedup/minhash/cluster.ts';
import { better, scoreAt, type Candidate } from '../../../operators/dedup/minhash/select.ts';
import { rng } from '../../../bench/dedup-corpus.ts';

test('union-find matches naive components; roots are the smallest members whatever the edge order', () => {
  const n = 400;
  const rand = rng(9);
  const edges: Array<[number, number]> = [];
  for (let i = 0; i < 300; i++) edges.push([Math.floor(rand() * n), Math.floor(rand() * n)]);
  // Naive: label propagation to a fixed point.
  const label = Array.from({ length: n }, (_, i) => i);
  for (let changed = true; changed; ) {
    changed = false;
    for (const [a, b] of edges) {
      const m = Math.min(label[a]!, label[b]!);
      if (label[a] !== m || label[b] !== m) {
        label[a] = label[b] = m;
        changed = true;
      }
    }
  }
  for (const order of [edges, edges.slice().reverse(), edges.slice().sort(() => rand() - 0.5)]) {
    const uf = new UnionFind(n);
    for (const [a, b] of order) uf.union(b, a);
    assert.deepEqual(Array.from({ length: n }, (_, i) => uf.find(i)), label);
    const sizes = uf.sizes();
    for (let i = 0; i < n; i++) if (uf.find(i) === i) assert.equal(sizes[i], label.filter((l) => l === i).length);
    let edgesOut = 0;
    uf.forEachEdge((c, r) => {
      assert.ok(r < c && uf.find(c) === r);
      edgesOut++;
    });
    assert.equal(edgesOut, n - new Set(label).size, 'a forest: one edge per non-root');
  }
});

test('union-find size limits are explicit', () => {
  assert.throws(() => new UnionFind(-1), /size must be an integer/);
  assert.throws(() => new UnionFind(2 ** 31), /size must be an integer/);
});

test('keeper rules: first, longest, score; ties fall back to input order', () => {
  const a: Candidate = { index: 5, bytes: 100, score: 0.5 };
  const b: Candidate = { index: 9, bytes: 300, score: NaN };
  const c: Candidate = { index: 7, bytes: 300, score: 0.9 };
  assert.equal(better('first', a, b), true);
  assert.equal(better('longest', b, a), true);
  assert.equal(better('longest', c, b), true, 'equal length: earlier wins');
  assert.equal(better('score', a, b), true, 'a scored doc beats an unscored one');
  assert.equal(better('score', c, a), true);
  assert.equal(scoreAt({ quality: { score: 0.7 } }, 'quality.score'), 0.7);
  assert.ok(Number.isNaN(scoreAt({ quality: 'x' }, 'quality.score')));
});
