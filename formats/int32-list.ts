/**
 * A growable list of int32 values: pushes into a typed array that doubles when full, and is
 * reused by setting `n = 0` (no allocation per line or item in the hot loops that fill one).
 */
export class Int32List {
  a: Int32Array;
  n = 0;

  /** An empty list with room for `capacity` values before it first grows (default 256). */
  constructor(capacity = 256) {
    this.a = new Int32Array(capacity);
  }

  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
}
