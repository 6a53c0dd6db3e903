/**
 * `npm run bench [-- id …]`: runs `bench/<id>.bench.ts` files (all, or those named) one after
 * another and rewrites their sections of `bench/RESULTS.md`, keeping the sections of benches not
 * run this time. The header records the machine, Node version and date of each section's run.
 */
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchResult } from './harness.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const RESULTS = join(HERE, 'RESULTS.md');

function machine(): string {
  const c = cpus();
  return `${c[0]?.model ?? 'unknown CPU'}, ${c.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

function render(id: string, r: BenchResult): string {
  const rows = r.rows.map((x) => `| ${x.name} | ${x.value >= 100 ? x.value.toFixed(0) : x.value.toPrecision(3)} ${x.unit} | ${x.ratio ?? ''} | ${x.note ?? ''} |`);
  return [
    `<!-- bench:${id} -->`,
    `## ${r.title}`,
    '',
    `_Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machine()}; \`npm run bench -- ${id}\`._`,
    '',
    '| measured | median | ratio | note |',
    '|---|---|---|---|',
    ...rows,
    '',
    r.notes ?? '',
    '',
  ].join('\n');
}

function sections(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = text.split(/(?=<!-- bench:)/);
  for (const p of parts) {
    const m = /^<!-- bench:([\w.-]+) -->/.exec(p);
    if (m) out.set(m[1]!, p.trimEnd() + '\n');
  }
  return out;
}

const wanted = process.argv.slice(2);
const files = readdirSync(HERE).filter((f) => f.endsWith('.bench.ts')).sort();
const existing = existsSync(RESULTS) ? sections(readFileSync(RESULTS, 'utf8')) : new Map<string, string>();
let failures = 0;
for (const f of files) {
  const mod = (await import(pathToFileURL(join(HERE, f)).href)) as { default: Bench };
  const b = mod.default;
  if (wanted.length && !wanted.includes(b.id)) continue;
  process.stderr.write(`bench ${b.id} …\n`);
  try {
    const r = await b.run();
    existing.set(b.id, render(b.id, r));
    for (const row of r.rows) process.stderr.write(`  ${row.name}: ${row.value.toPrecision(4)} ${row.unit} ${row.ratio ?? ''}\n`);
  } catch (e) {
    failures++;
    process.stderr.write(`bench ${b.id} failed: ${(e as Error).stack}\n`);
  }
  writeFileSync(
    RESULTS,
    `# Benchmark results\n\nWritten by \`npm run bench\` (bench/run.ts). Each figure is the median of at least 3 runs; peers run in the same process, side by side, and ratios compare them. Sections keep the date and machine of their own run.\n\n${[...existing.values()].join('\n')}`,
  );
}
process.exitCode = failures ? 1 : 0;
