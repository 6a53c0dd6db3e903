import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocateParametric, allocateRuleOfThumb, frontier, HOFFMANN, BESIROGLU, predictLoss } from '../../plan/chinchilla.ts';

test('20 tokens per parameter: Chinchilla (70B, 1.4T) is the rule-of-thumb split of its own compute', () => {
  const C = 6 * 70e9 * 1.4e12; // 5.88e23
  const a = allocateRuleOfThumb(C);
  assert.ok(Math.abs(a.params / 70e9 - 1) < 0.01, `N ${a.params}`);
  assert.ok(Math.abs(a.tokens / 1.4e12 - 1) < 0.01, `D ${a.tokens}`);
  assert.ok(Math.abs(6 * a.params * a.tokens - C) / C < 1e-12);
});

test("Hoffmann's law: predicted loss of Chinchilla and Gopher", () => {
  // E + A/N^α + B/D^β by hand: 1.69 + 406.4/70e9^0.34 + 410.7/1.4e12^0.28.
  assert.ok(Math.abs(predictLoss(HOFFMANN, 70e9, 1.4e12) - 1.937) < 0.002);
  // Gopher (280B, 300B tokens) is predicted worse than Chinchilla at similar compute.
  assert.ok(predictLoss(HOFFMANN, 280e9, 300e9) > predictLoss(HOFFMANN, 70e9, 1.4e12));
});

test('the parametric allocation is the minimum of L along C = 6·N·D', () => {
  for (const law of [HOFFMANN, BESIROGLU]) {
    for (const C of [1e19, 1e22, 1e25]) {
      const opt = allocateParametric(law, C);
      assert.ok(Math.abs(6 * opt.params * opt.tokens / C - 1) < 1e-9);
      for (const f of [0.8, 0.95, 1.05, 1.25]) {
        const n = opt.params * f;
        assert.ok(predictLoss(law, n, C / (6 * n)) > opt.loss, `${law.source} C=${C} f=${f}`);
      }
    }
  }
  // Besiroglu's refit puts the optimum near 20 tokens/parameter at Chinchilla scale; Hoffmann's eq. 10 far above it.
  const b = allocateParametric(BESIROGLU, 5.88e23);
  assert.ok(b.tokensPerParam > 15 && b.tokensPerParam < 35, `besiroglu ${b.tokensPerParam}`);
  assert.ok(allocateParametric(HOFFMANN, 5.88e23).tokensPerParam > 40);
});

test('frontier: loss falls and N grows with compute', () => {
  const f = frontier(HOFFMANN);
  assert.equal(f.length, 9);
  for (let i = 1; i < f.length; i++) {
    assert.ok(f[i]!.loss < f[i - 1]!.loss);
    assert.ok(f[i]!.params > f[i - 1]!.params);
  }
  assert.throws(() => predictLoss(HOFFMANN, -1, 1e9), /params must be a positive finite number/);
});
