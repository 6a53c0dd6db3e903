/**
 * The benchmark contract. Each `bench/<name>.bench.ts` default-exports a `Bench`; `npm run bench`
 * (bench/run.ts) runs them all (or those named: `npm run bench -- warc bpe`) and rewrites its
 * section of `bench/RESULTS.md`. Figures are medians of at least 3 runs, and peers run in the same
 * process, side by side, so ratios hold even on a busy machine.
 */
import { readFileSync } from 'node:fs';

export interface BenchRow {
  /** What was measured, e.g. `sluice read.warc` or `node zlib gunzip (peer)`. */
  name: string;
  /** The median figure. */
  value: number;
  /** Its unit, e.g. `MB/s`, `docs/s`, `tokens/s`, `s`, `MiB`. */
  unit: string;
  /** Ratio against the named baseline, e.g. `0.82× zlib`. */
  ratio?: string;
  note?: string;
}

export interface BenchResult {
  /** Markdown section title. */
  title: string;
  rows: BenchRow[];
  /** Extra Markdown (method, input sizes, goal and whether it was met). */
  notes?: string;
}

export interface Bench {
  /** Short id used on the command line (`npm run bench -- <id>`). */
  id: string;
  run(): Promise<BenchResult>;
}

/** Runs `fn` `runs` times (after one warm-up unless `warmup: false`) and returns the median seconds. */
export async function medianSeconds(fn: () => Promise<unknown> | unknown, runs = 3, warmup = true): Promise<number> {
  if (warmup) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/**
 * Median CPU seconds (user + system) of `fn` over 3 runs after a warm-up: on a machine shared
 * with other jobs, wall time measures the load; CPU time measures the code.
 */
export function medianCpuSeconds(fn: () => void): number {
  fn();
  const xs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    xs.push((c.user + c.system) / 1e6);
  }
  return xs.sort((a, b) => a - b)[1]!;
}

/** Formats `a / b` as a ratio string like `0.82× zlib`. */
export function ratio(a: number, b: number, peer: string): string {
  return `${(a / b).toFixed(2)}× ${peer}`;
}

/**
 * This process's peak resident set size in bytes: `VmHWM` of /proc/self/status on Linux, else
 * `process.resourceUsage().maxRSS`. Bench children measure with this because Linux keeps
 * `ru_maxrss` across `execve`: a child spawned by a bench process that held ~170 MB reported that
 * as its own peak (the 10 MB and 100 MB growth rows of bench/subdoc.bench.ts both read 124–126
 * MiB above base, where the child alone peaks at 39–71 MiB).
 */
export function peakRss(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}
