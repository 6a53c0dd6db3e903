import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BloomFilter, blockedFpRate } from '../../../operators/dedup/bloom.ts';
import { hashRange } from '../../../operators/dedup/units.ts';

/** Inserts `expected` distinct keys, then counts the fresh keys (never inserted) it claims to hold. */
function measure(expected: number, fpRate: number, queries: number): { filter: BloomFilter; rate: number } {
  const filter = new BloomFilter(expected, fpRate);
  const h = new Uint32Array(4);
  // Keys are MurmurHash3-128 of distinct strings: what dedup.paragraphs feeds the filter.
  for (let i = 0; i < expected; i++) {
    const s = `inserted ${i}`;
    filter.testAndAdd(hashRange(s, 0, s.length, h));
  }
  let hits = 0;
  for (let i = 0; i < queries; i++) {
    const s = `fresh ${i}`;
    if (filter.has(hashRange(s, 0, s.length, h))) hits++;
  }
  return { filter, rate: hits / queries };
}

test('blocked Bloom filter: measured false-positive rate at the expected count stays ≤ fpRate, and matches its sizing formula', () => {
  for (const [fpRate, queries] of [
    [1e-2, 200_000],
    [1e-3, 1_000_000],
  ] as const) {
    const { filter, rate } = measure(200_000, fpRate, queries);
    const predicted = blockedFpRate(200_000, filter.blocks, filter.k);
    assert.ok(rate <= fpRate, `fpRate ${fpRate}: measured ${rate} over ${queries} fresh keys`);
    // The sizing formula itself: within 4 binomial standard deviations of the measurement.
    assert.ok(Math.abs(rate - predicted) <= 4 * Math.sqrt(predicted / queries), `fpRate ${fpRate}: measured ${rate}, formula ${predicted}`);
    // Blocks cost bits: more than the classic −ln p / (ln 2)² per key.
    assert.ok(filter.bits / 200_000 > -Math.log(fpRate) / Math.LN2 ** 2);
  }
  // Every inserted key is reported present, in any order of the test.
  const f = new BloomFilter(1000, 1e-6);
  const h = new Uint32Array(4);
  for (let i = 0; i < 1000; i++) f.testAndAdd(hashRange(`k${i}`, 0, `k${i}`.length, h));
  for (let i = 999; i >= 0; i--) assert.equal(f.has(hashRange(`k${i}`, 0, `k${i}`.length, h)), true);
});

test('blocked Bloom filter: sizing grows with lower fpRate and bad options are named', () => {
  const a = new BloomFilter(1_000_000, 1e-3);
  const b = new BloomFilter(1_000_000, 1e-6);
  assert.ok(b.bits > a.bits && b.k > a.k);
  assert.ok(blockedFpRate(1_000_000, b.blocks, b.k) <= 1e-6);
  assert.throws(() => new BloomFilter(0, 0.01), /expected/);
  assert.throws(() => new BloomFilter(10, 1), /fpRate/);
  assert.throws(() => new BloomFilter(1e12, 1e-9), /GiB/);
});
