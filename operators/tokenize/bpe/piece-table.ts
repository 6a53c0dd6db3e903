/**
 * A hash table from pre-token text to token ids that is probed with a slice of the input
 * (`text`, `start`, `end`) without allocating the slice: hashing and comparing read char codes
 * in place. The encoder's hot loop does one probe per pre-token; a `Map<string, …>` needed a
 * `text.slice()` per probe, which cost more than the lookup itself (allocation and GC).
 *
 * Static entries (whole-token strings) stay; dynamic entries (cached merge results) are dropped
 * all at once when their count reaches `maxDynamic`, bounding memory.
 */
export class PieceTable {
  private keys: string[] = [];
  private vals: number[] = [];
  private multi: Uint32Array[] = [];
  private slots: Int32Array;
  private mask: number;
  private staticCount = 0;
  private frozen = false;

  constructor(
    staticCapacity: number,
    private readonly maxDynamic = 200_000,
  ) {
    let cap = 1024;
    while (cap < (staticCapacity + maxDynamic) * 2) cap *= 2;
    this.slots = new Int32Array(cap).fill(-1);
    this.mask = cap - 1;
  }

  private static hash(s: string, a: number, b: number): number {
    let h = 0x811c9dc5;
    for (let i = a; i < b; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    return (h ^ (h >>> 15)) >>> 0;
  }

  /** Entry index of `text[a, b)`, or -1. */
  find(text: string, a: number, b: number): number {
    const n = b - a;
    let i = PieceTable.hash(text, a, b) & this.mask;
    const slots = this.slots;
    const keys = this.keys;
    for (;;) {
      const e = slots[i]!;
      if (e < 0) return -1;
      const k = keys[e]!;
      if (k.length === n) {
        let j = 0;
        while (j < n && k.charCodeAt(j) === text.charCodeAt(a + j)) j++;
        if (j === n) return e;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Value of entry `e`: a single id (≥ 0), or -1 when it holds several (see `many`). */
  one(e: number): number {
    return this.vals[e]!;
  }
  /** The ids of a multi-token entry. */
  many(e: number): Uint32Array {
    return this.multi[e]!;
  }

  private insert(key: string, val: number, ids: Uint32Array | undefined): void {
    const e = this.keys.length;
    this.keys.push(key);
    this.vals.push(val);
    if (ids) this.multi[e] = ids;
    let i = PieceTable.hash(key, 0, key.length) & this.mask;
    while (this.slots[i]! >= 0) i = (i + 1) & this.mask;
    this.slots[i] = e;
  }

  /** Adds a permanent entry (before any `cache`); the first spelling wins. */
  addStatic(key: string, id: number): void {
    if (this.frozen) throw new Error('PieceTable: static entries must come first');
    if (this.find(key, 0, key.length) >= 0) return;
    this.insert(key, id, undefined);
    this.staticCount++;
  }

  /** Caches a merge result; clears all cached results when the cache is full. */
  cache(key: string, ids: number | Uint32Array): void {
    if (!this.frozen) this.frozen = true;
    if (this.keys.length - this.staticCount >= this.maxDynamic) this.reset();
    if (typeof ids === 'number') this.insert(key, ids, undefined);
    else this.insert(key, -1, ids);
  }

  private reset(): void {
    this.keys.length = this.staticCount;
    this.vals.length = this.staticCount;
    this.multi = [];
    this.slots.fill(-1);
    for (let e = 0; e < this.staticCount; e++) {
      const k = this.keys[e]!;
      let i = PieceTable.hash(k, 0, k.length) & this.mask;
      while (this.slots[i]! >= 0) i = (i + 1) & this.mask;
      this.slots[i] = e;
    }
  }
}
