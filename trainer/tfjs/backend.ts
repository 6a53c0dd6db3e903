/**
 * Starts the tfjs backend the trainer asked for and fails loudly when it did not start:
 * `tf.setBackend('wasm')` returns false and silently leaves tfjs on `cpu` (about 18× slower on
 * the tiny GPT) when the WASM module cannot start, e.g. with threads forced on in Node.
 */
import type * as tfNs from '@tensorflow/tfjs';
import type { TfjsOptions } from '../api.ts';

export type Tf = typeof tfNs;

let active: string | null = null;

/** `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node` when the user installed one, else null. */
function nodeBindingPackage(): string | null {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      import.meta.resolve(pkg);
      return pkg;
    } catch {
      // not installed
    }
  }
  return null;
}

/** `tensorflow` when tfjs-node(-gpu) is installed (native, multi-threaded), else `wasm`. */
export function defaultBackend(): 'wasm' | 'tensorflow' {
  return nodeBindingPackage() ? 'tensorflow' : 'wasm';
}

/**
 * Activates `backend` (default `wasm`, SIMD, `threads` threads) and returns tfjs. Throws when the
 * backend is unavailable or tfjs ended up on another one. Idempotent for the same backend.
 */
export async function initTfjs(opts: TfjsOptions = {}): Promise<Tf> {
  // Imported here, not at module load: tfjs takes seconds to import, and every `sluice` command
  // loads the trainer's stage declaration.
  const tf: Tf = await import('@tensorflow/tfjs');
  const want = opts.backend ?? defaultBackend();
  const key = `${want}/${opts.threads ?? 1}`;
  if (active === key && tf.getBackend() === (want === 'tensorflow' ? 'tensorflow' : want)) return tf;
  switch (want) {
    case 'wasm': {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      const threads = opts.threads ?? 1;
      if (!Number.isInteger(threads) || threads < 1) throw new Error(`trainer: tfjs.threads must be a positive integer, got ${threads}`);
      if (!tf.engine().registryFactory['wasm']) throw new Error('trainer: @tensorflow/tfjs-backend-wasm did not register the wasm backend');
      // Can only be set before the backend initialises; later calls are ignored by tfjs.
      wasm.setThreadsCount(threads);
      break;
    }
    case 'cpu':
      break;
    case 'tensorflow':
      {
        // Optional: installed by the user (they download libtensorflow at install time).
        const pkg = nodeBindingPackage();
        if (!pkg) throw new Error(`trainer: tfjs backend 'tensorflow' needs @tensorflow/tfjs-node or @tensorflow/tfjs-node-gpu installed`);
        await import(pkg);
      }
      break;
    default: {
      const never: never = want;
      throw new Error(`trainer: unknown tfjs backend ${String(never)}`);
    }
  }
  const ok = await tf.setBackend(want);
  await tf.ready();
  if (!ok || tf.getBackend() !== want) {
    throw new Error(`trainer: tfjs backend '${want}' failed to start (setBackend returned ${ok}, tfjs is on '${tf.getBackend()}'); refusing to train silently on another backend`);
  }
  if (want === 'wasm' && !tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) {
    throw new Error('trainer: the wasm backend started without SIMD (about 4× slower); this Node lacks WASM SIMD');
  }
  active = key;
  return tf;
}

/**
 * Measured FLOP/s of a square float32 matmul (1024³, median of 3 after a warm-up) on the active
 * backend: the denominator of the tfjs backend's MFU.
 */
export function measureMatmulPeak(tf: Tf, n = 1024, reps = 3): number {
  const a = tf.randomUniform([n, n], -1, 1, 'float32', 1);
  const b = tf.randomUniform([n, n], -1, 1, 'float32', 2);
  const run = () => {
    const t0 = performance.now();
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
    return (performance.now() - t0) / 1000;
  };
  run();
  const times = Array.from({ length: reps }, run).sort((x, y) => x - y);
  a.dispose();
  b.dispose();
  return (2 * n ** 3) / times[Math.floor(reps / 2)]!;
}
