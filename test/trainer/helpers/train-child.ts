/** Runs trainModel with the JSON options in argv[2] (a child the kill/resume tests can SIGKILL). */
import { readFileSync } from 'node:fs';
import { trainModel } from '../../../trainer/api.ts';

const opts = JSON.parse(readFileSync(process.argv[2]!, 'utf8'));
const r = await trainModel(opts);
process.stdout.write(JSON.stringify({ done: r.steps, resumedFromStep: r.resumedFromStep }) + '\n');
