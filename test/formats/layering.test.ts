import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The layering of the top-level folders (docs/formats.md): contracts that cross a stage boundary
 * live in formats/, which depends on nothing but itself (and engine/types.ts, types only); the
 * engine knows no operator, trainer or eval; operators never reach into evals, the trainer or the
 * planner; the trainer does not import the planner (the planner runs the trainer, not the reverse).
 */
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

type Import = { file: string; target: string; typeOnly: boolean };

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(REPO, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every relative import, re-export and dynamic import of a file, resolved to a repo path. */
export function importsOf(file: string, text = readFileSync(join(REPO, file), 'utf8')): Import[] {
  const out: Import[] = [];
  const re = /(?:^|[\s;])(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(re)) {
    const spec = m[3] ?? m[4]!;
    const target = relative(REPO, normalize(join(REPO, dirname(file), spec))).split(sep).join('/');
    out.push({ file, target, typeOnly: Boolean(m[2]) });
  }
  return out;
}

const top = (path: string) => path.split('/')[0]!;

/** Folder → folders it must not import. */
const FORBIDDEN: Record<string, string[]> = {
  engine: ['operators', 'trainer', 'evals', 'plan', 'datasets', 'audit', 'cli', 'pipelines', 'test'],
  operators: ['evals', 'trainer', 'plan', 'datasets', 'audit', 'cli', 'pipelines', 'test'],
  // (trainer/torch/gpu_data.ts, a bench script, takes its default input path from test/helpers/data.ts.)
  trainer: ['plan', 'datasets', 'audit', 'cli', 'pipelines'],
  evals: ['plan', 'datasets', 'audit', 'cli', 'pipelines', 'test'],
  plan: ['audit', 'cli', 'pipelines', 'test'],
};

function violations(files: string[]): string[] {
  const bad: string[] = [];
  for (const f of files) {
    const from = top(f);
    for (const i of importsOf(f)) {
      const to = top(i.target);
      if (from === 'formats') {
        if (to !== 'formats' && !(i.typeOnly && i.target === 'engine/types.ts')) bad.push(`${f} imports ${i.target}: formats/ imports only formats/ (and types from engine/types.ts)`);
      } else if (FORBIDDEN[from]?.includes(to)) bad.push(`${f} imports ${i.target}: ${from}/ must not import ${to}/`);
    }
  }
  return bad;
}

test('the import scanner sees static, type-only, re-exported and dynamic imports', () => {
  const text = `import { a } from './x.ts';\nimport type { B } from "../engine/types.ts";\nexport { c } from '../operators/y.ts';\nexport type * from './z.ts';\nconst m = await import('../evals/w.ts');\nimport {\n  d,\n  e,\n} from '../trainer/v.ts';\nimport 'node:fs';`;
  assert.deepEqual(importsOf('formats/f.ts', text), [
    { file: 'formats/f.ts', target: 'formats/x.ts', typeOnly: false },
    { file: 'formats/f.ts', target: 'engine/types.ts', typeOnly: true },
    { file: 'formats/f.ts', target: 'operators/y.ts', typeOnly: false },
    { file: 'formats/f.ts', target: 'formats/z.ts', typeOnly: true },
    { file: 'formats/f.ts', target: 'evals/w.ts', typeOnly: false },
    { file: 'formats/f.ts', target: 'trainer/v.ts', typeOnly: false },
  ]);
  assert.ok(importsOf('engine/runner.ts').length > 3, 'real files have imports');
});

test('layering: formats/ below everything, engine/ free of operators, trainer and evals, operators free of evals', () => {
  const files = ['formats', 'engine', 'operators', 'trainer', 'evals', 'plan'].flatMap(tsFiles);
  assert.ok(files.some((f) => f.startsWith('formats/')), 'formats/ exists');
  assert.deepEqual(violations(files), []);
});
