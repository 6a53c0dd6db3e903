/**
 * A scaling sweep on Tiny Shakespeare, on one machine: paragraphs → BPE (512 ids) → token shards →
 * `scaling.sweep` over 3 model sizes × 3 token budgets → fitted L(C) and L(N, D) with bootstrap
 * intervals, `sweep.json` and `report.html`. Measured: 2.6 CPU-minutes (11 wall-minutes on a
 * 2-core machine shared with other jobs). Runs this short (49–196 steps) are far from converged:
 * the report's intervals and warnings say the law is not determined; scale `tokens` up for one
 * that is. Then:
 *
 *   sluice run pipelines/scaling-sweep.ts --workdir work
 *   sluice plan --params 10M --tokens 200M --fit work/sweep/<fingerprint>
 *
 * The text comes from `../shared/data/tinyshakespeare/input.txt` beside the repository, or the
 * file named by `SLUICE_SHAKESPEARE`.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline, scaling, shard, tokenize } from '../index.ts';
import type { CustomStage, Doc } from '../index.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const INPUT = resolve(process.env.SLUICE_SHAKESPEARE ?? join(HERE, '..', '..', 'shared', 'data', 'tinyshakespeare', 'input.txt'));

/** One document per paragraph (blank-line separated) of a plain-text file. */
const paragraphs: CustomStage = {
  kind: 'custom',
  type: 'example.paragraphs',
  name: 'example.paragraphs',
  version: '1',
  config: { input: INPUT },
  inputs: [],
  output: 'docs',
  async run(ctx) {
    const text = await readFile(INPUT, 'utf8');
    async function* docs(): AsyncIterable<Doc[]> {
      const parts = text.split(/\n\s*\n/).map((t) => t.trim()).filter(Boolean);
      for (let i = 0; i < parts.length; i += 1000) {
        yield parts.slice(i, i + 1000).map((t, k) => ({ id: `p${i + k}`, text: t, meta: { source: `${INPUT}#${i + k}` } }));
      }
    }
    await ctx.writeDocs('part-00000.parquet', docs());
  },
};

export default pipeline({ name: 'scaling-sweep', workdir: 'work' }, (p) => {
  const docs = p.stage('paragraphs', paragraphs);
  const bpe = p.stage('bpe', tokenize.trainBpe(docs, { vocabSize: 512 }));
  const encoded = p.stage('encoded', docs, [tokenize.encode({ tokenizer: bpe })]);
  const shards = p.stage('shards', encoded, shard.tokens({ tokenizer: bpe, seqLen: 64, valFraction: 0.05, seed: 1 }));
  p.stage('sweep', scaling.sweep(shards, {
    models: [
      { layers: 1, dModel: 32, heads: 2, contextLength: 64 },
      { layers: 2, dModel: 64, heads: 4, contextLength: 64 },
      { layers: 3, dModel: 96, heads: 4, contextLength: 64 },
    ],
    tokens: [25_000, 50_000, 100_000],
    train: { batchSize: 8, evalEvery: 1000, evalBatches: 8, optimizer: { lr: 3e-3 } },
    target: { params: 10e6, tokens: 200e6 },
  }));
});
