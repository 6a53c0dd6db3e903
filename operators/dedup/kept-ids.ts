/**
 * The ids of the documents that kept a unit first, for the exact streaming paragraph dedup's
 * audit (`keptId`): each id's JSON text as UTF-8 in one growing byte arena, indexed by the order
 * the documents were kept. Against a JS string per id this costs the id's bytes plus 4 (no
 * ~32-byte string header and array slot), the budget counts exactly what is allocated, and an id
 * goes into a span's details as a byte copy (`JsonBytes.raw`), with no string to encode per span.
 */
import type { JsonBytes } from './json-bytes.ts';

const encoder = new TextEncoder();

/** Kept documents' ids as JSON bytes (see the module comment); `add` after checking `growth`. */
export class KeptIds {
  private arena = new Uint8Array(64);
  /** End offset in `arena` of id k (its start is the end of id k - 1, or 0). */
  private ends = new Int32Array(16);
  private used = 0;
  /** Ids added. */
  count = 0;

  /** Bytes allocated for the arena and its offsets. */
  get bytes(): number {
    return this.arena.length + 4 * this.ends.length;
  }

  /** The arena's length after adding an id of `len` bytes: doubled (at least) when it does not fit. */
  private arenaFor(len: number): number {
    return this.used + len > this.arena.length ? Math.max(2 * this.arena.length, this.used + len) : this.arena.length;
  }

  /** The offsets' length after adding an id: doubled when full. */
  private endsFor(): number {
    return this.count === this.ends.length ? 2 * this.ends.length : this.ends.length;
  }

  /** How many more bytes `add` would allocate for an id of `len` JSON bytes (0 when it fits). */
  growth(len: number): number {
    return this.arenaFor(len) - this.arena.length + 4 * (this.endsFor() - this.ends.length);
  }

  /** Adds an id given as its JSON text whose UTF-8 length is `len`; returns its index. */
  add(json: string, len: number): number {
    const arena = this.arenaFor(len);
    if (arena !== this.arena.length) {
      const next = new Uint8Array(arena);
      next.set(this.arena.subarray(0, this.used));
      this.arena = next;
    }
    const ends = this.endsFor();
    if (ends !== this.ends.length) {
      const next = new Int32Array(ends);
      next.set(this.ends);
      this.ends = next;
    }
    const written = encoder.encodeInto(json, this.arena.subarray(this.used)).written;
    if (written !== len) throw new Error(`KeptIds.add: ${json.slice(0, 80)} is ${written} UTF-8 bytes, not ${len}`);
    this.used += len;
    this.ends[this.count] = this.used;
    return this.count++;
  }

  /** Appends id `k`'s JSON bytes to `out`. */
  write(k: number, out: JsonBytes): void {
    if (k < 0 || k >= this.count) throw new Error(`KeptIds.write: no id ${k} (${this.count} kept)`);
    out.range(this.arena, k ? this.ends[k - 1]! : 0, this.ends[k]!);
  }
}
