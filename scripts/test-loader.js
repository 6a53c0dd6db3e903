/**
 * The test runner's module loader: `npm test` starts every test file with `--import` of this file
 * instead of `--import tsx`. It loads the plain-JavaScript packages that nearly every test
 * reaches through Sluice's API, then registers tsx exactly as `--import tsx` does (the same
 * module), so TypeScript still loads through tsx.
 *
 * Why: once tsx's hooks are registered, every module load goes through them, a message to the
 * hooks thread and back, also for the hundreds of files inside these packages (apache-arrow: 154
 * files, zod: 99). Loaded first, they are in the module map when the tests import them, and the
 * hooks see one resolve per import instead of a resolve and a load per file. Measured on the
 * 2-core machine: importing index.ts from source, 1.27 s of CPU with `--import tsx`, 1.03 s with
 * this file; a test run starts about 140 such processes.
 */
await import('zod');
await import('apache-arrow');
await import('tsx');
