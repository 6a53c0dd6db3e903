/**
 * fastText's hashing, bit for bit. Tokens are hashed with 32-bit FNV-1a over their bytes, each
 * byte sign-extended first (`uint32_t(int8_t(c))` in `Dictionary::hash`), so bytes ≥ 0x80 (all
 * non-ASCII UTF-8) hash differently from a textbook FNV-1a. Word n-grams chain those hashes in
 * 64-bit arithmetic (`h = h * 116049371 + hash`, where each hash was stored as an int32 and so
 * is sign-extended) and take `h % bucket`; JS numbers are exact only to 2^53, so the 64-bit
 * product is computed in 16/32-bit limbs here instead of BigInt (measured: BigInt made the
 * n-gram step ~20× slower).
 */

/** fastText's FNV-1a over `bytes[start, end)` (bytes sign-extended), as an unsigned 32-bit value. */
export function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    const b = bytes[i]!;
    h = Math.imul(h ^ (b >= 0x80 ? b | 0xffffff00 : b), 16777619);
  }
  return h >>> 0;
}

/** `a * b mod m` for 0 ≤ a, b < m < 2^31 without losing precision. */
function mulmod(a: number, b: number, m: number): number {
  return (((a * (b >>> 16)) % m) * 65536 + a * (b & 0xffff)) % m;
}

const MULT = 116049371;
const TWO32 = 4294967296;

/**
 * A 64-bit word-n-gram hash being built: start it with `reset(hash)`, extend it with `push(hash)`,
 * read `mod(bucket)` after each push.
 */
export class NgramHash {
  hi = 0;
  lo = 0;
  /** `h = uint64(int32(hash))`. */
  reset(hash: number): void {
    const s = hash | 0;
    this.lo = s >>> 0;
    this.hi = s < 0 ? 0xffffffff : 0;
  }
  /** `h = h * 116049371 + uint64(int32(hash))`, modulo 2^64. */
  push(hash: number): void {
    const lo = this.lo;
    const p0 = (lo & 0xffff) * MULT; // < 2^43
    const p1 = (lo >>> 16) * MULT; // < 2^43
    const p0hi = Math.floor(p0 / TWO32);
    const p1hi = Math.floor(p1 / 65536);
    let sumlo = (p0 >>> 0) + (p1 % 65536) * 65536; // < 2^33
    let carry = sumlo >= TWO32 ? 1 : 0;
    if (carry) sumlo -= TWO32;
    let hi = Math.imul(this.hi, MULT) + p0hi + p1hi + carry;
    // add the sign-extended 64-bit value of the int32 hash
    const s = hash | 0;
    sumlo += s >>> 0;
    if (sumlo >= TWO32) {
      sumlo -= TWO32;
      hi += 1;
    }
    if (s < 0) hi += 0xffffffff;
    this.lo = sumlo;
    this.hi = hi >>> 0;
  }
  /** `h % m` for 0 < m < 2^31. */
  mod(m: number): number {
    return (mulmod(this.hi % m, TWO32 % m, m) + (this.lo % m)) % m;
  }
}
