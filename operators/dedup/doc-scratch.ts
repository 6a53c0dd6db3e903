/**
 * One task's per-document unit arrays for the streaming paragraph dedups (the exact stream
 * strategy and the Bloom mode): each document's units and their hashes, and the units found
 * repeated (index, span, keeper, first 64 hash bits for the audit's group id), reused across
 * documents and grown as needed, so no array is made per document.
 */
import { CodeUnits, newUnits, splitUnits, type UnitKind, type Units } from './units.ts';

/** Per-document unit arrays (see the module comment); `split` a document, then `repeat` its repeated units. */
export class DocScratch {
  private cap = 64;
  /** The last split document's units. */
  units: Units = newUnits();
  private readonly codes = new CodeUnits();
  /** Unit i's hash in words `[4i, 4i + 4)`; `hi` is the same memory as Int32. */
  hs = new Uint32Array(4 * 64);
  hi = new Int32Array(this.hs.buffer);
  /** Per repeat r: the unit index, its removed span, its keeper (caller's meaning), its first two hash words. */
  rUnit = new Int32Array(64);
  rStart = new Int32Array(64);
  rEnd = new Int32Array(64);
  rKeeper = new Int32Array(64);
  rH0 = new Uint32Array(64);
  rH1 = new Uint32Array(64);

  private ensure(n: number): void {
    if (n <= this.cap) return;
    const cap = (this.cap = Math.max(n, this.cap * 2));
    this.hs = new Uint32Array(4 * cap);
    this.hi = new Int32Array(this.hs.buffer);
    [this.rUnit, this.rStart, this.rEnd, this.rKeeper] = [new Int32Array(cap), new Int32Array(cap), new Int32Array(cap), new Int32Array(cap)];
    [this.rH0, this.rH1] = [new Uint32Array(cap), new Uint32Array(cap)];
  }

  /** Records unit `i` of the split document as its `r`-th repeat, kept by `keeper`. */
  repeat(r: number, i: number, keeper: number): void {
    this.rUnit[r] = i;
    this.rStart[r] = this.units.start[i]!;
    this.rEnd[r] = this.units.end[i]!;
    this.rKeeper[r] = keeper;
    this.rH0[r] = this.hs[4 * i]!;
    this.rH1[r] = this.hs[4 * i + 1]!;
  }

  /** Splits `text` into `unit`s (those shorter than `minChars` left out) and hashes each; returns the unit count. */
  split(text: string, unit: UnitKind, minChars: number): number {
    const u = splitUnits(text, unit, minChars, this.units);
    this.units = u;
    this.ensure(u.count);
    if (u.count) this.codes.load(text);
    for (let i = 0; i < u.count; i++) this.codes.hash(u.keyStart[i]!, u.keyEnd[i]!, this.hs, 4 * i);
    return u.count;
  }
}
