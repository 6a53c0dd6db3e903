/** Runs `sluice <args>` in-process (the CLI's `main`), capturing stdout and stderr: no process start (~3 s of CPU each). */
import { main } from '../../cli/main.ts';

/** Runs the CLI in-process with `cwd` as the working directory; restores the streams and cwd. */
export async function runMain(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const w1 = process.stdout.write;
  const w2 = process.stderr.write;
  const prev = process.cwd();
  // Commands write strings; node:test's reporter protocol writes bytes to stdout: pass those through.
  process.stdout.write = ((c: string | Uint8Array, ...rest: unknown[]) => (typeof c === 'string' ? (out.push(c), true) : (w1 as (...a: unknown[]) => boolean).call(process.stdout, c, ...rest))) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array, ...rest: unknown[]) => (typeof c === 'string' ? (err.push(c), true) : (w2 as (...a: unknown[]) => boolean).call(process.stderr, c, ...rest))) as typeof process.stderr.write;
  process.chdir(cwd);
  try {
    const code = await main(args);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
    process.chdir(prev);
  }
}
