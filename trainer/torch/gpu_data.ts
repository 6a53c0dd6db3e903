/**
 * Prepares the data of the GPU measurement (trainer/torch/gpu_bench.sh): tinyshakespeare encoded
 * with GPT-2's BPE (the `tiktoken` package's bundled ranks, so no network is needed) into `.bin`
 * shards, 90% train and 10% validation, in a folder that travels to the GPU machine.
 *
 *   node --import tsx trainer/torch/gpu_data.ts [input.txt] [outDir]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { get_encoding } from 'tiktoken';
import { encodeBin } from '../../formats/bin.ts';
import { dataPath } from '../../test/helpers/data.ts';

const input = process.argv[2] ?? dataPath('tinyshakespeare', 'input.txt');
const outDir = process.argv[3] ?? '.gpu';
const enc = get_encoding('gpt2');
const tokens = Array.from(enc.encode(readFileSync(input, 'utf8')));
enc.free();
const cut = Math.floor(tokens.length * 0.9);
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'train.bin'), encodeBin(tokens.slice(0, cut), 2));
writeFileSync(join(outDir, 'val.bin'), encodeBin(tokens.slice(cut), 2));
console.log(JSON.stringify({ input, tokens: tokens.length, train: cut, val: tokens.length - cut, outDir }));
