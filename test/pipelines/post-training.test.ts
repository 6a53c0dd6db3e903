/**
 * `pipelines/post-training.ts` end to end with tiny knobs: SFT on AlpacaEval's reference answers,
 * DPO on hh-rlhf pairs, the judge stage, from a tiny base checkpoint (1 layer, d_model 16, context
 * 128, a byte-level BPE with the ChatML specials) named by POSTTRAIN_BASE as the quickstart's would
 * be. Checks the `--json` contract (the figures under stages[].info of `sft` and `dpo`), that the
 * judge stage wrote AlpacaEval's annotations.json with the base model as the judge, and that a
 * rerun does nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { needData, REPO, SHARED_DATA } from '../helpers/data.ts';
import { tinyBpeCheckpoint } from '../trainer/helpers/tiny-model.ts';
import type { RunSummary } from '../../engine/runner.ts';

const skip = needData('alpaca-eval', 'baseline_gpt4_1106_preview.model_outputs.json') || needData('post-training', 'hh-rlhf-harmless-base', 'test.jsonl.gz');

test('post-training: SFT, DPO and the judge from a base checkpoint; the --json figures; a rerun is a no-op', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-post-training-'));
  const base = await tinyBpeCheckpoint(dir, 'base', 128);
  const env = {
    POSTTRAIN_BASE: base,
    POSTTRAIN_WORKDIR: join(dir, 'work'),
    POSTTRAIN_SFT_STEPS: '3',
    POSTTRAIN_PAIRS: '40',
    POSTTRAIN_DPO_EPOCHS: '1',
    POSTTRAIN_JUDGE_LIMIT: '2',
    POSTTRAIN_JUDGE_TOKENS: '4',
    SLUICE_DATA_MIRROR: SHARED_DATA,
    SLUICE_CACHE: join(dir, 'cache'),
  };
  const r = await runCli(['run', 'pipelines/post-training.ts', '--json'], { cwd: REPO, env });
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  const s = JSON.parse(r.stdout) as RunSummary;
  const by = Object.fromEntries(s.stages.map((x) => [x.stage, x]));
  assert.ok(!by.base && !by.bpe, 'a named base checkpoint: nothing is pretrained');
  const sft = by.sft!.info!;
  for (const k of ['heldout_loss_before', 'heldout_loss_after', 'initial_loss']) assert.ok(typeof sft[k] === 'number' && Number.isFinite(sft[k]) && sft[k] > 0, `sft.${k} = ${sft[k]}`);
  const dpo = by.dpo!.info!;
  assert.equal(dpo.reward_accuracy_before, 0.5, 'policy = reference before training: every reward 0');
  assert.ok(typeof dpo.reward_accuracy_after === 'number' && dpo.reward_accuracy_after >= 0 && dpo.reward_accuracy_after <= 1);
  // The split: 40 pairs read, 20% held out by pair.
  assert.equal(by.pairs!.docsOut, 40);
  assert.equal(dpo.pairs, 32);
  // The judged instructions were kept out of SFT.
  assert.equal(by['sft-data']!.docsOut, 805 - 2);
  // The judge: the DPO model's answers, judged by `sluice serve` of the base checkpoint.
  const annotations = JSON.parse(readFileSync(join(by.judge!.dir, 'annotations.json'), 'utf8')) as Array<{ generator_2: string; annotator: string; preference: number | null; parse_error?: string }>;
  assert.equal(annotations.length, 2);
  for (const a of annotations) {
    assert.equal(a.generator_2, 'dpo');
    assert.match(a.annotator, /\/base@[0-9a-f]{16}$/, 'the judge is served under its name and the digest of its files');
    // The judge prompt (over 1,000 tokens) is cut to the judge's context (truncate: 'left'), not refused.
    assert.ok(a.preference === null ? !!a.parse_error && !/rejected the request/.test(a.parse_error) : a.preference >= 1 && a.preference <= 2, JSON.stringify(a));
  }
  assert.ok(existsSync(join(by.dpo!.dir, 'report.html')));

  const again = await runCli(['run', 'pipelines/post-training.ts'], { cwd: REPO, env });
  assert.equal(again.code, 0, again.stderr.slice(-3000));
  assert.match(again.stderr, /nothing to do: all \d+ stage\(s\) up to date/);
});
