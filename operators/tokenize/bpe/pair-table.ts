/**
 * An open-addressing hash table from a pair of token ids to (merge rank, merged id): the one
 * structure the BPE merge loop queries. Two Int32Array keys and values, linear probing, load
 * factor ≤ 0.5; a lookup is a few integer ops and no allocation, which is what makes the merge
 * loop fast compared with string-keyed maps.
 */
export class PairTable {
  private readonly mask: number;
  private readonly ka: Int32Array;
  private readonly kb: Int32Array;
  readonly ranks: Int32Array;
  readonly ids: Int32Array;
  size = 0;

  constructor(capacity: number) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.mask = cap - 1;
    this.ka = new Int32Array(cap).fill(-1);
    this.kb = new Int32Array(cap);
    this.ranks = new Int32Array(cap);
    this.ids = new Int32Array(cap);
  }

  private slot(a: number, b: number): number {
    return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 0;
  }

  /** Sets (a, b) → (rank, id); an existing pair keeps the lower rank. */
  set(a: number, b: number, rank: number, id: number): void {
    let i = this.slot(a, b) & this.mask;
    for (;;) {
      const k = this.ka[i]!;
      if (k === -1) {
        if (this.size * 2 >= this.mask) throw new Error('PairTable: capacity exceeded');
        this.ka[i] = a;
        this.kb[i] = b;
        this.ranks[i] = rank;
        this.ids[i] = id;
        this.size++;
        return;
      }
      if (k === a && this.kb[i] === b) {
        if (rank < this.ranks[i]!) {
          this.ranks[i] = rank;
          this.ids[i] = id;
        }
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** The slot of (a, b), or -1: read `ranks[slot]` and `ids[slot]`. */
  find(a: number, b: number): number {
    const ka = this.ka;
    let i = this.slot(a, b) & this.mask;
    for (;;) {
      const k = ka[i]!;
      if (k === -1) return -1;
      if (k === a && this.kb[i] === b) return i;
      i = (i + 1) & this.mask;
    }
  }
}
