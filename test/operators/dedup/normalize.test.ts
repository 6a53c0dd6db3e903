import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeText } from '../../../operators/dedup/minhash/normalize.ts';
import { ShingleBuffer, jaccard, shingleHashes, shingleSet } from '../../../operators/dedup/minhash/shingle.ts';

test('normalizeText lowercases, strips diacritics and punctuation, maps digits to 0', () => {
  assert.equal(normalizeText("Café, 2024!  Don't"), 'cafe 0000 dont');
  assert.equal(normalizeText('  Ünïcödé\tTEXT\n\nnaïve — ok…  '), 'unicode text naive ok');
  assert.equal(normalizeText('١٢٣ apples'), '000 apples', 'non-ASCII decimal digits map to 0 too');
  assert.equal(normalizeText('emoji 😀 here'), 'emoji here');
  assert.equal(normalizeText(''), '');
  assert.equal(normalizeText('...!!!'), '');
});

test('the fast scanner shingles exactly the normalised words', () => {
  const buf = new ShingleBuffer();
  const texts = [
    'The quick brown fox jumps over the lazy dog, again and again in 1999!',
    'Crème brûlée — très délicieux; 3 œufs, 250 g de sucre. Voilà.',
    "It's a dog's life: don't stop; 10,000 reasons",
    'one two three',
    'single',
    'Ελληνικά κείμενα με τόνους, και αριθμούς 42 και 43 στο τέλος της πρότασης',
  ];
  for (const t of texts) {
    for (const n of [1, 3, 5]) {
      const a = Array.from((shingleHashes(t, n, buf), buf.view()));
      const b = Array.from((shingleHashes(normalizeText(t), n, buf), buf.view()));
      assert.deepEqual(a, b, `${n}-shingles of ${JSON.stringify(t)}`);
      const words = normalizeText(t).split(' ').filter(Boolean).length;
      assert.equal(a.length, words >= n ? words - n + 1 : words > 0 ? 1 : 0, 'one shingle per window, one for short texts');
    }
  }
  assert.equal(shingleHashes('', 5, buf), 0, 'an empty text has no shingles');
  assert.equal(shingleHashes(' .,;! ', 5, buf), 0, 'punctuation alone has no shingles');
});

test('texts differing only in case, punctuation, digits and accents have identical shingle sets', () => {
  const a = shingleSet('The Café opened in 1987, and it is still open today! Come visit us.', 5);
  const b = shingleSet('the cafe opened in 2023 and it is still open today come visit us', 5);
  assert.equal(jaccard(a, b), 1);
  const c = shingleSet('the cafe opened in 2023 and it was still open today come visit us', 5);
  assert.ok(jaccard(a, c) < 1 && jaccard(a, c) > 0);
});

test('exact Jaccard of sorted sets', () => {
  assert.equal(jaccard(new Uint32Array([1, 2, 3]), new Uint32Array([2, 3, 4])), 0.5);
  assert.equal(jaccard(new Uint32Array([]), new Uint32Array([])), 1);
  assert.equal(jaccard(new Uint32Array([1]), new Uint32Array([])), 0);
});

test('shingle size must be a positive integer', () => {
  assert.throws(() => shingleHashes('a b c', 0, new ShingleBuffer()), /positive integer/);
});
