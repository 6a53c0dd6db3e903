/**
 * A small seeded PRNG (mulberry32) with normal draws (Box–Muller): weight initialisation that is
 * the same on every tfjs backend and machine, and whose state fits in a checkpoint.
 */
export class Rng {
  private s: number;
  private spare: number | null = null;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  uniform(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Standard normal. */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    const th = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }
  /** The full state, for a checkpoint. */
  get state(): { s: number; spare: number | null } {
    return { s: this.s, spare: this.spare };
  }
  set state(st: { s: number; spare: number | null }) {
    this.s = st.s >>> 0;
    this.spare = st.spare;
  }
}
