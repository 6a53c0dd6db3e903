import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { suffixArray } from '../../../operators/dedup/sais.ts';
import { findRepeats, findRepeatsNaive } from '../../../operators/dedup/repeats.ts';

/** Suffix order by naive comparison (a suffix that is a prefix of another sorts first). */
function naiveSuffixArray(t: ArrayLike<number>): number[] {
  const idx = Array.from({ length: t.length }, (_, i) => i);
  return idx.sort((a, b) => {
    for (let d = 0; ; d++) {
      if (a + d >= t.length) return -1;
      if (b + d >= t.length) return 1;
      if (t[a + d] !== t[b + d]) return t[a + d]! - t[b + d]!;
    }
  });
}

test('SA-IS equals naive suffix sorting (property, small alphabets force deep recursion)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 6 }).chain((k) => fc.array(fc.integer({ min: 0, max: k - 1 }), { maxLength: 120 })), (t) => {
      assert.deepEqual(Array.from(suffixArray(t)), naiveSuffixArray(t));
    }),
    { numRuns: 600 },
  );
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 70000 }), { maxLength: 200 }), (t) => {
      assert.deepEqual(Array.from(suffixArray(Uint32Array.from(t))), naiveSuffixArray(t));
    }),
    { numRuns: 200 },
  );
});

test('SA-IS edge cases and input errors', () => {
  assert.deepEqual(Array.from(suffixArray([])), []);
  assert.deepEqual(Array.from(suffixArray([5])), [0]);
  assert.deepEqual(Array.from(suffixArray(new Uint16Array(300).fill(7))), Array.from({ length: 300 }, (_, i) => 299 - i));
  assert.throws(() => suffixArray([1, -1]), /token -1 at 1 is outside the alphabet/);
  assert.throws(() => suffixArray([1, 9], 4), /token 9 at 1 is outside the alphabet \[0, 4\)/);
});

/** Splits the text at separators into shards of about `size` tokens and returns per-shard global suffix arrays. */
function shardSas(T: Int32Array, sep: number, size: number): Int32Array[] {
  const out: Int32Array[] = [];
  let start = 0;
  for (let i = 0; i < T.length; i++) {
    if (T[i] === sep && (i + 1 - start >= size || i === T.length - 1)) {
      const sa = suffixArray(T.subarray(start, i + 1), sep + 1);
      out.push(sa.map((p) => p + start));
      start = i + 1;
    }
  }
  return out;
}

test('findRepeats equals the brute-force search, in one suffix array and merged from shards', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 30 }), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 40 }),
      async (docs, L, shardSize) => {
        const sep = 3;
        const flat: number[] = [];
        for (const d of docs) flat.push(...d, sep);
        const T = Int32Array.from(flat);
        const want = findRepeatsNaive(T, L, sep);
        const one = await findRepeats(T, [suffixArray(T, sep + 1)], L, sep);
        assert.deepEqual(one.ranges, want);
        assert.equal(one.removed, want.reduce((s, r) => s + r.end - r.start, 0));
        const sharded = await findRepeats(T, shardSas(T, sep, shardSize), L, sep);
        assert.deepEqual(sharded.ranges, want);
      },
    ),
    { numRuns: 400 },
  );
});

test('findRepeats keeps the first occurrence of a periodic run and rejects a suffix array of the wrong size', async () => {
  const T = Int32Array.from([...new Array(20).fill(1), 9]);
  const r = await findRepeats(T, [suffixArray(T)], 5, 9);
  assert.deepEqual(r.ranges, [{ start: 5, end: 20 }]);
  await assert.rejects(findRepeats(T, [suffixArray(T).subarray(1)], 5, 9), /list 20 positions for a text of 21 tokens/);
});
