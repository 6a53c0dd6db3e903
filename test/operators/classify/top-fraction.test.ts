import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { topFractionThreshold } from '../../../operators/classify/top-fraction.ts';

/** The brute-force answer: the k-th largest finite value, k = ceil(f·n). */
function bySort(values: number[], f: number): { threshold: number | null; kept: number } {
  const v = values.filter(Number.isFinite).sort((a, b) => b - a);
  if (!v.length) return { threshold: null, kept: 0 };
  const t = v[Math.ceil(f * v.length - 1e-9) - 1]!;
  return { threshold: t, kept: v.filter((x) => x >= t).length };
}

function chunks(values: number[], size: number): () => AsyncIterable<Float64Array> {
  return async function* () {
    for (let i = 0; i < values.length; i += size) yield Float64Array.from(values.slice(i, i + size));
  };
}

test('topFractionThreshold equals sorting, with ties, NaN and forced narrowing (tiny histograms and candidate caps)', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(fc.double({ min: -5, max: 5, noNaN: true }), fc.constantFrom(0.5, 0.25, Number.NaN, 1e-300, -1e-300)), { minLength: 0, maxLength: 300 }),
      fc.double({ min: 0.001, max: 1, noNaN: true }),
      fc.constantFrom(2, 3, 16, 65536),
      fc.constantFrom(1, 4, 1000000),
      async (values, f, bins, maxCandidates) => {
        const want = bySort(values, f);
        const got = await topFractionThreshold(chunks(values, 7), f, { bins, maxCandidates });
        assert.equal(got.threshold, want.threshold);
        assert.equal(got.kept, want.kept);
        assert.equal(got.docs, values.filter(Number.isFinite).length);
      },
    ),
    { numRuns: 300, seed: 7 },
  );
});

test('topFractionThreshold: narrows 200,000 scores in a bounded candidate set; rejects a fraction outside (0, 1]', async () => {
  let s = 1;
  const rnd = () => ((s = (s * 48271) % 2147483647) / 2147483647) ** 3;
  const values = Array.from({ length: 200_000 }, rnd);
  const got = await topFractionThreshold(chunks(values, 4096), 0.1, { maxCandidates: 1000 });
  assert.deepEqual({ threshold: got.threshold, kept: got.kept }, bySort(values, 0.1));
  assert.ok(got.passes >= 3, `${got.passes} passes`);
  await assert.rejects(topFractionThreshold(chunks(values, 10), 0), /keepTopFraction must be in \(0, 1\], got 0/);
  await assert.rejects(topFractionThreshold(chunks(values, 10), 1.5), /got 1\.5/);
});
