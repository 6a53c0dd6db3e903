/**
 * The MinHash inner loop as a hand-assembled WebAssembly SIMD function: 8 hash functions per
 * step (two i32x4 vectors) over every shingle hash, computing exactly what `signatureOf` in
 * JavaScript computes (`v = (x ^ b) · a mod 2^32; v ^= v >>> 16; min_u`), 3–4× faster. The
 * module is 200 bytes, built here from its opcodes so the repo carries no opaque binary; when
 * WebAssembly SIMD is unavailable `loadSimdKernel` returns null and the JavaScript loop is used.
 *
 * Exported function `s(n, kPadded, xsPtr, aPtr, bPtr, outPtr)`: for i in 0..kPadded step 8,
 * out[i..i+8) = min over j < n of h(xs[j]) with lane constants a[i..i+8), b[i..i+8).
 */

const I32 = 0x7f;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

// Local indices: params then locals.
const N = 0, K = 1, XS = 2, AP = 3, BP = 4, OP = 5;
const I = 6, T = 7, P = 8, END = 9;
const A0 = 10, A1 = 11, B0 = 12, B1 = 13, M0 = 14, M1 = 15, X = 16, V = 17;

const get = (l: number) => [0x20, l];
const set = (l: number) => [0x21, l];
const tee = (l: number) => [0x22, l];
const i32c = (v: number) => [0x41, ...uleb(v)]; // small non-negative constants only (< 64)
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const load = (offset: number) => simd(0x00, 4, ...uleb(offset));
const store = (offset: number) => simd(0x0b, 4, ...uleb(offset));
const load32Splat = () => simd(0x09, 2, 0);
const XOR = simd(0x51);
const MUL = simd(0xb5);
const SHR_U = simd(0xad);
const MIN_U = simd(0xb7);
const ONES = simd(0x0c, ...new Array(16).fill(0xff));
const I32_ADD = [0x6a];
const I32_SHL = [0x74];
const I32_GE_U = [0x4f];

/** `ptr + i*4` onto the stack. */
const addr = (ptr: number) => [...get(ptr), ...get(I), ...i32c(2), ...I32_SHL, ...I32_ADD];
/** m = min_u(m, ((x ^ b) * a) ^ (that >>> 16)). */
const lane = (a: number, b: number, m: number) => [
  ...get(X), ...get(b), ...XOR, ...get(a), ...MUL, ...tee(V), ...get(V), ...i32c(16), ...SHR_U, ...XOR,
  ...get(m), ...MIN_U, ...set(m),
];

function body(): number[] {
  const code = [
    ...get(XS), ...get(N), ...i32c(2), ...I32_SHL, ...I32_ADD, ...set(END),
    0x02, 0x40, // block (outer)
    0x03, 0x40, // loop over i
    ...get(I), ...get(K), ...I32_GE_U, 0x0d, 1,
    ...addr(AP), ...tee(T), ...load(0), ...set(A0), ...get(T), ...load(16), ...set(A1),
    ...addr(BP), ...tee(T), ...load(0), ...set(B0), ...get(T), ...load(16), ...set(B1),
    ...ONES, ...tee(M0), ...set(M1),
    ...get(XS), ...set(P),
    0x02, 0x40, // block (inner)
    0x03, 0x40, // loop over shingles
    ...get(P), ...get(END), ...I32_GE_U, 0x0d, 1,
    ...get(P), ...load32Splat(), ...set(X),
    ...lane(A0, B0, M0),
    ...lane(A1, B1, M1),
    ...get(P), ...i32c(4), ...I32_ADD, ...set(P),
    0x0c, 0, // br loop
    0x0b, 0x0b, // end loop, end block
    ...addr(OP), ...tee(T), ...get(M0), ...store(0), ...get(T), ...get(M1), ...store(16),
    ...get(I), ...i32c(8), ...I32_ADD, ...set(I),
    0x0c, 0,
    0x0b, 0x0b,
    0x0b, // end function
  ];
  const locals = [2, 4, I32, 8, V128];
  const fn = [...locals, ...code];
  return [...uleb(fn.length), ...fn];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const type = section(1, [1, 0x60, 6, I32, I32, I32, I32, I32, I32, 0]);
  const imports = section(2, [1, 1, 0x65, 1, 0x6d, 0x02, 0x00, 1]); // "e"."m": memory, min 1 page
  const funcs = section(3, [1, 0]);
  const exports = section(7, [1, 1, 0x73, 0x00, 0]); // "s" = func 0
  const code = section(10, [1, ...body()]);
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...type, ...imports, ...funcs, ...exports, ...code]);
}

/** A compiled kernel bound to its own memory. */
export interface SimdKernel {
  memory: WebAssembly.Memory;
  run(n: number, kPadded: number, xsPtr: number, aPtr: number, bPtr: number, outPtr: number): void;
}

let compiled: WebAssembly.Module | null | undefined;

/** Instantiates the kernel with a fresh memory, or returns null where WebAssembly SIMD is unsupported. */
export function loadSimdKernel(): SimdKernel | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(moduleBytes());
    } catch {
      compiled = null;
    }
  }
  if (!compiled) return null;
  const memory = new WebAssembly.Memory({ initial: 1 });
  const inst = new WebAssembly.Instance(compiled, { e: { m: memory } });
  const run = inst.exports.s as SimdKernel['run'];
  return { memory, run };
}
