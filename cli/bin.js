#!/usr/bin/env node
// The `sluice` executable: registers tsx (so pipeline files and Sluice itself load as
// TypeScript, with no build step) and hands over to cli/main.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./main.ts');
process.exitCode = await main(process.argv.slice(2));
