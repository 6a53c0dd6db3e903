import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonBytes, jsonPiece } from '../../../operators/dedup/json-bytes.ts';
import { KeptIds } from '../../../operators/dedup/kept-ids.ts';

test('JsonBytes writes the JSON text a template string would, growing past its first buffer', () => {
  const j = new JsonBytes();
  const ints = [0, 7, 10, 99, 100, 2147483647, 2147483648, -1, -2147483648, -2147483649, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];
  for (const v of ints) assert.equal(j.reset().int(v).toString(), String(v), `int ${v}`);
  for (const v of [0, 1, 0xdeadbeef, 0xffffffff, 0x80000000, -1]) assert.equal(j.reset().hex32(v).toString(), (v >>> 0).toString(16).padStart(8, '0'));
  const ids = ['plain', 'Grüße "quoted"\n', '世界😀', 'a\ud800b'];
  for (const id of ids) {
    const json = JSON.stringify(id);
    assert.equal(j.reset().text(json).toString(), json, `text ${json}`);
    assert.deepEqual(JSON.parse(j.toString()), id);
  }
  const piece = jsonPiece('{"keptId":');
  assert.equal(j.reset().raw(piece).range(piece, 2, 8).toString(), '{"keptId":keptId');
  // A value longer than the first buffer (256 bytes): grown, nothing lost.
  const long = JSON.stringify('x'.repeat(1000) + 'é'.repeat(300));
  j.reset().raw(piece).text(long).raw(jsonPiece(',"n":')).int(-42).raw(jsonPiece('}'));
  assert.deepEqual(JSON.parse(j.toString()), { keptId: 'x'.repeat(1000) + 'é'.repeat(300), n: -42 });
  assert.equal(j.length, Buffer.byteLength(j.toString()));
  assert.throws(() => j.int(1.5), /1\.5 is not a safe integer/);
  assert.throws(() => j.int(2 ** 53), /is not a safe integer/);
});

test('KeptIds stores ids as JSON bytes, counts what it allocates, and says what an add would cost', () => {
  const ids = new KeptIds();
  const texts: string[] = [];
  for (let i = 0; i < 500; i++) texts.push(i % 7 === 0 ? `doc-é-${i}` : `d${i}`);
  for (const t of texts) {
    const json = JSON.stringify(t);
    const len = Buffer.byteLength(json);
    const before = ids.bytes;
    const growth = ids.growth(len);
    assert.equal(ids.add(json, len), texts.indexOf(t));
    assert.equal(ids.bytes, before + growth, `growth of ${json} is what add allocated`);
  }
  assert.equal(ids.count, 500);
  const j = new JsonBytes();
  for (let k = 0; k < 500; k += 37) {
    ids.write(k, j.reset().raw(jsonPiece('[')));
    assert.deepEqual(JSON.parse(j.raw(jsonPiece(']')).toString()), [texts[k]]);
  }
  assert.throws(() => ids.write(500, j), /no id 500 \(500 kept\)/);
  assert.throws(() => ids.add('"é"', 3), /is 4 UTF-8 bytes, not 3/);
});
