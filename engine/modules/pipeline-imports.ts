/**
 * Prepares a process to import a pipeline file. The compiled `sluice` (dist/) does not load tsx at
 * start-up (it cost 0.45 s of a 0.55 s `sluice --help`): it registers tsx here, only when a
 * TypeScript pipeline is about to load. Both forms register `redirect-hook.ts`, so that however
 * the pipeline names Sluice, it gets the copy this process already runs (one operator registry,
 * working `instanceof`; `single-copy.ts` fails fast otherwise). npm test's compiled copy
 * (dist-test/, TEST_BUILD) starts without tsx too, and registers it like the compiled `sluice`.
 */
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { COMPILED, PACKAGE_ROOT, TEST_BUILD, ownEntry } from './package-root.ts';
import type { RedirectData } from './redirect-hook.ts';

let tsx = false;
let redirect = false;

/** A file tsx must load: `.ts`, `.mts`, `.cts`, `.tsx`. */
export function isTypeScript(file: string): boolean {
  return /\.[cm]?tsx?$/.test(file);
}

/**
 * Registers what importing `file` needs and this process lacks: tsx for a TypeScript file in a
 * compiled process (a process running the sources already has it), then the redirect hook.
 */
export async function preparePipelineImport(file: string): Promise<void> {
  // Compiled processes and npm test's compiled copy start without tsx.
  const plainJs = COMPILED || TEST_BUILD;
  if (plainJs && !tsx && !redirect) {
    // Load Sluice's API (what the pipeline imports) before any hook is registered: with hooks on,
    // every module load goes through them; importing the API took 0.92 s CPU under tsx's hooks
    // against 0.49 s without. The pipeline's own import then finds it loaded.
    await import(pathToFileURL(ownEntry('index')).href);
  }
  if (plainJs && !tsx && isTypeScript(file)) {
    const api = await import('tsx/esm/api');
    api.register();
    tsx = true;
  }
  if (!redirect) {
    const data: RedirectData = { root: pathToFileURL(PACKAGE_ROOT).href.replace(/\/?$/, '/'), compiled: COMPILED, testBuild: TEST_BUILD };
    register(pathToFileURL(ownEntry('engine/modules/redirect-hook')), { data });
    redirect = true;
  }
}
