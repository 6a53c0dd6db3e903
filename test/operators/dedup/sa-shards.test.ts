import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { shardCuts, shardSuffixArray } from '../../../operators/dedup/sa-shards.ts';
import { suffixArray } from '../../../operators/dedup/sais.ts';
import { findRepeats, findRepeatsNaive } from '../../../operators/dedup/repeats.ts';

/** Shard suffix arrays cut every `size` tokens, anywhere (inside documents too). */
function shards(T: Int32Array | Uint16Array, size: number, L: number, sep: number): Int32Array[] {
  return shardCuts(T.length, size).map(([s, e]) => shardSuffixArray(T, s, e, L, sep + 1));
}

test('shards cut inside documents: findRepeats equals brute force and the single suffix array for every shard size', async () => {
  // Shards sorted on their own text, without the minTokens overlap, must get some case wrong:
  // the overlap is what makes cutting inside a document exact (this test fails without it).
  let bareWrong = 0;
  await fc.assert(
    fc.asyncProperty(
      // Few symbols and long documents: windows repeat, straddle cuts, and have copies in other shards.
      fc.array(fc.array(fc.integer({ min: 0, max: 2 }), { maxLength: 60 }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 50 }),
      fc.boolean(),
      async (docs, L, size, wide) => {
        // wide: a separator above 16 bits (Int32 text, 3 tokens per key, so L > 6 compares text past the keys).
        const sep = wide ? 70_000 : 3;
        const flat: number[] = [];
        for (const d of docs) flat.push(...d, sep);
        const T = wide ? Int32Array.from(flat) : Uint16Array.from(flat);
        const want = findRepeatsNaive(T, L, sep);
        const one = await findRepeats(T, [suffixArray(T, sep + 1)], L, sep);
        assert.deepEqual(one.ranges, want);
        const sas = shards(T, size, L, sep);
        // Each shard lists exactly its own positions.
        assert.deepEqual(sas.map((a) => a.length), shardCuts(T.length, size).map(([s, e]) => e - s));
        const sharded = await findRepeats(T, sas, L, sep);
        assert.deepEqual(sharded.ranges, want);
        assert.equal(sharded.removed, one.removed);
        assert.equal(sharded.groups, one.groups);
        // Streamed in chunks of 2 suffixes: same result.
        const chunked = sas.map((a) => Array.from({ length: Math.ceil(a.length / 2) }, (_, i) => a.subarray(2 * i, 2 * i + 2)));
        assert.deepEqual((await findRepeats(T, chunked, L, sep)).ranges, want);
        const bare = shardCuts(T.length, size).map(([s, e]) => suffixArray(T.subarray(s, e), sep + 1).map((p) => p + s));
        if (JSON.stringify((await findRepeats(T, bare, L, sep)).ranges) !== JSON.stringify(want)) bareWrong++;
      },
    ),
    { numRuns: 300 },
  );
  assert.ok(bareWrong > 0, 'cutting without the overlap was never wrong: the property does not exercise shard cuts');
});

test('a repeat straddling a shard cut, with its copy in another shard, is found; and shardCuts rejects a bad size', async () => {
  const sep = 999;
  // One document of 80 tokens: a 30-token phrase at 5..35 and again at 45..75; shard cuts every
  // 16 tokens, so both copies straddle cuts and lie in different shards.
  const phrase = Array.from({ length: 30 }, (_, i) => 200 + i);
  const doc = Array.from({ length: 80 }, (_, i) => 10 + i);
  doc.splice(5, 30, ...phrase);
  doc.splice(45, 30, ...phrase);
  const T = Int32Array.from([...doc, sep]);
  const L = 8;
  const want = findRepeatsNaive(T, L, sep);
  // Windows starting at 45..67 repeat; those before 45 and from 68 on are first occurrences.
  assert.deepEqual(want, [{ start: 52, end: 68 }]);
  assert.deepEqual((await findRepeats(T, shards(T, 16, L, sep), L, sep)).ranges, want);
  assert.throws(() => shardCuts(10, 0), /shardTokens must be a positive integer/);
});
