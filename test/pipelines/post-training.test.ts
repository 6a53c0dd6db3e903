/**
 * `pipelines/post-training.ts` end to end with tiny knobs (5 pretraining steps, 3 SFT steps, 20
 * pairs, 2 instructions judged with answers of at most 4 tokens, held-out losses over one batch),
 * both ways of getting its base
 * model:
 *
 * 1. none named (`POSTTRAIN_BASE=none`, as when the quickstart was never run): the base is
 *    pretrained on WikiText-2 in the pipeline, and that stage is the judge;
 * 2. a train stage directory named (`POSTTRAIN_BASE=<workdir>/base`, as `runs/quickstart/train`
 *    is by default): its latest output is the base and the judge; nothing is pretrained.
 *
 * Each checks the `--json` contract (the figures under stages[].info of `sft` and `dpo`) and that
 * the judge stage wrote AlpacaEval's annotations.json; the second run is repeated: a no-op.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { needData, REPO, SHARED_DATA } from '../helpers/data.ts';
import type { RunSummary, StageSummary } from '../../engine/runner.ts';

const skip = needData('alpaca-eval', 'baseline_gpt4_1106_preview.model_outputs.json') || needData('post-training', 'hh-rlhf-harmless-base', 'test.jsonl.gz') || needData('wikitext2-tokens');

const KNOBS = { POSTTRAIN_BASE_STEPS: '5', POSTTRAIN_SFT_STEPS: '3', POSTTRAIN_PAIRS: '20', POSTTRAIN_DPO_EPOCHS: '1', POSTTRAIN_JUDGE_LIMIT: '2', POSTTRAIN_JUDGE_TOKENS: '4', POSTTRAIN_EVAL_BATCHES: '1', SLUICE_DATA_MIRROR: SHARED_DATA };

/** The post-training contract of a run's summary; returns the stages by name. */
function checkRun(s: RunSummary, judge: RegExp): Record<string, StageSummary> {
  const by = Object.fromEntries(s.stages.map((x) => [x.stage, x]));
  const sft = by.sft!.info!;
  for (const k of ['heldout_loss_before', 'heldout_loss_after', 'initial_loss']) assert.ok(typeof sft[k] === 'number' && Number.isFinite(sft[k]) && sft[k] > 0, `sft.${k} = ${sft[k]}`);
  const dpo = by.dpo!.info!;
  assert.equal(dpo.reward_accuracy_before, 0.5, 'policy = reference before training: every reward 0');
  assert.ok(typeof dpo.reward_accuracy_after === 'number' && dpo.reward_accuracy_after >= 0 && dpo.reward_accuracy_after <= 1);
  // The first 20 pairs of the file, 20% held out by pair.
  assert.equal(by.pairs!.docsOut, 20);
  assert.equal(dpo.pairs, 16);
  assert.ok(existsSync(join(by.dpo!.dir, 'report.html')));
  // The judged instructions were kept out of SFT.
  assert.equal(by['sft-data']!.docsOut, 805 - 2);
  // The judge: the DPO model's answers, judged by `sluice serve` of the base model.
  const annotations = JSON.parse(readFileSync(join(by.judge!.dir, 'annotations.json'), 'utf8')) as Array<{ generator_2: string; annotator: string; preference: number | null; parse_error?: string }>;
  assert.equal(annotations.length, 2);
  for (const a of annotations) {
    assert.equal(a.generator_2, 'dpo');
    assert.match(a.annotator, judge);
    // AlpacaEval's judge prompt (over 1,000 tokens) is cut to the judge's context (truncate: 'left'), not refused.
    assert.ok(a.preference === null ? !!a.parse_error && !/rejected the request/.test(a.parse_error) : a.preference >= 1 && a.preference <= 2, JSON.stringify(a));
  }
  return by;
}

test('post-training: a base pretrained here, or a named train stage; SFT, DPO, the judge; the --json figures; a rerun is a no-op', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-post-training-'));
  const cache = join(dir, 'cache');

  // 1. No base model named: pretrained in the pipeline, and it is the judge.
  const own = join(dir, 'own');
  const r1 = await runCli(['run', 'pipelines/post-training.ts', '--json'], { cwd: REPO, env: { ...KNOBS, POSTTRAIN_BASE: 'none', POSTTRAIN_WORKDIR: own, SLUICE_CACHE: cache } });
  assert.equal(r1.code, 0, r1.stderr.slice(-3000));
  const s1 = JSON.parse(r1.stdout) as RunSummary;
  const base = s1.stages.find((x) => x.stage === 'base')!;
  assert.ok(base, 'the base model is trained in the pipeline');
  checkRun(s1, new RegExp(`/base@${base.fingerprint}$`));

  // 2. That train stage's directory named as the base, as runs/quickstart/train is by default.
  const env = { ...KNOBS, POSTTRAIN_BASE: join(own, 'base'), POSTTRAIN_WORKDIR: join(dir, 'named'), SLUICE_CACHE: cache };
  const r2 = await runCli(['run', 'pipelines/post-training.ts', '--json'], { cwd: REPO, env });
  assert.equal(r2.code, 0, r2.stderr.slice(-3000));
  const by = checkRun(JSON.parse(r2.stdout) as RunSummary, /\/base@[0-9a-f]{16}$/);
  assert.ok(!by.base && !by.bpe, 'a named base: nothing is pretrained');
  assert.equal(by.sft!.info!.from, base.dir, "the stage directory's latest output");

  const again = await runCli(['run', 'pipelines/post-training.ts'], { cwd: REPO, env });
  assert.equal(again.code, 0, again.stderr.slice(-3000));
  assert.match(again.stderr, /nothing to do: all \d+ stage\(s\) up to date/);
});
