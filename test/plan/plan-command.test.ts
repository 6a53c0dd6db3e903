import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planCommand } from '../../cli/commands/plan.ts';
import { commands } from '../../cli/commands/index.ts';
import { UsageError } from '../../cli/command.ts';
import { analysisJson, analyzeRuns, type SweepRun } from '../../plan/analysis.ts';
import type { PlanResult } from '../../plan/plan.ts';

/**
 * Runs `sluice plan <argv>` in-process and captures what it prints. The command writes strings;
 * node's test runner shares this stdout for its own (binary) reports, which pass through.
 */
async function plan(argv: string[]): Promise<{ code: number; out: string }> {
  const write = process.stdout.write;
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (typeof chunk !== 'string') return (write as (...a: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    const code = await planCommand.run(argv);
    return { code, out };
  } finally {
    process.stdout.write = write;
  }
}

const LLAMA = ['--params', '405B', '--tokens', '15.6T', '--accelerator', 'h100', '--gpus', '16384', '--mfu', '0.4', '--price', '2', '--staff-share', '0.29'];

test('sluice plan is registered', async () => {
  assert.equal(await commands.find((c) => c.name === 'plan')?.load(), planCommand);
  assert.match(planCommand.usage, /--fit DIR/);
});

test('sluice plan prints the Llama 3.1 405B figures, the sensitivity table and the assumptions', async () => {
  const { code, out } = await plan(LLAMA);
  assert.equal(code, 0);
  assert.match(out, /FLOPs\s+3\.79e25 \(6·N·D\)/);
  assert.match(out, /GPU-hours\s+26\.6M/);
  assert.match(out, /wall-clock\s+67\.7 days \(2\.2 months\)/);
  assert.match(out, /compute cost\s+\$53\.2M at \$2\/GPU-hour/);
  assert.match(out, /total\s+\$74\.9M/);
  assert.match(out, /Sensitivity/);
  assert.match(out, /mfu\s+0\.30\s+35\.5M\s+90\.2\s+\$71M\s+\$99\.9M\s+\+33\.3%/);
  assert.match(out, /staffShare\s+0\.49 .*\$104M/);
  assert.match(out, /staffShare = 0\.29: .*Cottier et al\. 2024/);
});

test('sluice plan --json is the plan result', async () => {
  const { code, out } = await plan([...LLAMA, '--json']);
  assert.equal(code, 0);
  const r = JSON.parse(out) as PlanResult;
  assert.ok(Math.abs(r.compute.flops / 3.8e25 - 1) < 0.01);
  assert.ok(Math.abs(r.compute.totalUsd / 75e6 - 1) < 0.05);
  assert.equal(r.sensitivity[0]!.assumption, 'base');
  assert.equal(r.law.E, 1.69);
});

test('sluice plan counts a model shape exactly and adds attention FLOPs', async () => {
  const { out } = await plan(['--layers', '12', '--d-model', '768', '--heads', '12', '--vocab', '50257', '--context', '1024', '--tokens', '10B', '--json']);
  const r = JSON.parse(out) as PlanResult & { paramCounts: { total: number } };
  assert.equal(r.compute.params, 124_439_808);
  assert.equal(r.paramCounts.total, 124_439_808);
  assert.equal(r.compute.flopsAttention, 12 * 12 * 1024 * 768 * 10e9);
  const inline = await plan(['--model', JSON.stringify({ layers: 12, dModel: 768, heads: 12, vocabSize: 50257, contextLength: 1024 }), '--tokens', '10B', '--json']);
  assert.equal(JSON.parse(inline.out).compute.flops, r.compute.flops);
});

test('sluice plan --budget allocates 20 tokens per parameter; --accelerators lists the table', async () => {
  const { out } = await plan(['--budget', '1.2e21', '--json']);
  const r = JSON.parse(out) as PlanResult;
  assert.equal(r.mode, 'budget-rule');
  assert.ok(Math.abs(r.compute.tokens / r.compute.params - 20) < 1e-9);
  const list = await plan(['--accelerators']);
  assert.match(list.out, /h100-sxm\s+NVIDIA H100 SXM5 80GB\s+989\.4\s+700\s+https:/);
});

test('sluice plan --fit uses the sweep fitted law instead of the published one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-plan-'));
  try {
    const law = { E: 2.2, A: 80, B: 300, alpha: 0.3, beta: 0.32 };
    const runs: SweepRun[] = [];
    for (const n of [2e5, 5e5, 1e6, 3e6])
      for (const d of [1e6, 3e6, 1e7, 3e7]) {
        const loss = law.E + law.A / n ** law.alpha + law.B / d ** law.beta;
        runs.push({ name: `${n}-${d}`, model: { vocabSize: 256, contextLength: 64, layers: 1, dModel: 32, heads: 2 }, params: n, paramsTotal: n, paramsNonEmbedding: n, tokens: d, flops: 6 * n * d, trainerFlops: 6 * n * d, loss, trainLoss: loss, valLoss: loss, steps: 1, seconds: 1 });
      }
    writeFileSync(join(dir, 'sweep.json'), analysisJson(analyzeRuns(runs, { resamples: 20 })));
    const { code, out } = await plan(['--params', '10M', '--tokens', '1B', '--fit', dir, '--json']);
    assert.equal(code, 0);
    const r = JSON.parse(out) as PlanResult;
    assert.ok(Math.abs(r.law.E - 2.2) < 1e-3, `E ${r.law.E}`);
    assert.match(r.law.source, /sweep fit/);
    const expected = law.E + law.A / 1e7 ** law.alpha + law.B / 1e9 ** law.beta;
    assert.ok(Math.abs(r.predictedLoss - expected) < 1e-3, `${r.predictedLoss} vs ${expected}`);
    assert.ok(r.predictedLossFromCompute !== null);
    const text = await plan(['--params', '10M', '--tokens', '1B', '--fit', dir]);
    assert.match(text.out, /Loss \(sweep fit \(/);
    assert.match(text.out, /fitted on N = all parameters/);
    // A budget alone is split at the fitted law's optimum.
    const budget = JSON.parse((await plan(['--budget', '1e18', '--fit', dir, '--json'])).out) as PlanResult;
    assert.equal(budget.mode, 'budget-law');
    assert.ok(Math.abs(budget.compute.params / budget.optimal.law.params - 1) < 1e-9);
    await assert.rejects(plan(['--params', '10M', '--tokens', '1B', '--fit', join(dir, 'nope')]), /no sweep output at/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sluice plan usage errors name the flag', async () => {
  await assert.rejects(plan(['--params', 'lots', '--tokens', '1T']), (e: Error) => e instanceof UsageError && /--params: 'lots' is not a number/.test(e.message));
  await assert.rejects(plan(['--params', '7B']), /give params \(or a model config\) and tokens, or a budget/);
  await assert.rejects(plan(['--params', '7B', '--tokens', '1T', '--accelerator', 'v100']), /unknown accelerator 'v100'/);
  await assert.rejects(plan(['--layers', '2', '--tokens', '1T']), /missing --d-model, --heads, --vocab, --context/);
  await assert.rejects(plan(['--params', '7B', '--tokens', '1T', '--staff', '10']), /--staff needs --staff-cost-year/);
  await assert.rejects(plan(['--params', '7B', '--tokens', '1T', '--law', 'kaplan']), /--law must be hoffmann or besiroglu/);
  await assert.rejects(plan(['--bogus']), UsageError);
});
