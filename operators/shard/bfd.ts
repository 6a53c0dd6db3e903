/**
 * Best-fit decreasing bin packing of documents into fixed-length rows: `shard.tokens({ pack:
 * 'bfd' })`. Items are placed longest first, each into the open row whose free space is the
 * smallest that still holds it (a new row when none does); no item is ever split. Finding that
 * row is a descent of a segment tree over free-space values (O(log L) per item for rows of L
 * tokens), so packing n documents costs O(n log n) for the sort plus O(n log L).
 */

/** Which rows hold which items: `rows[r]` lists item indices in placement order (longest first). */
export type Packing = number[][];

/**
 * Packs items of `lengths` (each 1..`capacity`) into rows of `capacity` by best-fit decreasing.
 * Ties in length keep input order (a stable sort), so the result is deterministic. Rows are
 * numbered in the order they were opened. Throws naming the item when one does not fit.
 */
export function bestFitDecreasing(lengths: ArrayLike<number>, capacity: number): Packing {
  if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`bestFitDecreasing: capacity must be a positive integer, got ${capacity}`);
  const n = lengths.length;
  const order = Array.from({ length: n }, (_, i) => i);
  for (const i of order) {
    const l = lengths[i]!;
    if (!Number.isInteger(l) || l < 1 || l > capacity) throw new Error(`bestFitDecreasing: item ${i} has length ${l}, outside 1..${capacity}`);
  }
  order.sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  // count[free]: open rows with exactly `free` tokens left; tree[node]: rows under the node.
  let size = 1;
  while (size < capacity + 1) size <<= 1;
  const tree = new Int32Array(2 * size);
  const byFree: number[][] = Array.from({ length: capacity + 1 }, () => []);
  const add = (free: number, delta: number) => {
    for (let i = free + size; i >= 1; i >>= 1) tree[i]! += delta;
  };
  /** Smallest free value ≥ lo with an open row, or -1. */
  const firstAtLeast = (lo: number): number => {
    const go = (node: number, l: number, r: number): number => {
      if (r < lo || tree[node] === 0) return -1;
      if (l === r) return l;
      const mid = (l + r) >> 1;
      const left = go(2 * node, l, mid);
      return left >= 0 ? left : go(2 * node + 1, mid + 1, r);
    };
    return go(1, 0, size - 1);
  };
  const rows: Packing = [];
  const free: number[] = [];
  for (const i of order) {
    const len = lengths[i]!;
    const f = firstAtLeast(len);
    let r: number;
    if (f < 0) {
      r = rows.length;
      rows.push([]);
      free.push(capacity);
    } else {
      r = byFree[f]!.pop()!;
      add(f, -1);
    }
    rows[r]!.push(i);
    free[r]! -= len;
    // A full row can take nothing more: keep it out of the tree.
    if (free[r]! > 0) {
      byFree[free[r]!]!.push(r);
      add(free[r]!, 1);
    }
  }
  return rows;
}

/** Non-pad share of a packing: the items' tokens over `rows × capacity` (1 for no rows). */
export function packingEfficiency(lengths: ArrayLike<number>, rows: Packing, capacity: number): number {
  if (rows.length === 0) return 1;
  let used = 0;
  for (const r of rows) for (const i of r) used += lengths[i]!;
  return used / (rows.length * capacity);
}
