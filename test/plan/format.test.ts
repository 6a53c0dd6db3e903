import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fmtCount, fmtDays, fmtEnergy, fmtPct, fmtSci, fmtTonnes, parseQuantity, textTable } from '../../plan/format.ts';

test('quantities parse with SI suffixes and print back', () => {
  assert.equal(parseQuantity('405B', 'x'), 405e9);
  assert.equal(parseQuantity('15.6T', 'x'), 15.6e12);
  assert.equal(parseQuantity('124M', 'x'), 124e6);
  assert.equal(parseQuantity('3.8e25', 'x'), 3.8e25);
  assert.equal(parseQuantity('2,048', 'x'), 2048);
  assert.equal(parseQuantity('1_000k', 'x'), 1e6);
  assert.throws(() => parseQuantity('12 GB', '--tokens'), /--tokens: '12 GB' is not a number/);
  assert.equal(fmtCount(405e9), '405B');
  assert.equal(fmtCount(26_607_034), '26.6M');
  assert.equal(fmtCount(950), '950');
  assert.equal(fmtSci(3.7908e25), '3.79e25');
  assert.equal(fmtPct(1 / 3), '+33.3%');
  assert.equal(fmtPct(-0.2), '−20%');
});

test('durations, energy and mass pick a readable unit', () => {
  assert.equal(fmtDays(67.665), '67.7 days (2.2 months)');
  assert.equal(fmtDays(2), '2 days');
  assert.equal(fmtDays(0.25), '6 hours');
  assert.equal(fmtDays(10 / 1440), '10 minutes');
  assert.equal(fmtDays(30 / 86400), '30 seconds');
  assert.equal(fmtEnergy(0.5), '500 kWh');
  assert.equal(fmtEnergy(20487), '20.5 GWh');
  assert.equal(fmtTonnes(9834), '9,834 t');
  assert.equal(fmtTonnes(0.47), '470 kg');
});

test('text tables align columns and right-align numbers', () => {
  const t = textTable([['a', 'n'], ['x', '1'], ['long', '100']]).split('\n');
  assert.deepEqual(t, ['a     n', '----  ---', 'x       1', 'long  100']);
});
