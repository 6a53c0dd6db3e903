/**
 * Project-written fixtures for engine tests: JSONL inputs with known content and a pipeline
 * (load → clean → count) whose filter threshold, speed and failure behaviour are parameters.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writePipeline } from './cli.ts';

const WORDS = ['river', 'stone', 'water', 'gate', 'flow', 'mill', 'bank', 'reed', 'lock', 'weir', 'pool', 'canal'];

/** Deterministic text for doc `i`: 1 to 40 words. */
export function fixtureText(i: number): string {
  const n = 1 + ((i * 7919) % 40);
  const w: string[] = [];
  for (let k = 0; k < n; k++) w.push(WORDS[(i * 31 + k * 17) % WORDS.length]!);
  return w.join(' ');
}

/** Writes `files` JSONL files of `perFile` docs under `<dir>/data/`, plus one malformed line in the first. */
export function writeInputs(dir: string, files = 4, perFile = 50): number {
  mkdirSync(join(dir, 'data'), { recursive: true });
  let id = 0;
  for (let f = 0; f < files; f++) {
    const lines: string[] = [];
    for (let i = 0; i < perFile; i++, id++) lines.push(JSON.stringify({ id: `doc-${String(id).padStart(5, '0')}`, text: fixtureText(id), url: `https://example.org/${id}` }));
    if (f === 0) lines.splice(3, 0, '{"id": "broken", "text": ');
    writeFileSync(join(dir, 'data', `part-${f}.jsonl`), lines.join('\n') + '\n');
  }
  return id;
}

export interface PipelineParams {
  workdir?: string;
  minWords?: number;
  /** Milliseconds to sleep per doc in the clean stage (to make runs killable mid-way). */
  delayMs?: number;
  /** Doc id whose processing throws. */
  failOn?: string;
}

/**
 * Source of a custom `count` stage for generated pipeline files: an artifact stage that counts
 * its input's docs and words into `count.json` and the manifest info.
 */
export const COUNT_STAGE = `const count = (input) => ({
  kind: 'custom', type: 'test.count', name: 'test.count', version: '1', config: {}, inputs: [input], output: 'artifact',
  async run(ctx) {
    let docs = 0, words = 0;
    for await (const b of ctx.inputs[0].readDocs()) for (const d of b) { docs++; words += d.text.split(' ').length; }
    await ctx.writeFile('count.json', JSON.stringify({ docs, words }) + '\\n', 1);
    ctx.setInfo({ docs, words });
  },
});
`;

/** Writes `pipeline.ts` (load → clean → count) into `dir` and returns its path. */
export function writeTestPipeline(dir: string, params: PipelineParams = {}, file = 'pipeline.ts'): string {
  const { workdir = 'runs/test', minWords = 5, delayMs = 0, failOn = '' } = params;
  return writePipeline(
    dir,
    file,
    `
${COUNT_STAGE}export default pipeline({ name: 'test', workdir: ${JSON.stringify(workdir)} }, (p) => {
  const raw = p.stage('load', read.jsonl('data/*.jsonl'));
  const clean = p.stage('clean', raw, [
    map('slow', async (d) => {
      if (${JSON.stringify(failOn)} && d.id === ${JSON.stringify(failOn)}) throw new Error('boom on ' + d.id);
      if (${delayMs}) await new Promise((r) => setTimeout(r, ${delayMs}));
      return { ...d, text: d.text.trim() };
    }, { delayMs: ${delayMs} }),
    filter.where('minWords', (d) => { const n = d.text.split(' ').length; return n >= ${minWords} ? { keep: true, score: n } : { drop: 'too-few-words', score: n }; }, { minWords: ${minWords} }),
  ]);
  p.stage('count', count(clean));
});
`,
  );
}

/**
 * sha256 of every file under `dir` (relative path → hash), skipping what differs between runs by
 * nature: `_logs/`, task timings (`_timing/`) and the dated reports (`audit.html`, `_report/`).
 */
export function treeHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        if (name !== '_logs' && name !== '_timing' && name !== '_report') walk(p);
      } else if (name !== 'audit.html') out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}
