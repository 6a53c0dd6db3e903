/**
 * Where the shared real data lives (`<repo>/../shared/data`, read-only) and how a test skips,
 * visibly, when it is absent: `test('x', { skip: needData('mc-eval') }, …)`.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** `<repo>/../shared/data`, or `SLUICE_SHARED_DATA` when set. */
export const SHARED_DATA = process.env.SLUICE_SHARED_DATA ?? join(REPO, '..', 'shared', 'data');

/** Path of a file or folder under the shared data. */
export function dataPath(...parts: string[]): string {
  return join(SHARED_DATA, ...parts);
}

/** `false` when the shared data path exists, else the skip message node:test prints. */
export function needData(...parts: string[]): false | string {
  const p = dataPath(...parts);
  return existsSync(p) ? false : `skipped: shared data ${p} is absent`;
}
