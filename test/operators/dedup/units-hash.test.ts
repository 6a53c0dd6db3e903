import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { CodeUnits, hashRange } from '../../../operators/dedup/units.ts';

// An independent MurmurHash3 implementation (pure JS, over bytes): the reference our code-unit
// hash must equal on the text's UTF-16LE bytes.
const murmur = createRequire(import.meta.url)('murmurhash3js-revisited') as { x86: { hash128(bytes: Uint8Array, seed?: number): string } };

function hex(h: Uint32Array, at = 0): string {
  return Array.from(h.subarray(at, at + 4), (x) => x.toString(16).padStart(8, '0')).join('');
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('CodeUnits.hash and hashRange are MurmurHash3 x86_128 of the range as UTF-16LE bytes, at even and odd offsets', () => {
  const rnd = seeded(7);
  // ASCII, Latin-1, CJK, emoji (surrogate pairs) and a lone surrogate: one-byte and two-byte strings.
  const alphabet = ['a', 'b', ' ', '\n', 'é', 'ß', '世', '界', '😀', '\ud800', 'Z', '.'];
  const codes = new CodeUnits();
  const out = new Uint32Array(12);
  let checked = 0;
  for (let t = 0; t < 200; t++) {
    const len = Math.floor(rnd() * 90);
    let text = '';
    for (let i = 0; i < len; i++) text += alphabet[Math.floor(rnd() * (t % 3 === 0 ? 3 : alphabet.length))]!;
    codes.load(text);
    for (let r = 0; r < 20; r++) {
      const start = Math.floor(rnd() * (text.length + 1));
      const end = start + Math.floor(rnd() * (text.length - start + 1));
      const seed = r % 5 === 0 ? 0x9747b28c : 0;
      const want = murmur.x86.hash128(new Uint8Array(Buffer.from(text.slice(start, end), 'utf16le')), seed);
      assert.equal(hex(codes.hash(start, end, out, 4, seed), 4), want, `${JSON.stringify(text)} [${start}, ${end})`);
      assert.equal(hex(hashRange(text, start, end, out, seed)), want);
      checked++;
    }
  }
  assert.equal(checked, 4000);
  // Known values of the empty key and of "a" (UTF-16LE 61 00).
  assert.equal(hex(hashRange('', 0, 0, out)), '00000000000000000000000000000000');
  assert.equal(hex(hashRange('xa', 1, 2, out)), '033bb196ccef4fe1ccef4fe1ccef4fe1');
});

test('CodeUnits grows its buffer for any text length, odd ones included', () => {
  const out = new Uint32Array(4);
  for (const n of [513, 2047, 1025, 4099, 3]) {
    const text = 'ab\u00e9'.repeat(n).slice(0, n);
    const codes = new CodeUnits().load(text);
    assert.equal(codes.length, n);
    assert.equal(hex(codes.hash(1, n, out)), murmur.x86.hash128(new Uint8Array(Buffer.from(text.slice(1), 'utf16le'))));
  }
});

test('CodeUnits.hash refuses a range outside the loaded text', () => {
  const codes = new CodeUnits().load('hello');
  assert.throws(() => codes.hash(2, 6, new Uint32Array(4)), /range \[2, 6\) outside 5 code units/);
  assert.throws(() => codes.hash(3, 2, new Uint32Array(4)), /range \[3, 2\) outside/);
});
