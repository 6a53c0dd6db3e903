/**
 * The output layers of a supervised fastText model at prediction time (fastText 0.9.2 `Loss`
 * subclasses): softmax; one-vs-all and negative sampling (independent sigmoids, through
 * fastText's 512-entry sigmoid table); hierarchical softmax (a Huffman tree over the label counts,
 * searched depth-first with the same pruning as fastText, so `k` and `threshold` select the same
 * labels). Scores are `log(p + 1e-5)` in float32, exactly as fastText ranks them.
 */
import type { LossName } from './args.ts';
import type { Matrix } from './matrix.ts';

const fround = Math.fround;

/** fastText's `std_log`: `log(x + 1e-5)` rounded to float32. */
export function stdLog(x: number): number {
  return fround(Math.log(fround(x) + 1e-5));
}

/** A (score, label id) pair; score is `stdLog(p)`. */
export interface Scored {
  score: number;
  id: number;
}

/**
 * The k best (score, label) pairs, kept exactly as fastText keeps them: a heap under
 * `comparePairs` (greater score first) driven by libstdc++'s `push_heap`, `pop_heap` and
 * `sort_heap` algorithms, so labels of equal score (common with one-vs-all's sigmoid table)
 * come out in the order the `fasttext` CLI prints them.
 */
class TopK {
  readonly items: Scored[] = [];
  constructor(readonly k: number) {}
  full(): boolean {
    return this.items.length >= this.k;
  }
  /** The heap's front: the smallest kept score. */
  min(): number {
    return this.items[0]!.score;
  }
  private static pushHeap(a: Scored[], hole: number, top: number, v: Scored): void {
    let parent = (hole - 1) >> 1;
    while (hole > top && a[parent]!.score > v.score) {
      a[hole] = a[parent]!;
      hole = parent;
      parent = (hole - 1) >> 1;
    }
    a[hole] = v;
  }
  private static adjustHeap(a: Scored[], hole: number, len: number, v: Scored): void {
    const top = hole;
    let child = hole;
    while (child < (len - 1) >> 1) {
      child = 2 * (child + 1);
      if (a[child]!.score > a[child - 1]!.score) child--;
      a[hole] = a[child]!;
      hole = child;
    }
    if ((len & 1) === 0 && child === (len - 2) >> 1) {
      child = 2 * (child + 1);
      a[hole] = a[child - 1]!;
      hole = child - 1;
    }
    TopK.pushHeap(a, hole, top, v);
  }
  /** `pop_heap(a, a + len)`: moves the front to `a[len - 1]`. */
  private static popHeap(a: Scored[], len: number): void {
    if (len <= 1) return;
    const last = len - 1;
    const v = a[last]!;
    a[last] = a[0]!;
    TopK.adjustHeap(a, 0, last, v);
  }
  add(score: number, id: number): void {
    const a = this.items;
    a.push({ score, id });
    TopK.pushHeap(a, a.length - 1, 0, a[a.length - 1]!);
    if (a.length > this.k) {
      TopK.popHeap(a, a.length);
      a.pop();
    }
  }
  /** `sort_heap`: best first. */
  sorted(): Scored[] {
    const a = this.items;
    for (let len = a.length; len > 1; len--) TopK.popHeap(a, len);
    return a;
  }
}

/** Below `front × NEAR` (relative gap 2^-17), `log(p + 1e-5)` is smaller than the front's even after float32 rounding (ulp ≤ 2^-20 for |log| < 16). */
const NEAR = 1 - 2 ** -17;

const SIGMOID_TABLE_SIZE = 512;
const MAX_SIGMOID = 8;
const SIGMOID = new Float32Array(SIGMOID_TABLE_SIZE + 1);
for (let i = 0; i <= SIGMOID_TABLE_SIZE; i++) {
  const x = fround(fround((i * 2 * MAX_SIGMOID) / SIGMOID_TABLE_SIZE) - MAX_SIGMOID);
  SIGMOID[i] = 1 / (1 + Math.exp(-x));
}

/** fastText's table sigmoid (`Loss::sigmoid`). */
function tableSigmoid(x: number): number {
  if (x < -MAX_SIGMOID) return 0;
  if (x > MAX_SIGMOID) return 1;
  const i = Math.trunc(fround(fround(fround(fround(x + MAX_SIGMOID) * SIGMOID_TABLE_SIZE) / MAX_SIGMOID) / 2));
  return SIGMOID[i]!;
}

interface Node {
  parent: number;
  left: number;
  right: number;
  count: number;
  binary: boolean;
}

/** The prediction side of a fastText loss over an output matrix. */
export class OutputLayer {
  private readonly tree: Node[] = [];
  private readonly out: Float32Array;

