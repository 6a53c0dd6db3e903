import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateCompute, sensitivity } from '../../plan/compute.ts';
import { plan } from '../../plan/plan.ts';
import { accelerator, ACCELERATORS } from '../../plan/accelerators.ts';

/**
 * Llama 3.1 405B (Meta, "The Llama 3 Herd of Models", 2024): 405B parameters, 15.6T tokens,
 * 3.8e25 FLOPs, up to 16,384 H100s at 38–43% BF16 MFU. Assumptions of this test: H100 SXM dense
 * bf16 peak 989.4 TFLOP/s, MFU 0.40, $2/GPU-hour, staff 29% of the total (the low end of Epoch
 * AI's 29–49%, Cottier et al. 2024).
 */
const LLAMA = { params: 405e9, tokens: 15.6e12, accelerator: 'h100', gpus: 16384, mfu: 0.4, pricePerGpuHour: 2 } as const;

test('Llama 3.1 405B: 3.8e25 FLOPs, ~26M GPU-hours, ~two months, ~$50M compute, ~$75M with staff', () => {
  const e = estimateCompute({ ...LLAMA, staff: { kind: 'share', share: 0.29 } });
  assert.ok(Math.abs(e.flops / 3.8e25 - 1) < 0.01, `FLOPs ${e.flops}`);
  assert.equal(e.flopsAttention, 0);
  assert.ok(e.gpuHours > 25e6 && e.gpuHours < 28e6, `GPU-hours ${e.gpuHours}`);
  assert.ok(e.wallMonths > 1.8 && e.wallMonths < 2.5, `months ${e.wallMonths}`);
  assert.ok(Math.abs(e.computeUsd / 50e6 - 1) < 0.1, `compute $${e.computeUsd}`);
  assert.ok(Math.abs(e.totalUsd / 75e6 - 1) < 0.05, `total $${e.totalUsd}`);
  // Exact arithmetic of the formulas.
  assert.equal(e.gpuHours, (6 * 405e9 * 15.6e12) / (989.4e12 * 0.4) / 3600);
  assert.equal(e.wallDays, e.gpuHours / 16384 / 24);
  assert.equal(e.computeUsd, e.gpuHours * 2);
  assert.ok(Math.abs(e.staffUsd / e.totalUsd - 0.29) < 1e-12);
  // Energy: GPU-hours × 700 W × PUE 1.1; CO2 at 0.48 kg/kWh.
  assert.ok(Math.abs(e.energyMwh! - (e.gpuHours * 700 * 1.1) / 1e6) < 1e-6);
  assert.ok(Math.abs(e.co2Tonnes! - e.energyMwh! * 0.48) < 1e-6);
  for (const k of ['peakFlops', 'mfu', 'pricePerGpuHour', 'pue', 'carbonKgPerKwh', 'staffShare']) {
    assert.ok(e.assumptions.some((a) => a.key === k && a.source.length > 0), `assumption ${k} documented`);
  }
});

test('sensitivity: each assumption moves the Llama total as its formula says', () => {
  const rows = sensitivity({ ...LLAMA, staff: { kind: 'share', share: 0.29 } });
  const base = rows[0]!;
  assert.equal(base.assumption, 'base');
  assert.equal(base.deltaTotal, 0);
  const get = (a: string, v: string) => {
    const r = rows.find((x) => x.assumption === a && x.value === v);
    assert.ok(r, `row ${a}=${v} in ${rows.map((x) => `${x.assumption}=${x.value}`).join(', ')}`);
    return r;
  };
  // Cost ∝ 1/MFU: 0.30 → +33.3%, 0.50 → −20%.
  assert.ok(Math.abs(get('mfu', '0.30').deltaTotal - 1 / 3) < 1e-9);
  assert.ok(Math.abs(get('mfu', '0.50').deltaTotal + 0.2) < 1e-9);
  // Cost ∝ price; days do not move.
  assert.ok(Math.abs(get('pricePerGpuHour', '$3.00').deltaTotal - 0.5) < 1e-9);
  assert.equal(get('pricePerGpuHour', '$3.00').deltaDays, 0);
  // GPU count moves days only.
  assert.equal(get('gpus', '8192').deltaTotal, 0);
  assert.ok(Math.abs(get('gpus', '8192').deltaDays - 1) < 1e-9);
  // Staff: none brings the total to the compute cost; 49% to compute / 0.51.
  assert.ok(Math.abs(get('staffShare', '0.00').totalUsd - base.computeUsd) < 1e-6);
  assert.ok(Math.abs(get('staffShare', '0.49').totalUsd - base.computeUsd / 0.51) < 1e-3);
  // PUE and carbon move CO2 only.
  assert.ok(get('pue', '1.50').co2Tonnes! > base.co2Tonnes!);
  assert.equal(get('pue', '1.50').totalUsd, base.totalUsd);
});

