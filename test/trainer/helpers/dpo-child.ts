/** Runs trainDpo with the JSON options in argv[2], the pair set read from its `setDir` (a child the kill/resume tests can SIGKILL). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { trainDpo, type TrainDpoOptions } from '../../../trainer/dpo/api.ts';
import { decodePairSet, PAIR_FILES } from '../../../trainer/dpo/data.ts';

const o = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Omit<TrainDpoOptions, 'set'> & { setDir: string };
const set = decodePairSet({ header: readFileSync(join(o.setDir, PAIR_FILES.header)), tokens: readFileSync(join(o.setDir, PAIR_FILES.tokens)), mask: readFileSync(join(o.setDir, PAIR_FILES.mask)) }, o.setDir);
const r = await trainDpo({ ...o, set });
process.stdout.write(JSON.stringify({ done: r.steps, resumedFromStep: r.resumedFromStep }) + '\n');
