/**
 * A module resolve hook, registered by `pipeline-imports.ts`, that keeps one copy of Sluice per
 * process. A pipeline may reach Sluice as `'sluice'` (package exports: dist/index.js, or index.ts
 * under `--conditions=sluice-source`) or by path (`/…/sluice/index.ts`, as the tests' generated
 * pipelines do). Whatever it resolves to, an import of one of Sluice's own modules in the other
 * form is sent to this copy's form: `<root>/x/y.ts` → `<root>/dist/x/y.js` when this process runs
 * compiled, and `<root>/dist/x/y.js` → `<root>/x/y.ts` when it runs from source. Files with no
 * counterpart (a pipeline under `<root>/pipelines/`, tests) resolve as they are. Compiled, only
 * the entry points have a dist/ file of their own (`index.ts` → `dist/index.js`; the rest is
 * bundled into `dist/chunks/`), so a pipeline reaches Sluice through `'sluice'` or `index.ts`.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** What `module.register` passes to `initialize`. */
export interface RedirectData {
  /** `file:` URL of the package root, with a trailing slash. */
  root: string;
  /** True when the process runs compiled (dist/); false from source. */
  compiled: boolean;
  /** True in npm test's compiled copy (dist-test/): the sources and dist/ map to dist-test/. */
  testBuild?: boolean;
}

type Resolved = { url: string; format?: string | null; shortCircuit?: boolean };
type NextResolve = (specifier: string, context?: unknown) => Promise<Resolved>;

let root = '';
let dist = '';
let testDist = '';
let compiled = true;
let testBuild = false;

/** Called once by `module.register` with its `data`. */
export function initialize(data: RedirectData): void {
  root = data.root;
  dist = `${data.root}dist/`;
  testDist = `${data.root}dist-test/`;
  compiled = data.compiled;
  testBuild = data.testBuild === true;
}

/** The other form of a resolved URL of one of Sluice's own files, if that file exists. */
function counterpart(url: string): string | undefined {
  if (!url.startsWith(root)) return undefined;
  let target: string | undefined;
  if (testBuild) {
    if (url.startsWith(testDist)) return undefined;
    if (url.startsWith(dist) && url.endsWith('.js')) target = `${testDist}${url.slice(dist.length)}`;
    else if (url.endsWith('.ts')) target = `${testDist}${url.slice(root.length, -3)}.js`;
  } else if (compiled && url.endsWith('.ts') && !url.startsWith(dist)) target = `${dist}${url.slice(root.length, -3)}.js`;
  else if (!compiled && url.startsWith(dist) && url.endsWith('.js')) target = `${root}${url.slice(dist.length, -3)}.ts`;
  return target && existsSync(fileURLToPath(target)) ? target : undefined;
}

/** The resolve hook. */
export async function resolve(specifier: string, context: unknown, next: NextResolve): Promise<Resolved> {
  const r = await next(specifier, context);
  const target = counterpart(r.url);
  return target ? next(target, context) : r;
}
