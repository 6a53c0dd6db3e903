/**
 * An exact set of 128-bit hashes, each with an integer value, in typed arrays with a byte
 * budget: the exact paragraph dedup's in-memory table (`paragraph-stream.ts`). Open addressing,
 * linear probing, 20 bytes per slot (four key words and the value), no object per entry.
 *
 * It grows by doubling while the doubled table fits the budget and the load would pass 1/2;
 * past that it fills up to a load of 3/4, then `reserve` says no and the caller stops adding
 * (the table is then probed only). Hashes are MurmurHash3-128 words, uniform already: the slot
 * is the first word masked, with no further mixing.
 */

/** Bytes per slot: four Int32 key words and one Int32 value. */
export const SLOT_BYTES = 20;

const MIN_SLOTS = 16;

/**
 * Exact 128-bit hash → value table within a byte budget (see the module comment): `reserve`
 * before adding, `getOrAdd` to test-and-insert, `get` to probe a frozen table.
 */
export class HashTable128 {
  private keys: Int32Array;
  /** Value + 1 per slot; 0 marks an empty slot (a fresh Int32Array needs no fill). */
  private vals: Int32Array;
  private mask: number;
  private used = 0;

  /** An empty table whose first allocation fits `initialBytes` (at least 16 slots). */
  constructor(initialBytes = 1 << 20) {
    let slots = MIN_SLOTS;
    while (slots * 2 * SLOT_BYTES <= initialBytes) slots *= 2;
    this.keys = new Int32Array(slots * 4);
    this.vals = new Int32Array(slots);
    this.mask = slots - 1;
  }

  /** Entries stored. */
  get size(): number {
    return this.used;
  }

  /** Bytes of the table's arrays. */
  get bytes(): number {
    return this.vals.length * SLOT_BYTES;
  }

  /**
   * Makes room for `n` more entries, growing the table while its doubled size stays within
   * `budgetBytes`; false when `n` more would pass a load of 3/4 within the budget (nothing is
   * changed then). While rehashing, the old and new arrays are both held (1.5× the new size).
   */
  reserve(n: number, budgetBytes: number): boolean {
    const need = this.used + n;
    while (need * 2 > this.vals.length && this.vals.length * 2 * SLOT_BYTES <= budgetBytes) this.grow();
    return need * 4 <= this.vals.length * 3;
  }

  /**
   * The value stored under the hash `h[at..at+4)`, or -1 after adding it with `value` (≥ 0)
   * when absent. The caller must have `reserve`d room for it.
   */
  getOrAdd(h: Int32Array, at: number, value: number): number {
    const i = this.slot(h, at);
    const v = this.vals[i]!;
    if (v !== 0) return v - 1;
    const k = i << 2;
    this.keys[k] = h[at]!;
    this.keys[k + 1] = h[at + 1]!;
    this.keys[k + 2] = h[at + 2]!;
    this.keys[k + 3] = h[at + 3]!;
    this.vals[i] = value + 1;
    this.used++;
    return -1;
  }

  /**
   * Touches the home slots of the `n` hashes `h[4i..4i+4)` (i < n) before they are probed one by
   * one: these loads do not depend on each other, so the CPU overlaps their cache misses, where
   * each probe's branch on what it loaded stalls the next.
   */
  touch(h: Int32Array, n: number): void {
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    let sink = 0;
    for (let j = 0; j < n; j++) {
      const i = h[4 * j]! & mask;
      sink |= vals[i]! | keys[i << 2]!;
    }
    // Kept so the loads are not optimized away.
    this.touched = sink;
  }
  private touched = 0;

  /** The value stored under the hash `h[at..at+4)`, or -1 when absent. */
  get(h: Int32Array, at: number): number {
    return this.vals[this.slot(h, at)]! - 1;
  }

  /** The slot holding the hash `h[at..at+4)`, or the empty slot where it would go. */
  private slot(h: Int32Array, at: number): number {
    const a = h[at]!;
    const b = h[at + 1]!;
    const c = h[at + 2]!;
    const d = h[at + 3]!;
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    for (let i = a & mask; ; i = (i + 1) & mask) {
      if (vals[i] === 0) return i;
      const k = i << 2;
      if (keys[k] === a && keys[k + 1] === b && keys[k + 2] === c && keys[k + 3] === d) return i;
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    const slots = oldVals.length * 2;
    const keys = new Int32Array(slots * 4);
    const vals = new Int32Array(slots);
    const mask = slots - 1;
    for (let j = 0; j < oldVals.length; j++) {
      const v = oldVals[j]!;
      if (v === 0) continue;
      const o = j << 2;
      let i = oldKeys[o]! & mask;
      while (vals[i] !== 0) i = (i + 1) & mask;
      const k = i << 2;
      keys[k] = oldKeys[o]!;
      keys[k + 1] = oldKeys[o + 1]!;
      keys[k + 2] = oldKeys[o + 2]!;
      keys[k + 3] = oldKeys[o + 3]!;
      vals[i] = v;
    }
    this.keys = keys;
    this.vals = vals;
    this.mask = mask;
  }
}