test('staff as a headcount defaults to the wall-clock duration; as an amount it is added', () => {
  const e = estimateCompute({ ...LLAMA, staff: { kind: 'headcount', people: 100, usdPerYear: 500_000 } });
  assert.ok(Math.abs(e.staffUsd - (100 * 500_000 * (e.wallDays / 30.44)) / 12) < 1e-3);
  const f = estimateCompute({ ...LLAMA, staff: { kind: 'amount', usd: 1e6 } });
  assert.equal(f.totalUsd, f.computeUsd + 1e6);
});

test('a model config adds the attention term and counts N exactly', () => {
  const model = { vocabSize: 50257, contextLength: 1024, layers: 12, dModel: 768, heads: 12 };
  const e = estimateCompute({ model, tokens: 1e9 });
  assert.equal(e.params, 124_439_808); // GPT-2 small with learned positions, tied head
  assert.equal(e.flopsAttention, 12 * 12 * 1024 * 768 * 1e9);
  assert.ok(e.flops > 6 * e.params * 1e9);
});

test('accelerators: dense bf16 peaks with sources; aliases; unknown ids are named', () => {
  assert.equal(accelerator('H100').id, 'h100-sxm');
  assert.equal(accelerator('h100').peakFlops, 989.4e12);
  assert.equal(accelerator('a100').peakFlops, 312e12);
  for (const a of ACCELERATORS) {
    assert.match(a.source, /^https:\/\//, a.id);
    assert.ok(a.peakFlops > 50e12 && a.peakFlops < 5e15, a.id);
  }
  assert.throws(() => accelerator('v100'), /unknown accelerator 'v100'.*h100-sxm/);
  const tpu = estimateCompute({ params: 1e9, tokens: 1e10, accelerator: 'tpu-v5p' });
  assert.equal(tpu.energyMwh, null);
  assert.ok(estimateCompute({ params: 1e9, tokens: 1e10, accelerator: 'tpu-v5p', powerW: 400 }).energyMwh! > 0);
});

test('bad inputs are errors naming the input', () => {
  assert.throws(() => estimateCompute({ params: 1e9, tokens: 1e9, mfu: 1.5 }), /mfu must be .*≤ 1.*1\.5/);
  assert.throws(() => estimateCompute({ params: 1e9, tokens: 0 }), /tokens must be/);
  assert.throws(() => estimateCompute({ params: 1e9, tokens: 1e9, gpus: 2.5 }), /gpus must be an integer/);
  assert.throws(() => estimateCompute({ tokens: 1e9 }), /give params or a model config/);
  assert.throws(() => estimateCompute({ params: 1e9, tokens: 1e9, staff: { kind: 'share', share: 1 } }), /staff share must be in \[0, 1\)/);
});

test('plan: a budget alone is split 20 tokens/param; with N the tokens follow; money becomes FLOPs', () => {
  const r = plan({ budgetFlops: 1.2e21 });
  assert.equal(r.mode, 'budget-rule');
  assert.ok(Math.abs(r.compute.params - 1e9 * Math.sqrt(10)) / r.compute.params < 1e-12);
  assert.ok(Math.abs(r.compute.tokens / r.compute.params - 20) < 1e-9);
  assert.ok(Math.abs(r.compute.flops / 1.2e21 - 1) < 1e-12);
  const withN = plan({ budgetFlops: 6e20, params: 1e9 });
  assert.equal(withN.mode, 'budget-with-params');
  assert.ok(Math.abs(withN.compute.tokens - 1e11) < 1);
  const usd = plan({ budgetUsd: 2000, pricePerGpuHour: 2, accelerator: 'h100' });
  assert.ok(Math.abs(usd.compute.computeUsd - 2000) < 1e-6);
  const law = plan({ budgetFlops: 1e22, allocate: 'law' });
  assert.equal(law.mode, 'budget-law');
  assert.ok(law.predictedLoss <= law.optimal.ruleOfThumb.loss, 'the law optimum beats 20 tokens/param under its own law');
  assert.ok(Math.abs(6 * law.compute.params * law.compute.tokens / 1e22 - 1) < 1e-9);
  assert.throws(() => plan({ params: 1e9 }), /give params .* and tokens, or a budget/);
  assert.throws(() => plan({ budgetFlops: 1e21, params: 1e9, tokens: 1e10 }), /not both/);
});
