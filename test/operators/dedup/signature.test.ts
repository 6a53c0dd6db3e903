import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MinHasher, estimateJaccard, lshProbability } from '../../../operators/dedup/minhash/signature.ts';
import { jaccard, shingleSet } from '../../../operators/dedup/minhash/shingle.ts';
import { Vocabulary, plantVariant, prose, render, rng } from '../../../bench/dedup-corpus.ts';

test('WebAssembly SIMD and JavaScript signatures are bit-identical, for any k', () => {
  const rand = rng(7);
  const v = new Vocabulary(2000, rand);
  for (const p of [
    { ngram: 5, bands: 14, rows: 8, seed: 1 },
    { ngram: 3, bands: 3, rows: 5, seed: 99 },
    { ngram: 1, bands: 1, rows: 1, seed: 0xffffffff },
  ]) {
    const simd = new MinHasher(p);
    const js = new MinHasher(p, false);
    assert.equal(js.simd, false);
    const a = new Uint32Array(simd.k);
    const b = new Uint32Array(simd.k);
    for (let i = 0; i < 30; i++) {
      const text = render(prose(v, rand, 5 + Math.floor(rand() * 3000)));
      simd.signature(text, a);
      js.signature(text, b);
      assert.deepEqual(a, b);
      for (const x of a) assert.ok(Number.isInteger(x) && x >= 0 && x < 2 ** 32, 'values are exact 32-bit integers');
    }
  }
});

test('signatures estimate exact Jaccard without bias', () => {
  const rand = rng(11);
  const v = new Vocabulary(5000, rand);
  const mh = new MinHasher({ ngram: 5, bands: 32, rows: 8, seed: 3 });
  const sa = new Uint32Array(mh.k);
  const sb = new Uint32Array(mh.k);
  let err = 0;
  let absErr = 0;
  const n = 60;
  for (let i = 0; i < n; i++) {
    const base = prose(v, rand, 300);
    const target = 0.3 + (0.65 * i) / n;
    const variant = plantVariant(base, target, 'edit', v, i);
    const exact = jaccard(shingleSet(render(base), 5), shingleSet(variant.text, 5));
    mh.signature(render(base), sa);
    mh.signature(variant.text, sb);
    const est = estimateJaccard(sa, sb);
    err += est - exact;
    absErr += Math.abs(est - exact);
  }
  // k = 256: the standard error of one estimate is ≤ 0.5/√256 = 0.031.
  assert.ok(Math.abs(err / n) < 0.015, `mean signed error ${(err / n).toFixed(4)}`);
  assert.ok(absErr / n < 0.035, `mean absolute error ${(absErr / n).toFixed(4)}`);
});

test('band collisions follow the LSH curve 1 − (1 − s^r)^b (hash functions behave independently)', () => {
  // Pairs of random sets with an exact Jaccard s; 1500 pairs per s; 4σ binomial tolerance.
  const bands = 14;
  const rows = 8;
  const mh = new MinHasher({ ngram: 5, bands, rows, seed: 1 });
  const rand = rng(5);
  const sa = new Uint32Array(mh.k);
  const sb = new Uint32Array(mh.k);
  const key = new Uint32Array(2 * bands);
  const keyB = new Uint32Array(2 * bands);
  for (const s of [0.5, 0.7, 0.8, 0.9]) {
    const trials = 1500;
    let hits = 0;
    for (let t = 0; t < trials; t++) {
      const union = 200;
      const shared = Math.round(s * union);
      const only = (union - shared) / 2;
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < shared; i++) {
        const x = (rand() * 2 ** 32) >>> 0;
        a.push(x);
        b.push(x);
      }
      for (let i = 0; i < only; i++) a.push((rand() * 2 ** 32) >>> 0);
      for (let i = 0; i < only; i++) b.push((rand() * 2 ** 32) >>> 0);
      mh.signatureOf(Uint32Array.from(a), sa);
      mh.signatureOf(Uint32Array.from(b), sb);
      let hit = false;
      for (let band = 0; band < bands; band++) {
        mh.bandKey(sa, band, key, 2 * band);
        mh.bandKey(sb, band, keyB, 2 * band);
        if (key[2 * band] === keyB[2 * band] && key[2 * band + 1] === keyB[2 * band + 1]) hit = true;
      }
      if (hit) hits++;
    }
    const p = lshProbability(s, bands, rows); // |A∪B| = 200, |A∩B| = 200·s exactly
    const sigma = Math.sqrt((p * (1 - p)) / trials);
    const rate = hits / trials;
    assert.ok(Math.abs(rate - p) <= 4 * sigma + 0.005, `s=${s}: collision rate ${rate.toFixed(3)} vs curve ${p.toFixed(3)} (σ ${sigma.toFixed(3)})`);
  }
});

test('bad parameters are rejected with the key named', () => {
  assert.throws(() => new MinHasher({ ngram: 5, bands: 0, rows: 8, seed: 1 }), /bands must be a positive integer/);
  assert.throws(() => new MinHasher({ ngram: 5, bands: 2, rows: 1.5, seed: 1 }), /rows must be a positive integer/);
});
