/**
 * Start-up benchmark: whole processes, wall clock, as a user sees them.
 *
 * - `sluice --help` against `node -e 0` (the floor: Node itself), 10 interleaved runs each.
 *   Goal: ≤ 0.25 s.
 * - `sluice tokenizer encode --vocab cl100k_base` of 18 MB (stdin → stdout, space-separated ids)
 *   against a small Node script that reads the same file, encodes it with gpt-tokenizer's cl100k
 *   and writes the same ids, 3 interleaved runs each after a warm-up. Goal: ≥ 1.5× gpt-tokenizer.
 *   The outputs are compared byte for byte.
 *
 * Input: tinyshakespeare + WikiText-2 test/valid (real English, ../shared/data), repeated to
 * 18,000,000 bytes.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ratio, type Bench, type BenchRow } from './harness.ts';
import { dataPath, REPO } from '../test/helpers/data.ts';

const BIN = join(REPO, 'cli', 'bin.js');
const INPUT_BYTES = 18_000_000;

// The peer: the same job in its own process, with gpt-tokenizer.
const GPT_SCRIPT = `
import { readFileSync, writeSync } from 'node:fs';
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
writeSync(1, encode(readFileSync(process.argv[1], 'utf8')).join(' ') + '\\n');
`;

/**
 * CPU seconds (user + system) of this process's waited-for children, from /proc/self/stat (Linux;
 * 10 ms ticks), or NaN elsewhere. On a machine shared with other jobs, wall time measures the load
 * as well; CPU time measures the process.
 */
function childCpu(): number {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8').slice(readFileSync('/proc/self/stat', 'utf8').lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return NaN;
  }
}

/** CPU seconds of the last `wall` run. */
let lastCpu = NaN;

/** Wall seconds of one process run; throws when it fails. */
function wall(args: string[], stdin: number | 'ignore' = 'ignore', stdout: number | 'ignore' = 'ignore'): number {
  const c0 = childCpu();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: REPO, stdio: [stdin, stdout, 'pipe'] });
  const s = (performance.now() - t0) / 1000;
  lastCpu = childCpu() - c0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return s;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Runs each job `runs` times, interleaved (so load changes hit both), after one warm-up each; median wall and CPU seconds. */
function interleaved(jobs: Array<() => number>, runs: number): Array<{ wall: number; cpu: number }> {
  for (const j of jobs) j();
  const walls = jobs.map(() => [] as number[]);
  const cpus = jobs.map(() => [] as number[]);
  for (let i = 0; i < runs; i++)
    jobs.forEach((j, k) => {
      walls[k]!.push(j());
      cpus[k]!.push(lastCpu);
    });
  return jobs.map((_, k) => ({ wall: median(walls[k]!), cpu: median(cpus[k]!) }));
}

const cpuNote = (cpu: number) => (Number.isNaN(cpu) ? '' : `CPU ${cpu.toFixed(2)} s`);

function input(dir: string): string {
  const text = ['tinyshakespeare/input.txt', 'wikitext2-tokens/test.txt', 'wikitext2-tokens/valid.txt'].map((f) => readFileSync(dataPath(f))).reduce((a, b) => Buffer.concat([a, Buffer.from('\n'), b]));
  const out = Buffer.alloc(INPUT_BYTES);
  for (let o = 0; o < INPUT_BYTES; o += text.length) text.copy(out, o, 0, Math.min(text.length, INPUT_BYTES - o));
  // Cut at a character boundary: the last newline.
  const file = join(dir, 'input.txt');
  writeFileSync(file, out.subarray(0, out.lastIndexOf(10) + 1));
  return file;
}

const bench: Bench = {
  id: 'startup',
  async run() {
    const rows: BenchRow[] = [];
    const [help, bare] = interleaved([() => wall([BIN, '--help']), () => wall(['-e', '0'])], 10) as [{ wall: number; cpu: number }, { wall: number; cpu: number }];
    rows.push({ name: '`sluice --help`', value: help.wall, unit: 's', ratio: `${(help.wall / bare.wall).toFixed(2)}× node -e 0`, note: `goal ≤ 0.25 s: ${help.wall <= 0.25 ? 'met' : 'not met'}; +${(help.wall - bare.wall).toFixed(2)} s over node -e 0; ${cpuNote(help.cpu)}` });
    rows.push({ name: '`node -e 0` (floor)', value: bare.wall, unit: 's', note: cpuNote(bare.cpu) });

    const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-startup-'));
    try {
      const file = input(dir);
      const mb = readFileSync(file).length / 1e6;
      const outFile = (name: string) => join(dir, name);
      const run = (name: string, args: string[], fromStdin: boolean) => () => {
        const inFd = fromStdin ? openSync(file, 'r') : 'ignore';
        const outFd = openSync(outFile(name), 'w');
        try {
          return wall(args, inFd, outFd);
        } finally {
          if (typeof inFd === 'number') closeSync(inFd);
          closeSync(outFd);
        }
      };
      const [ours, peer] = interleaved([run('sluice.txt', [BIN, 'tokenizer', 'encode', '--vocab', 'cl100k_base'], true), run('gpt.txt', ['--input-type=module', '-e', GPT_SCRIPT, file], false)], 3) as [{ wall: number; cpu: number }, { wall: number; cpu: number }];
      const same = readFileSync(outFile('sluice.txt')).equals(readFileSync(outFile('gpt.txt')));
      const x = peer.wall / ours.wall;
      const cpuRatio = Number.isNaN(ours.cpu) ? '' : `; by CPU ${(peer.cpu / ours.cpu).toFixed(2)}×`;
      rows.push({ name: `\`sluice tokenizer encode --vocab cl100k_base\`, ${mb.toFixed(0)} MB, whole process`, value: ours.wall, unit: 's', ratio: ratio(peer.wall, ours.wall, 'gpt-tokenizer'), note: `goal ≥ 1.5×: ${x >= 1.5 ? 'met' : 'not met'}${cpuRatio}; ${cpuNote(ours.cpu)}; same ids: ${same}` });
      rows.push({ name: 'gpt-tokenizer cl100k, same file, own process (peer)', value: peer.wall, unit: 's', note: cpuNote(peer.cpu) });
      if (!same) throw new Error('sluice tokenizer encode and gpt-tokenizer wrote different ids');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return {
      title: 'Start-up: whole `sluice` processes',
      rows,
      notes:
        'Wall clock (and CPU, user + system, from /proc) of whole processes, medians of interleaved runs after a warm-up (10 for `--help`, 3 for encode). `sluice` runs the JavaScript compiled into dist/ (`npm install` builds it); before, every process loaded TypeScript through tsx (issue 14: 1.64 s for `--help`, encode of 18 MB 0.6× gpt-tokenizer). On a machine shared with other jobs (load above the core count), wall times include waiting for a core: the floor `node -e 0` shows how much, and the CPU figures do not depend on it. Encode input: tinyshakespeare + WikiText-2 test/valid repeated to 18 MB, stdin to a file; the peer reads the same file and writes the same space-separated ids. Ratio > 1 means Sluice is faster.',
    };
  },
};

export default bench;
