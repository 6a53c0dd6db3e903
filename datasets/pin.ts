/**
 * Maintainer tool: computes the sha256 and size of every file a registry entry names, from a
 * mirror laid out like `../shared/data`, and writes `datasets/pins.json`. Run it when adding an
 * entry whose upstream file sits in the mirror: `node --import tsx datasets/pin.ts ../shared/data`.
 * Each mirror file is a copy of the upstream file at the pinned commit its URL names.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const PINNED_DIRS = ['mc-eval/llm-foundry', 'mc-eval/piqa', 'mc-eval/mmlu/dev', 'mc-eval/mmlu/test', 'tinyshakespeare', 'wikitext2-tokens'];
const mirror = process.argv[2];
if (!mirror) throw new Error('usage: node --import tsx datasets/pin.ts <mirror root>');
const pins: Record<string, { sha256: string; bytes: number }> = {};
for (const d of PINNED_DIRS) {
  for (const f of readdirSync(join(mirror, d)).sort()) {
    const p = join(mirror, d, f);
    if (!statSync(p).isFile() || !/\.(jsonl|csv|lst|txt)$/.test(f)) continue;
    const buf = readFileSync(p);
    pins[relative(mirror, p)] = { sha256: createHash('sha256').update(buf).digest('hex'), bytes: buf.length };
  }
}
writeFileSync(new URL('./pins.json', import.meta.url), JSON.stringify(pins, null, 1) + '\n');
process.stderr.write(`pinned ${Object.keys(pins).length} files\n`);
