/**
 * Loads a pipeline file (`.ts` or `.js`, default export from `pipeline()`). Errors name the file
 * and what is wrong with it.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stageSpecs, type Pipeline } from './pipeline.ts';
import { preparePipelineImport } from './modules/pipeline-imports.ts';
import { compiledPipelineUrl } from './modules/pipeline-compile.ts';

/**
 * Imports `file` and returns its default-exported pipeline. Unless `checkCaptures` is false (worker
 * processes, which receive the runner's fingerprints), every user function's captured values are
 * fingerprinted now, so one that cannot be hashed fails the load with an error naming it.
 */
export async function loadPipeline(file: string, opts: { checkCaptures?: boolean } = {}): Promise<Pipeline> {
  const abs = resolve(file);
  if (!existsSync(abs)) throw new Error(`pipeline file ${file} does not exist`);
  // A compiled process imports a plain TypeScript pipeline compiled and cached, without tsx.
  let url = await compiledPipelineUrl(abs);
  if (url === undefined) {
    await preparePipelineImport(abs);
    url = pathToFileURL(abs).href;
  }
  let mod: { default?: unknown };
  try {
    mod = (await import(url)) as { default?: unknown };
  } catch (e) {
    const err = e as Error;
    throw new Error(`failed to load pipeline ${file}: ${err.message}`, { cause: e });
  }
  const p = mod.default as Pipeline | undefined;
  if (!p || p.kind !== 'pipeline') {
    throw new Error(`pipeline file ${file}: the default export must be pipeline({...}, (p) => …) (got ${p === undefined ? 'no default export' : typeof p})`);
  }
  if (opts.checkCaptures !== false && p.stages.some((s) => stageSpecs(s).some((o) => o.functions))) {
    const { checkCaptures } = await import('./captures.ts');
    try {
      checkCaptures(p);
    } catch (e) {
      throw new Error(`pipeline ${file}: ${(e as Error).message}`, { cause: e });
    }
  }
  return p;
}
