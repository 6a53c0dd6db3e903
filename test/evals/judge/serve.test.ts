/**
 * The judge and `classify.annotate` against a real `sluice serve` of a tiny trained checkpoint
 * (a 1-layer GPT with a byte-level BPE, test/trainer/helpers/tiny-model.ts), started through
 * `spawnServe` as the offline default: the whole loop — generate, judge, annotate — with no
 * network. A tiny judge is meaningless, so the checks are on the loop, not the verdicts: every
 * record is a preference in [1, 2] or null with its reason, the judge was asked for top_logprobs,
 * and a re-run makes no call.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPath, needData } from '../../helpers/data.ts';
import type { RunSummary } from '../../../engine/runner.ts';
import { REPO } from '../../helpers/data.ts';
import { runCli, tempProject, writePipeline } from '../../helpers/cli.ts';
import { tinyBpeCheckpoint } from '../../trainer/helpers/tiny-model.ts';
import { spawnServe, type ServeProcess } from '../../../llm/serve-process.ts';
import { runJudge } from '../../../evals/judge/run.ts';
import { runOperators } from '../../../engine/testing.ts';
import { classify } from '../../../operators/classify/index.ts';

const skip = needData('alpaca-eval', 'baseline_gpt4_1106_preview.model_outputs.json');
const BASELINE = dataPath('alpaca-eval', 'baseline_gpt4_1106_preview.model_outputs.json');
const TEMPLATE = dataPath('alpaca-eval', 'alpaca_eval_clf.txt');
let dir = '';
let ck = '';
let served: ServeProcess | undefined;

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'sluice-judge-serve-'));
  ck = await tinyBpeCheckpoint(dir, 'tiny');
  served = await spawnServe(ck, { template: 'chatml' });
});
after(async () => {
  await served?.close();
});

/** A judge prompt and evaluation set short enough for the tiny model's 48-token context. */
function tinyProtocolFiles(): { template: string; baseline: string } {
  const template = join(dir, 'tiny-judge.txt');
  writeFileSync(template, '<|im_start|>user\n{instruction}? m: {output_1} M: {output_2}<|im_end|>');
  const baseline = join(dir, 'tiny-baseline.json');
  writeFileSync(baseline, JSON.stringify(['cat', 'dog', 'bird'].map((w) => ({ instruction: w, output: `the ${w}`, generator: 'base', dataset: 'tiny' }))));
  return { template, baseline };
}

test('judge run against sluice serve: generated answers, judged with top_logprobs, re-run free', { skip }, async () => {
  const s = served!;
  assert.equal(s.model, 'tiny');
  const cache = join(dir, 'judge-cache.jsonl');
  const opts = { ...tinyProtocolFiles(), judge: { endpoint: s.endpoint, model: s.model }, model: { endpoint: s.endpoint, model: s.model, maxTokens: 6 }, cache };
  const r = await runJudge(opts);
  assert.equal(r.annotations.length, 3, JSON.stringify(r.summary.skipped));
  for (const a of r.annotations) {
    assert.equal(a.generator_2, 'tiny');
    if (a.preference === null) assert.match(a.parse_error!, /top log-probabilities/);
    else assert.ok(a.preference >= 1 && a.preference <= 2);
    // sluice serve answered with the one token and the 5 alternatives the protocol asks for.
    assert.equal(a.raw_completion!.logprobs!.content!.length, 1);
    assert.equal(a.raw_completion!.logprobs!.content![0]!.top_logprobs.length, 5);
  }
  const again = await runJudge(opts);
  assert.equal(again.summary.calls, 0);
  assert.deepEqual(again.annotations.map((a) => a.preference), r.annotations.map((a) => a.preference));
});