  constructor(
    readonly loss: LossName,
    private readonly wo: Matrix,
    readonly nlabels: number,
    labelCounts: number[],
  ) {
    this.out = new Float32Array(nlabels);
    if (loss === 'hs') this.buildTree(labelCounts);
  }

  /** `HierarchicalSoftmaxLoss::buildTree`. */
  private buildTree(counts: number[]): void {
    const osz = this.nlabels;
    const t = this.tree;
    for (let i = 0; i < 2 * osz - 1; i++) t.push({ parent: -1, left: -1, right: -1, count: 1e15, binary: false });
    for (let i = 0; i < osz; i++) t[i]!.count = counts[i]!;
    let leaf = osz - 1;
    let node = osz;
    for (let i = osz; i < 2 * osz - 1; i++) {
      const mini = [0, 0];
      for (let j = 0; j < 2; j++) {
        if (leaf >= 0 && t[leaf]!.count < t[node]!.count) mini[j] = leaf--;
        else mini[j] = node++;
      }
      t[i]!.left = mini[0]!;
      t[i]!.right = mini[1]!;
      t[i]!.count = t[mini[0]!]!.count + t[mini[1]!]!.count;
      t[mini[0]!]!.parent = i;
      t[mini[1]!]!.parent = i;
      t[mini[1]!]!.binary = true;
    }
  }

  /** Per-label probabilities (softmax, ova, ns) into `this.out`. */
  private compute(hidden: Float32Array): Float32Array {
    const o = this.out;
    const n = this.nlabels;
    this.wo.mulVec(hidden, o);
    switch (this.loss) {
      case 'softmax': {
        let max = o[0]!;
        for (let i = 1; i < n; i++) if (o[i]! > max) max = o[i]!;
        let z = 0;
        for (let i = 0; i < n; i++) {
          o[i] = Math.exp(fround(o[i]! - max));
          z = fround(z + o[i]!);
        }
        for (let i = 0; i < n; i++) o[i] = o[i]! / z;
        return o;
      }
      case 'ova':
      case 'ns':
        for (let i = 0; i < n; i++) o[i] = tableSigmoid(o[i]!);
        return o;
      case 'hs':
        throw new Error('hierarchical softmax has no per-label output vector');
      default: {
        const never: never = this.loss;
        throw new Error(`unknown loss ${String(never)}`);
      }
    }
  }

  /** The k best labels with probability ≥ threshold, best first (fastText's `Loss::predict`). */
  predict(hidden: Float32Array, k: number, threshold: number): Scored[] {
    const top = new TopK(k);
    if (this.loss === 'hs') {
      this.dfs(top, threshold, 2 * this.nlabels - 2, 0, hidden);
      return top.sorted();
    }
    const o = this.compute(hidden);
    // fastText's findKBest. `log` is monotonic: a probability well below the front's (by more
    // than float32's rounding of the log can hide) is skipped without computing its log, which
    // was a tenth of the prediction time (measured); near-ties take the exact path.
    let frontP = -1;
    for (let i = 0; i < this.nlabels; i++) {
      const p = o[i]!;
      if (p < threshold) continue;
      if (top.full()) {
        if (p + 1e-5 < frontP * NEAR) continue;
        if (stdLog(p) < top.min()) continue;
      }
      top.add(stdLog(p), i);
      if (top.full()) frontP = Math.exp(top.min());
    }
    return top.sorted();
  }

  private dfs(top: TopK, threshold: number, node: number, score: number, hidden: Float32Array): void {
    if (score < stdLog(threshold)) return;
    if (top.full() && score < top.min()) return;
    const t = this.tree[node]!;
    if (t.left === -1 && t.right === -1) {
      top.add(score, node);
      return;
    }
    const f = fround(1 / fround(1 + fround(Math.exp(-this.wo.dotRow(hidden, node - this.nlabels)))));
    this.dfs(top, threshold, t.left, fround(score + stdLog(1 - f)), hidden);
    this.dfs(top, threshold, t.right, fround(score + stdLog(f)), hidden);
  }

  /** Every label's probability (for hs: the product of the branch probabilities on its path). */
  probabilities(hidden: Float32Array): Float32Array {
    if (this.loss !== 'hs') return this.compute(hidden).slice();
    const p = new Float32Array(this.nlabels);
    const branch = new Map<number, number>();
    for (let i = 0; i < this.nlabels; i++) {
      let prob = 1;
      for (let n = i; this.tree[n]!.parent !== -1; n = this.tree[n]!.parent) {
        const parent = this.tree[n]!.parent;
        let f = branch.get(parent);
        if (f === undefined) {
          f = 1 / (1 + Math.exp(-this.wo.dotRow(hidden, parent - this.nlabels)));
          branch.set(parent, f);
        }
        prob *= this.tree[n]!.binary ? f : 1 - f;
      }
      p[i] = prob;
    }
    return p;
  }
}
