import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempProject, writePipeline } from '../helpers/cli.ts';
import { REPO, dataPath, needData } from '../helpers/data.ts';
import type { RunSummary } from '../../engine/runner.ts';
import type { ContaminationReport } from '../../evals/contamination/report.ts';
import { evaluate } from '../../index.ts';

const ARC = dataPath('mc-eval/llm-foundry/arc_challenge.jsonl');
const MMLU_DEV = dataPath('mc-eval/mmlu/dev');

test('evaluate() declares a barrier stage over the model, the scanned data and the held-out shards', () => {
  const ref = (name: string) => ({ kind: 'stage' as const, name, pipeline: 'p' });
  const st = evaluate(ref('model'), { benchmarks: [{ path: 'test/evals/stage.test.ts', format: 'mc' }], contamination: { against: [ref('clean'), ref('dedup')], ngram: 8 }, heldOut: ref('shards') });
  assert.equal(st.kind, 'custom');
  assert.deepEqual(st.inputs.map((r) => r.name), ['model', 'clean', 'dedup', 'shards']);
  const cfg = st.config as { benchmarks: Array<{ sha256: string; path: string }>; contamination: { against: string[]; ngram: number } };
  assert.match(cfg.benchmarks[0]!.sha256, /^[0-9a-f]{16}$/);
  assert.equal(cfg.benchmarks[0]!.path, join(REPO, 'test/evals/stage.test.ts'));
  assert.deepEqual(cfg.contamination.against, ['clean', 'dedup']);
  assert.throws(() => evaluate(null, { benchmarks: [] }), /at least one benchmark/);
  assert.throws(() => evaluate(null, { benchmarks: [{ path: 'no/such/file.jsonl' }] }), /does not exist/);
});

test('pipeline: train data with planted ARC items → bigram model stage → eval prints scores and the contamination table', { skip: needData('mc-eval') || needData('tinyshakespeare') }, async () => {
  const dir = tempProject();
  mkdirSync(join(dir, 'data'));
  const arc = readFileSync(ARC, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { query: string; choices: string[]; gold: number });
  const speeches = readFileSync(dataPath('tinyshakespeare/input.txt'), 'utf8').split(/\n\n+/).slice(0, 600);
  // Ten items among the 50 scored whose question alone has 13+ words: with the inserted "Q." and
  // "Answer:" labels, a shorter question can only match whole, and the labels break it.
  const planted = arc
    .slice(0, 50)
    .map((it, k) => [k, it.query.replace(/^Question: /, '').split(/\s+/).length] as const)
    .filter(([k, n]) => n >= 14 && k % 2 === 0)
    .slice(0, 10)
    .map(([k]) => k);
  assert.equal(planted.length, 10);
  const lines = speeches.map((text, i) => ({ id: `ts-${i}`, text, url: `https://corpus.example/ts/${i}` }));
  planted.forEach((k, j) => {
    const host = lines[j * 50 + 7]!;
    host.text += `\n\n${arc[k]!.query.replace(/^Question: /, 'Q. ')}\nAnswer: ${arc[k]!.choices[arc[k]!.gold]}`;
  });
  writeFileSync(join(dir, 'data', 'train.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  writePipeline(
    dir,
    'pipeline.ts',
    `
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from ${JSON.stringify(join(REPO, 'index.ts'))};
import { BigramScorer } from ${JSON.stringify(join(REPO, 'test/evals/helpers/bigram-scorer.ts'))};
const bigram = (input) => ({
  kind: 'custom', type: 'test.bigram', name: 'test.bigram', version: '1', config: {}, inputs: [input], output: 'artifact',
  async run(ctx) {
    let text = '';
    for await (const b of ctx.inputs[0].readDocs()) for (const d of b) text += d.text + '\\n';
    await ctx.writeFile('train.txt', text, 1);
  },
});
export default pipeline({ name: 'evaltest', workdir: 'runs/e' }, (p) => {
  const train = p.stage('train', read.jsonl('data/*.jsonl'));
  const model = p.stage('model', bigram(train));
  p.stage('eval', evaluate(model, {
    benchmarks: [{ path: ${JSON.stringify(ARC)}, limit: 50 }, { path: ${JSON.stringify(MMLU_DEV)}, limit: 30 }],
    contamination: { against: [train] },
    scorer: async (ds) => new BigramScorer(readFileSync(join(ds.dir, 'train.txt'), 'utf8'), 1024),
  }));
});
`,
  );
  const r = await runCli(['run', 'pipeline.ts', '--json', '--workers', '2'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout) as RunSummary;
  const ev = summary.stages.find((s) => s.stage === 'eval')!;
  for (const f of ['scores.json', 'contamination.json', 'contamination.md', 'contamination.html']) assert.ok(existsSync(join(ev.dir, f)), f);
  const rep = JSON.parse(readFileSync(join(ev.dir, 'contamination.json'), 'utf8')) as ContaminationReport;
  assert.deepEqual(rep.rows.map((x) => [x.benchmark, x.metric, x.total, x.dirty]), [
    ['arc_challenge', 'acc (text)', 50, 10],
    ['mmlu-dev', 'acc (text)', 30, 0],
    ['mmlu-dev', 'acc (letter)', 30, 0],
  ]);
  const arcItems = rep.benchmarks[0]!.items.filter((i) => i.dirty);
  assert.deepEqual(arcItems.map((i) => i.id).sort(), planted.map((k) => `arc_challenge/${k}`).sort());
  for (const it of arcItems) {
    const j = planted.indexOf(it.index);
    assert.equal(it.sources[0]!.id, `ts-${j * 50 + 7}`);
    assert.equal(it.sources[0]!.url, `https://corpus.example/ts/${j * 50 + 7}`);
  }
  // The scores and the table are printed in the task log, next to each other.
  assert.match(r.stderr, /eval arc_challenge \[text\]: acc 0\.\d{4} ± 0\.\d{4}, acc_norm/);
  assert.match(r.stderr, /eval mmlu-dev \[letter\]: acc/);
  assert.match(r.stderr, /\| arc_challenge \| acc \(text\) \| 13 \| 50 \| 10 \| 20\.00% \|/);
  const manifest = JSON.parse(readFileSync(join(ev.dir, 'manifest.json'), 'utf8')) as { info: { contamination: Array<{ dirty: number }> } };
  assert.equal(manifest.info.contamination[0]!.dirty, 10);
  // The ad-hoc CLI reads the same training stage's output directory (Parquet + manifest).
  const trainDir = summary.stages.find((s) => s.stage === 'train')!.dir;
  const cli = await runCli(['contamination', '--benchmark', ARC, '--against', trainDir, '--json'], { cwd: dir });
  assert.equal(cli.code, 0, cli.stderr);
  const adhoc = JSON.parse(cli.stdout) as ContaminationReport;
  assert.deepEqual(adhoc.benchmarks[0]!.dirtyIds.filter((id) => Number(id.split('/')[1]) < 50).sort(), planted.map((k) => `arc_challenge/${k}`).sort());
  assert.match(adhoc.corpus.sources[0]!, /^evaltest\/train@/);
  // A rerun skips the up-to-date eval stage.
  const r2 = await runCli(['run', 'pipeline.ts', '--json'], { cwd: dir });
  assert.equal(r2.code, 0, r2.stderr);
  assert.equal((JSON.parse(r2.stdout) as RunSummary).stages.find((s) => s.stage === 'eval')!.status, 'skipped');
});