test("judge run against sluice serve with AlpacaEval's prompt: over the tiny context, each judgement recorded as rejected, the run completes", { skip }, async () => {
  const s = served!;
  const outputs = join(dir, 'short-outputs.json');
  writeFileSync(outputs, JSON.stringify(JSON.parse(readFileSync(BASELINE, 'utf8')).slice(0, 2).map((b: { instruction: string }) => ({ instruction: b.instruction, output: 'the cat', generator: 'cat-model' }))));
  const r = await runJudge({ baseline: BASELINE, template: TEMPLATE, judge: { endpoint: s.endpoint, model: s.model }, model: { outputs }, limit: 2, cache: join(dir, 'long-cache.jsonl') });
  assert.equal(r.annotations.length, 2);
  for (const a of r.annotations) {
    assert.equal(a.preference, null);
    assert.match(a.parse_error!, /rejected the request: .*HTTP 400: This model's maximum context length is 48 tokens; the prompt has \d+/);
  }
});

test('classify.annotate against sluice serve: each doc scored 0–5, or dropped as unparseable or rejected with its reason; re-run free', { skip }, async () => {
  const s = served!;
  const cache = join(dir, 'annotate-cache.jsonl');
  const docs = ['the cat sat on the mat.', 'the dog ran to the pond.', 'a bird sang in the tree.'].map((text, i) => ({ id: `d${i}`, text, meta: {} }));
  const prompt = { name: 'tiny', template: 'rate {text}', scorePattern: '([0-9])', min: 0, max: 5 };
  const op = () => classify.annotate({ endpoint: s.endpoint, model: s.model, maxTokens: 6, prompt, cache });
  const { out, audit } = await runOperators([op()], docs);
  assert.equal(out.length + audit.drops.length, 3);
  for (const d of out) assert.ok(Number.isInteger(d.meta.eduScore) && (d.meta.eduScore as number) <= 5);
  for (const d of audit.drops) {
    assert.equal(d.reason, 'annotate.unparseable');
    assert.match(String(d.details?.reason), /no match|outside/);
  }
  const size = statSync(cache).size;
  const again = await runOperators([op()], docs);
  assert.equal(again.out.length, out.length);
  assert.equal(statSync(cache).size, size, 'nothing new asked or stored');
  // FineWeb-Edu's prompt does not fit a 48-token context: refused per document, recorded, not fatal.
  const edu = await runOperators([classify.annotate({ endpoint: s.endpoint, model: s.model, cache })], docs.slice(0, 1));
  assert.deepEqual(edu.audit.drops.map((d) => d.reason), ['annotate.rejected']);
  assert.match(String(edu.audit.drops[0]!.details?.reason), /maximum context length is 48 tokens/);
});

test('sluice judge run --judge-serve: the offline judge is started and stopped by the command', { skip }, async () => {
  const outputs = ['cat', 'dog'].map((w) => ({ instruction: w, output: `a ${w}`, generator: 'cat-model' }));
  writeFileSync(join(dir, 'outputs.json'), JSON.stringify(outputs));
  const { template, baseline } = tinyProtocolFiles();
  const res = await runCli(['judge', 'run', '--baseline', baseline, '--template', template, '--judge-serve', ck, '--chat-template', 'chatml', '--outputs', join(dir, 'outputs.json'), '--limit', '2', '--cache', join(dir, 'cli-cache.jsonl'), '--out', join(dir, 'out'), '--json'], { cwd: dir });
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stderr, /judge: tiny at http:\/\/127\.0\.0\.1:\d+\/v1/);
  const summary = JSON.parse(res.stdout);
  assert.equal(summary.judge, 'tiny');
  assert.equal(summary.judged + summary.unparseable, 2);
  assert.equal(summary.skipped.length, 0);
  assert.equal(JSON.parse(readFileSync(join(dir, 'out', 'annotations.json'), 'utf8')).length, 2);
});

test('evaluate({ judge: { checkpoint: stageRef } }): the judge is a model stage of the pipeline, served as <stage>@<fingerprint>; a retrained judge is asked again, not answered from the cache', { skip }, async () => {
  const proj = tempProject('sluice-judge-ref-');
  const { template, baseline } = tinyProtocolFiles();
  writeFileSync(join(proj, 'outputs.json'), JSON.stringify(['cat', 'dog'].map((w) => ({ instruction: w, output: `a ${w}`, generator: 'cat-model' }))));
  writePipeline(
    proj,
    'pipeline.ts',
    `
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { evaluate } from ${JSON.stringify(join(REPO, 'index.ts'))};
const CK = ${JSON.stringify(ck)};
// A "train" stage: the tiny checkpoint's files as its output; TAG changes its fingerprint (a retrained model).
const model = (tag) => ({
  kind: 'custom', type: 'test.checkpoint', name: 'test.checkpoint', version: '1', config: { tag }, inputs: [], output: 'artifact',
  async run(ctx) { for (const f of readdirSync(CK, { withFileTypes: true })) if (f.isFile()) await ctx.writeFile(f.name, readFileSync(join(CK, f.name))); },
});
export default pipeline({ name: 'judgeref', workdir: 'runs/j' }, (p) => {
  const judge = p.stage('judge-model', model(process.env.TAG));
  p.stage('eval', evaluate(null, {
    judge: { checkpoint: judge, chatTemplate: 'chatml', template: ${JSON.stringify(template)}, baseline: ${JSON.stringify(baseline)}, outputs: 'outputs.json', limit: 2, cache: 'cache.jsonl' },
  }));
});
`,
  );
  const run = async (tag: string) => {
    const r = await runCli(['run', 'pipeline.ts', '--json'], { cwd: proj, env: { TAG: tag } });
    assert.equal(r.code, 0, r.stderr);
    const stages = (JSON.parse(r.stdout) as RunSummary).stages;
    const ev = stages.find((x) => x.stage === 'eval')!;
    const fp = stages.find((x) => x.stage === 'judge-model')!.fingerprint;
    return { ev, fp, info: JSON.parse(readFileSync(join(ev.dir, 'manifest.json'), 'utf8')).info.judge as { judge: string; calls: number; judged: number; unparseable: number } };
  };
  const first = await run('a');
  assert.equal(first.info.judge, `judge-model@${first.fp}`);
  assert.equal(first.info.calls, 2);
  assert.equal(first.info.judged + first.info.unparseable, 2);
  // Another judge model (same name, new fingerprint): the eval stage re-runs and asks it.
  const retrained = await run('b');
  assert.notEqual(retrained.fp, first.fp);
  assert.equal(retrained.ev.status, 'ran');
  assert.equal(retrained.info.judge, `judge-model@${retrained.fp}`);
  assert.equal(retrained.info.calls, 2, 'not answered from the cache entries of the earlier judge');
});
