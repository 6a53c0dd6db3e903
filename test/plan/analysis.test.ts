import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeRuns, type SweepRun } from '../../plan/analysis.ts';
import { renderReport } from '../../plan/report.ts';

function runs(rows: Array<[number, number, number]>): SweepRun[] {
  return rows.map(([params, tokens, loss], i) => ({
    name: `r${i}`, model: { vocabSize: 512, contextLength: 64, layers: 1, dModel: 32, heads: 2 }, params, paramsTotal: params, paramsNonEmbedding: params,
    tokens, flops: 6 * params * tokens, trainerFlops: 6 * params * tokens, loss, trainLoss: loss, valLoss: loss, steps: 1, seconds: 1,
  }));
}

test('a sweep whose runs follow a law has tight intervals and no warnings', () => {
  const rows: Array<[number, number, number]> = [];
  for (const n of [1e5, 3e5, 1e6, 3e6]) for (const d of [1e6, 3e6, 1e7, 3e7]) rows.push([n, d, 1.8 + 50 / n ** 0.3 + 300 / d ** 0.3]);
  const a = analyzeRuns(runs(rows), { resamples: 30, target: { params: 1e7, tokens: 1e9 } });
  assert.deepEqual(a.warnings, []);
  assert.ok(Math.abs(a.target!.lossParametric! - (1.8 + 50 / 1e7 ** 0.3 + 300 / 1e9 ** 0.3)) < 1e-6);
});

test('an under-trained sweep is flagged: the intervals say the runs do not determine the law', () => {
  // Measured: pipelines/scaling-sweep.ts on Tiny Shakespeare (BPE 512, tfjs), 3 sizes × 3 budgets
  // of 25k–100k tokens (49–196 steps): every model is still far from converged.
  const measured: Array<[number, number, number]> = [
    [31200, 25088, 5.3039], [31200, 50176, 5.2536], [31200, 100352, 4.7959],
    [136960, 25088, 5.1769], [136960, 50176, 4.7336], [136960, 100352, 4.3121],
    [391008, 25088, 5.1502], [391008, 50176, 4.7191], [391008, 100352, 4.2474],
  ];
  const a = analyzeRuns(runs(measured), { resamples: 100, target: { params: 1e7, tokens: 2e8 } });
  assert.ok(a.warnings.some((w) => /^L\(N, D\): the runs do not determine .*alpha \[/.test(w)), a.warnings.join('\n'));
  assert.ok(a.warnings.some((w) => /R² 0\.9\d+ — the law explains the runs poorly/.test(w)), a.warnings.join('\n'));
  const ci = a.target!.lossParametricCi!;
  assert.ok(ci.hi - ci.lo > 1, `the target's interval is wide: [${ci.lo}, ${ci.hi}]`);
  assert.match(renderReport(a), /<p class="err">warning: L\(N, D\): the runs do not determine/);
});
