/**
 * The GGUF writer against an independent reader (node-llama-cpp's `readGgufFileInfo`, a
 * TypeScript GGUF parser): every metadata type round-trips, tensor descriptors carry ggml's
 * innermost-first dimensions and 32-byte aligned offsets; bad values are errors naming the key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readGgufFileInfo } from 'node-llama-cpp';
import { writeGguf, type GgufValue } from '../../formats/gguf.ts';

async function toFile(metadata: Array<[string, GgufValue]>, tensors: Parameters<typeof writeGguf>[2]): Promise<string> {
  const parts: Uint8Array[] = [];
  const n = await writeGguf({ write: async (c) => void parts.push(c.slice()) }, metadata, tensors);
  const bytes = Buffer.concat(parts);
  assert.equal(bytes.length, n);
  const f = join(mkdtempSync(join(tmpdir(), 'sluice-gguf-')), 'x.gguf');
  writeFileSync(f, bytes);
  return f;
}

test('gguf: metadata of every type and tensor descriptors read back by another parser', async () => {
  const f = await toFile(
    [
      ['general.architecture', { type: 'string', value: 'gpt2' }],
      ['t.u8', { type: 'u8', value: 255 }],
      ['t.i8', { type: 'i8', value: -128 }],
      ['t.u16', { type: 'u16', value: 65535 }],
      ['t.i16', { type: 'i16', value: -32768 }],
      ['t.u32', { type: 'u32', value: 4294967295 }],
      ['t.i32', { type: 'i32', value: -2147483648 }],
      ['t.f32', { type: 'f32', value: 0.5 }],
      ['t.f64', { type: 'f64', value: 1 / 3 }],
      ['t.u64', { type: 'u64', value: 2n ** 40n }],
      ['t.i64', { type: 'i64', value: -(2n ** 40n) }],
      ['t.bool', { type: 'bool', value: true }],
      ['t.str', { type: 'string', value: 'naïve Ġ 東京' }],
      ['t.strs', { type: 'array', of: 'string', values: ['a', '', 'Ġb c'] }],
      ['t.ints', { type: 'array', of: 'i32', values: [1, -2, 3] }],
    ],
    [
      { name: 'a', shape: [3, 5], data: Float32Array.from({ length: 15 }, (_, i) => i) },
      { name: 'b', shape: [7], data: new Float32Array(7).fill(2), type: 'f16' },
      { name: 'c', shape: [2], data: Float32Array.of(-1, 1) },
    ],
  );
  const info = await readGgufFileInfo(f, { logWarnings: false });
  const md = info.metadata as unknown as { t: Record<string, unknown> };
  assert.equal(info.version, 3);
  assert.deepEqual(
    { ...md.t },
    { u8: 255, i8: -128, u16: 65535, i16: -32768, u32: 4294967295, i32: -2147483648, f32: 0.5, f64: 1 / 3, u64: 2n ** 40n, i64: -(2n ** 40n), bool: true, str: 'naïve Ġ 東京', strs: ['a', '', 'Ġb c'], ints: [1, -2, 3] },
  );
  const ti = info.tensorInfo!.map((t) => ({ name: t.name, dims: t.dimensions.map(Number), type: t.ggmlType, offset: Number(t.offset) }));
  // ggml dims are innermost first; offsets 32-byte aligned (a: 60 bytes → next at 64; b: 14 bytes → 96).
  assert.deepEqual(ti, [
    { name: 'a', dims: [5, 3], type: 0, offset: 0 },
    { name: 'b', dims: [7], type: 1, offset: 64 },
    { name: 'c', dims: [2], type: 0, offset: 96 },
  ]);
  // The data section starts at the aligned end of the header; read tensor a and c back.
  const bytes = readFileSync(f);
  const start = bytes.length - 128;
  assert.equal(start % 32, 0);
  assert.deepEqual([...new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + 60))], Array.from({ length: 15 }, (_, i) => i));
  assert.deepEqual([...new Float32Array(bytes.buffer.slice(bytes.byteOffset + start + 96, bytes.byteOffset + start + 104))], [-1, 1]);
  assert.equal(bytes.readUInt16LE(start + 64), 0x4000, 'f16 2.0');
});

test('gguf: out-of-range values, duplicates and short tensors are errors naming the key or tensor', async () => {
  const sink = { write: async () => undefined };
  await assert.rejects(writeGguf(sink, [['x.n', { type: 'u32', value: -1 }]], []), /key x\.n: -1 is not a u32/);
  await assert.rejects(writeGguf(sink, [['x.n', { type: 'array', of: 'u8', values: [1, 256] }]], []), /key x\.n: 256 is not a u8/);
  await assert.rejects(writeGguf(sink, [['x.f', { type: 'f32', value: NaN }]], []), /key x\.f: NaN is not a finite f32/);
  await assert.rejects(writeGguf(sink, [['k', { type: 'bool', value: true }], ['k', { type: 'bool', value: false }]], []), /duplicate key k/);
  await assert.rejects(writeGguf(sink, [], [{ name: 't', shape: [2, 2], data: new Float32Array(3) }]), /tensor t has 3 values for shape \[2,2\]/);
});
