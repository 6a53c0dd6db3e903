import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempProject, writePipeline } from '../helpers/cli.ts';
import type { RunSummary } from '../../engine/runner.ts';
import { tokenizerFiles } from '../../operators/tokenize/load.ts';
import { writeInitCheckpoint } from './helpers/dpo.ts';

/** A byte-level tokenizer with ChatML's specials: 256 byte tokens, no merges. */
function byteTokenizerFiles(): Record<string, string> {
  return tokenizerFiles({
    name: 'bytes-chatml',
    tokens: Array.from({ length: 256 }, (_, i) => Uint8Array.of(i)),
    merges: [],
    specials: { '<|endoftext|>': 256, '<|im_start|>': 257, '<|im_end|>': 258 },
    pattern: 'gpt2',
    eot: '<|endoftext|>',
  });
}

const WORDS = ['red', 'blue', 'green', 'stone', 'river', 'bird'];

test('train.dpo stage: the reference log-probabilities are their own stage, reused when only beta changes; figures under the stage in run --json; drops audited', async () => {
  const dir = tempProject('sluice-dpo-stage-');
  const ck = join(dir, 'base');
  await writeInitCheckpoint(ck, 1, { vocabSize: 259, contextLength: 40, layers: 1, dModel: 32, heads: 2 });
  for (const [f, text] of Object.entries(byteTokenizerFiles())) writeFileSync(join(ck, f), text);
  const cfg = JSON.parse(readFileSync(join(ck, 'config.json'), 'utf8'));
  writeFileSync(join(ck, 'config.json'), JSON.stringify({ ...cfg, tokenizer: '.' }));
  const lines: string[] = [];
  for (let i = 0; i < 20; i++) {
    const w = WORDS[i % WORDS.length]!;
    lines.push(JSON.stringify({ id: `p${i}`, text: w, prompt: `say ${w}`, chosen: `${w} ${w}`, rejected: `no ${i}` }));
  }
  lines.push(JSON.stringify({ id: 'same', text: 'x', prompt: 'say x', chosen: 'x', rejected: 'x' }));
  writeFileSync(join(dir, 'pairs.jsonl'), lines.join('\n') + '\n');
  writePipeline(
    dir,
    'pipeline.ts',
    `import { train } from ${JSON.stringify(join(import.meta.dirname, '..', '..', 'index.ts'))};
export default pipeline({ name: 'dpo-test', workdir: 'runs' }, (p) => {
  const raw = p.stage('raw', read.jsonl('pairs.jsonl'));
  const prefs = p.stage('prefs', raw, [map('pref', (d) => ({ ...d, meta: { ...d.meta, preference: {
    prompt: [{ role: 'user', content: d.meta.prompt }], chosen: [{ role: 'assistant', content: d.meta.chosen }], rejected: [{ role: 'assistant', content: d.meta.rejected }] } } }))]);
  p.stage('dpo', train.dpo(prefs, { from: ${JSON.stringify(ck)}, template: 'chatml', beta: Number(process.env.DPO_BETA), steps: 3, batchSize: 4, heldout: 0.25, optimizer: { lr: 1e-3 }, evalEvery: 3 }));
});`,
  );
  const run = async (beta: number): Promise<RunSummary> => {
    const r = await runCli(['run', 'pipeline.ts', '--json'], { cwd: dir, env: { DPO_BETA: String(beta) } });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as RunSummary;
  };
  const first = await run(0.1);
  const status = (s: RunSummary) => Object.fromEntries(s.stages.map((x) => [x.stage, x.status]));
  assert.deepEqual(status(first), { raw: 'ran', prefs: 'ran', 'dpo.ref': 'ran', dpo: 'ran' });
  const info = (s: RunSummary) => s.stages.find((x) => x.stage === 'dpo')!.info!;
  assert.equal(info(first).reward_accuracy_before, 0.5, 'policy = reference: accuracy 0.5 by construction');
  assert.equal(typeof info(first).reward_accuracy_after, 'number');
  const refStage = first.stages.find((s) => s.stage === 'dpo.ref')!;
  const refManifest = JSON.parse(readFileSync(join(refStage.dir, 'manifest.json'), 'utf8'));
  assert.equal(refManifest.info.pairs, 20);
  assert.equal(refManifest.info.heldoutPairs, 5);
  assert.deepEqual(refManifest.stats.operators['train.dpo.ref'].drops, { 'dpo.sameTokens': 1 }, 'the pair whose two sides tokenize alike is dropped with a reason');
  const pairsMtime = statSync(join(refStage.dir, 'pairs.json')).mtimeMs;
  const dpoDir = first.stages.find((s) => s.stage === 'dpo')!.dir;
  assert.ok(readdirSync(dpoDir).includes('tokenizer.json'), 'the tokenizer travels with the checkpoint');
  assert.match(readFileSync(join(dpoDir, 'report.html'), 'utf8'), /aria-label="reward margin"/);

  const second = await run(0.3);
  assert.deepEqual(status(second), { raw: 'skipped', prefs: 'skipped', 'dpo.ref': 'skipped', dpo: 'ran' }, 'another beta re-runs DPO only');
  assert.equal(statSync(join(refStage.dir, 'pairs.json')).mtimeMs, pairsMtime, 'the reference log-probabilities were not recomputed');
  assert.notEqual(second.stages.find((s) => s.stage === 'dpo')!.dir, dpoDir);
  assert.equal(info(second).reward_accuracy_before, 0.5);
  assert.equal(info(second).beta, 0.3);
});
