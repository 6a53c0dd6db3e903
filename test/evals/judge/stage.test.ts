/**
 * `evaluate(model, { judge })` in a real pipeline run (`sluice run`): the model stage is served by
 * the `serve` hook (here: a small real HTTP server standing in for `sluice serve`), its answers
 * are judged against AlpacaEval's baseline, the stage writes AlpacaEval's annotations.json and
 * records the summary in its manifest; a re-run skips the stage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempProject, writePipeline } from '../../helpers/cli.ts';
import { REPO, dataPath, needData } from '../../helpers/data.ts';
import { startScriptedServer, chatCompletion } from '../../helpers/openai-server.ts';
import type { RunSummary } from '../../../engine/runner.ts';
import { evaluate } from '../../../index.ts';

const skip = needData('alpaca-eval', 'baseline_gpt4_1106_preview.model_outputs.json');

test('evaluate(model, { judge }): generation through the serve hook, judging, annotations.json in the stage', { skip }, async () => {
  const srv = await startScriptedServer((r) => {
    if (r.body.max_tokens !== 1) return { body: chatCompletion('x'.repeat(9000)) };
    return { body: chatCompletion('M', [['M', Math.log(0.7)], ['m', Math.log(0.3)]]) };
  });
  const dir = tempProject();
  try {
    writePipeline(
      dir,
      'pipeline.ts',
      `
import { evaluate } from ${JSON.stringify(join(REPO, 'index.ts'))};
const model = () => ({
  kind: 'custom', type: 'test.model', name: 'test.model', version: '1', config: {}, inputs: [], output: 'artifact',
  async run(ctx) { await ctx.writeFile('weights.txt', 'w', 1); },
});
export default pipeline({ name: 'judgetest', workdir: 'runs/j' }, (p) => {
  const m = p.stage('model', model());
  p.stage('eval', evaluate(m, {
    judge: {
      endpoint: process.env.JUDGE_URL, model: 'tiny-judge', limit: 4, seed: 1, cache: 'cache.jsonl',
      template: ${JSON.stringify(dataPath('alpaca-eval', 'alpaca_eval_clf.txt'))},
      baseline: ${JSON.stringify(dataPath('alpaca-eval', 'baseline_gpt4_1106_preview.model_outputs.json'))},
      serve: async (ds) => ({ endpoint: process.env.JUDGE_URL, model: ds.stage, close: async () => {} }),
    },
  }));
});
`,
    );
    const env = { JUDGE_URL: srv.baseUrl };
    const r = await runCli(['run', 'pipeline.ts', '--json'], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    const ev = (JSON.parse(r.stdout) as RunSummary).stages.find((s) => s.stage === 'eval')!;
    for (const f of ['annotations.json', 'model_outputs.json', 'judge-run.json']) assert.ok(existsSync(join(ev.dir, f)), f);
    const ann = JSON.parse(readFileSync(join(ev.dir, 'annotations.json'), 'utf8')) as Array<{ preference: number; generator_2: string }>;
    assert.equal(ann.length, 4);
    assert.ok(ann.every((a) => a.generator_2 === 'model'));
    // The judge always says M (P = 0.7): 1.7 where the model was shown second, 1.3 where first.
    const info = JSON.parse(readFileSync(join(ev.dir, 'manifest.json'), 'utf8')).info.judge as { judged: number; modelFirst: number };
    assert.equal(info.judged, 4);
    assert.equal(ann.filter((a) => Math.abs(a.preference - 1.3) < 1e-9).length, info.modelFirst);
    assert.equal(ann.filter((a) => Math.abs(a.preference - 1.7) < 1e-9).length, 4 - info.modelFirst);
    assert.equal(srv.seen.length, 8);
    assert.match(r.stderr, /judge tiny-judge: model vs gpt4_1106_preview: 4 judged, 0 unparseable/);
    const r2 = await runCli(['run', 'pipeline.ts', '--json'], { cwd: dir, env });
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal((JSON.parse(r2.stdout) as RunSummary).stages.find((s) => s.stage === 'eval')!.status, 'skipped');
    assert.equal(srv.seen.length, 8);
  } finally {
    await srv.close();
  }
});

test('evaluate({ judge }) checks its options at declaration', { skip }, () => {
  const t = dataPath('alpaca-eval', 'alpaca_eval_clf.txt');
  const b = dataPath('alpaca-eval', 'baseline_gpt4_1106_preview.model_outputs.json');
  assert.throws(() => evaluate(null, { judge: { model: '', template: t, baseline: b } }), /judge.model/);
  assert.throws(() => evaluate(null, { judge: { model: 'j', template: 'no/such.txt', baseline: b } }), /judge.template .*no\/such.txt/);
  const st = evaluate(null, { judge: { model: 'j', template: t, baseline: b, outputs: b, endpoint: 'http://127.0.0.1:1/v1' } });
  const cfg = st.config as { judge: { judge: string; template: string } };
  assert.equal(cfg.judge.judge, 'j');
  assert.match(cfg.judge.template, /^[0-9a-f]{16}$/);
  assert.ok(!JSON.stringify(st.config).includes('127.0.0.1'), 'the endpoint address is not fingerprinted');
});
