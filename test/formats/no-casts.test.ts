import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * No `as unknown as` outside tests (issue 14): a stage's info is typed through `CustomStage<Info>`
 * / `StageRef<Info>` / `Dataset<Info>`, a config or result becomes `Json` by value (`toJson`,
 * engine/json.ts), and JSON read back is checked by a guard or parser (docs/formats.md). A double
 * cast switches the type checker off at exactly the stage boundaries those contracts protect, so
 * this test fails on any, naming the file and line.
 */
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Folders that hold no project source: tests, dependencies, build output, run output. */
const SKIP = new Set(['node_modules', 'test', 'dist', 'runs', 'tmp', 'bench/out']);

function sourceFiles(dir = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(REPO, dir), { withFileTypes: true })) {
    const p = dir ? `${dir}/${e.name}` : e.name;
    if (e.name.startsWith('.') || SKIP.has(p)) continue;
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (e.isFile() && /\.(ts|mts|cts|tsx)$/.test(e.name)) out.push(p);
  }
  return out;
}

/** `file:line: text` of every `as unknown as` in a file's text (across line breaks too). */
export function doubleCasts(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\bas\s+unknown\s+as\b/g)) {
    const line = text.slice(0, m.index).split('\n').length;
    out.push(`${file}:${line}: ${text.split('\n')[line - 1]!.trim()}`);
  }
  return out;
}

test('the scanner finds a double cast, also one split over lines, and nothing else', () => {
  assert.deepEqual(doubleCasts('a.ts', 'const x = y as unknown as Json;'), ['a.ts:1: const x = y as unknown as Json;']);
  assert.deepEqual(doubleCasts('a.ts', 'const a = 1;\nconst x = (y as\n  unknown as Json);'), ['a.ts:2: const x = (y as']);
  assert.deepEqual(doubleCasts('a.ts', 'const x = y as Json; const known = z as unknownThing;'), []);
});

test("no 'as unknown as' outside test/", () => {
  const files = sourceFiles();
  assert.ok(files.includes('engine/runner.ts') && files.includes('index.ts'), 'the scan sees the source tree');
  assert.ok(!files.some((f) => f.startsWith('test/') || f.startsWith('node_modules/')), 'tests and dependencies are not scanned');
  assert.deepEqual(files.flatMap((f) => doubleCasts(f, readFileSync(join(REPO, f), 'utf8'))), []);
});
