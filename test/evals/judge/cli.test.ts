import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempProject } from '../../helpers/cli.ts';
import { dataPath, needData } from '../../helpers/data.ts';
import { readAnnotations } from '../../../evals/judge/annotations.ts';
import { winRate } from '../../../evals/judge/winrate.ts';
import { instructions, modelRecords } from './fixtures.ts';
import type { JudgeSummary } from '../../../evals/judge/report.ts';

test('sluice judge difficulty + winrate: CSV, JSON contract fields, gamed set found beside the model, HTML written', async () => {
  const dir = tempProject();
  const insts = instructions(41);
  const specs: Array<[string, number, number, number]> = [['m1', -1.5, -1, 0.6], ['m2', -2, 0.5, 1.3], ['m3', -1, -2, 0.8]];
  specs.forEach(([m, slope, bias, ratio], k) => {
    mkdirSync(join(dir, 'ann', m), { recursive: true });
    const recs = modelRecords(m, insts, { slope, diffCoef: 1, bias }, ratio, 30 + k);
    if (m === 'm1') recs[5]!.preference = null; // an unparsed judgement: kept out of the rates, still predicted
    writeFileSync(join(dir, 'ann', m, 'annotations.json'), JSON.stringify(recs));
  });
  mkdirSync(join(dir, 'ann', 'gpt4_gamed'), { recursive: true });
  writeFileSync(join(dir, 'ann', 'gpt4_gamed', 'annotations.json'), JSON.stringify(modelRecords('gpt4_gamed', insts, { slope: -1.5, diffCoef: 1, bias: 0 }, 0.3, 40, 0)));
  const d = await runCli(['judge', 'difficulty', '--annotations', 'ann', '--out', 'diff.csv', '--json'], { cwd: dir });
  assert.equal(d.code, 0, d.stderr);
  assert.equal(JSON.parse(d.stdout).instructions, 41);
  assert.match(readFileSync(join(dir, 'diff.csv'), 'utf8'), /^index,instruction,instruction_difficulty\n0,"inst-0: explain item 0, ""quoted"", with a comma",0\.0+\n/);
  const r = await runCli(['judge', 'winrate', '--annotations', 'ann/m1/annotations.json', '--format', 'alpaca_eval', '--glm', 'length_controlled_v1', '--difficulty', 'diff.csv', '--json', '--html', 'judge.html'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as JudgeSummary;
  for (const k of ['win_rate', 'standard_error', 'length_controlled_winrate', 'lc_standard_error', 'n'] as const) assert.equal(typeof s[k], 'number', k);
  assert.equal(s.n, 40);
  assert.equal(s.n_dropped, 1);
  assert.ok(Math.abs(s.win_rate - winRate(readAnnotations(join(dir, 'ann/m1/annotations.json')).annotations.map((a) => a.preference)).win_rate) < 1e-12);
  assert.deepEqual(s.gamed.map((p) => p.endsWith(join('gpt4_gamed', 'annotations.json'))), [true]);
  assert.ok(existsSync(join(dir, 'judge.html')));
  // --gamed none turns the regularisation off; minimal needs no difficulty.
  const n = await runCli(['judge', 'winrate', '--annotations', 'ann/m1/annotations.json', '--difficulty', 'diff.csv', '--gamed', 'none', '--json'], { cwd: dir });
  assert.deepEqual((JSON.parse(n.stdout) as JudgeSummary).gamed, []);
  const m = await runCli(['judge', 'winrate', '--annotations', 'ann/m1/annotations.json', '--glm', 'minimal'], { cwd: dir });
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stdout, /length-controlled \(minimal\)/);
});

test('sluice judge: usage errors name the input', async () => {
  const dir = tempProject();
  writeFileSync(join(dir, 'a.json'), '{"not": "an array"}');
  const noDiff = await runCli(['judge', 'winrate', '--annotations', 'a.json'], { cwd: dir });
  assert.equal(noDiff.code, 2);
  assert.match(noDiff.stderr, /needs --difficulty F\.csv/);
  const bad = await runCli(['judge', 'winrate', '--annotations', 'a.json', '--glm', 'minimal'], { cwd: dir });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /a\.json: expected a JSON array/);
  const glm = await runCli(['judge', 'winrate', '--annotations', 'a.json', '--glm', 'v9'], { cwd: dir });
  assert.match(glm.stderr, /--glm must be one of length_controlled_v1, minimal/);
  const sub = await runCli(['judge', 'nope'], { cwd: dir });
  assert.match(sub.stderr, /unknown judge sub-command 'nope'/);
});

test('win_rate of every shared model equals the AlpacaEval 2.0 leaderboard to 0.01 points', { skip: needData('alpaca-eval/annotations') }, () => {
  const lb = new Map(
    readFileSync(dataPath('alpaca-eval/leaderboard_weighted_alpaca_eval_gpt4_turbo.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split(','))
      .map((c) => [c[0]!, { win_rate: Number(c[1]), standard_error: Number(c[2]), n_total: Number(c[6]) }]),
  );
  let checked = 0;
  for (const model of ['alpaca-7b_concise', 'claude-2', 'gpt4_gamed', 'oasst-sft-pythia-12b']) {
    const w = winRate(readAnnotations(dataPath('alpaca-eval/annotations', model, 'annotations.json')).annotations.map((a) => a.preference));
    const want = lb.get(model)!;
    assert.ok(Math.abs(w.win_rate - want.win_rate) < 0.01, `${model}: ${w.win_rate} vs ${want.win_rate}`);
    assert.ok(Math.abs(w.standard_error - want.standard_error) < 0.01, `${model} standard error`);
    assert.equal(w.n_total, want.n_total);
    checked++;
  }
  assert.equal(checked, 4);
});
