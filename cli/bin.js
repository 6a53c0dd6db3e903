#!/usr/bin/env node
// The `sluice` executable. It runs the CLI compiled into dist/: plain JavaScript, so a process
// starts without a TypeScript loader (tsx is registered later, only to import a .ts pipeline).
// When a source file is newer than dist/ (an edit in a checkout), it rebuilds first, so an edit
// takes effect without a build step and old code never runs; a rebuild that fails is an error.
import { build, staleReason } from '../scripts/build.js';

const stale = staleReason();
if (stale) {
  const t0 = performance.now();
  try {
    await build();
  } catch (e) {
    process.stderr.write(`sluice: dist/ is out of date (${stale}) and rebuilding it failed: ${e instanceof Error ? e.message : e}\nRun \`npm run build\` in the Sluice folder.\n`);
    process.exit(1);
  }
  if (process.stderr.isTTY) process.stderr.write(`sluice: ${stale}; rebuilt dist/ in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
