/**
 * From a model and a token count to FLOPs, GPU-hours, wall-clock days, money, energy and CO2.
 *
 * GPU-seconds = FLOPs / (peak × MFU); wall-clock = GPU-hours / GPUs (perfect data parallelism,
 * no restarts: a lower bound on real schedules); compute cost = GPU-hours × price (a rental price
 * already includes power and the building); energy = GPU-hours × board power × PUE (GPU boards
 * only: host CPUs and network would add to it); CO2 = energy × grid carbon intensity. Staff is
 * optional: an amount, a headcount × loaded cost × duration, or a share of the total.
 */
import type { ModelConfig } from '../formats/model.ts';
import { accelerator as lookupAccelerator, type Accelerator } from './accelerators.ts';
import { countParams, flopsPerToken } from '../formats/model.ts';

/** Default model FLOPs utilisation (the ~40% large labs report for dense bf16 training). */
export const DEFAULT_MFU = 0.4;
/** Default rental price per GPU-hour in US$ (a typical 2024–25 on-demand-to-reserved H100 figure). */
export const DEFAULT_PRICE = 2;
/** Default power usage effectiveness: Google's fleet-wide trailing-twelve-month PUE is ~1.10. */
export const DEFAULT_PUE = 1.1;
/**
 * Default grid carbon intensity, kg CO2e per kWh: the 2023 world average of electricity
 * generation, ~480 g/kWh (Ember, Global Electricity Review 2024). Pass a local figure for a real site.
 */
export const DEFAULT_CARBON = 0.48;

/** How staff cost is given. */
export type StaffInput =
  /** A fixed amount in US$. */
  | { kind: 'amount'; usd: number }
  /** Headcount × loaded cost per person-year × months (default: the wall-clock training time). */
  | { kind: 'headcount'; people: number; usdPerYear: number; months?: number }
  /**
   * Staff as a share of the total (compute + staff). Epoch AI (Cottier et al. 2024, "The rising
   * costs of training frontier AI models", arXiv:2405.21015) put R&D staff, equity included, at
   * 29–49% of the amortised development cost of frontier models.
   */
  | { kind: 'share'; share: number };

/** What a plan computes from. Give `params` or `model` (counted exactly), and `tokens`. */
export interface ComputeInputs {
  /** Parameter count N (ignored when `model` is given). */
  params?: number;
  /** A model configuration: N is counted exactly and the attention FLOPs are added. */
  model?: ModelConfig;
  /** Training tokens D. */
  tokens: number;
  /** Accelerator id (default `h100-sxm`); see `ACCELERATORS`. */
  accelerator?: string;
  /** Dense peak FLOP/s per GPU, overriding the accelerator table. */
  peakFlops?: number;
  /** Model FLOPs utilisation (default 0.40). */
  mfu?: number;
  /** Number of GPUs (default 1). */
  gpus?: number;
  /** US$ per GPU-hour (default 2). */
  pricePerGpuHour?: number;
  /** Watts per GPU (default: the accelerator's board power). */
  powerW?: number;
  /** Power usage effectiveness (default 1.1). */
  pue?: number;
  /** kg CO2e per kWh (default 0.48). */
  carbonKgPerKwh?: number;
  staff?: StaffInput;
}

/** One assumption as used, with where it came from. */
export interface Assumption {
  key: string;
  value: number | string;
  source: string;
}

/** The result of `estimateCompute`. */
export interface ComputeEstimate {
  params: number;
  tokens: number;
  /** Total training FLOPs (6·N·D, plus attention when a model config is given). */
  flops: number;
  /** 6·N·D with N the parameter count used. */
  flops6ND: number;
  /** The attention term 12·L·T·d·D (0 without a model config). */
  flopsAttention: number;
  accelerator: Pick<Accelerator, 'id' | 'name' | 'source'> | null;
  peakFlops: number;
  mfu: number;
  gpus: number;
  gpuHours: number;
  wallDays: number;
  /** wallDays / 30.44. */
  wallMonths: number;
  pricePerGpuHour: number;
  computeUsd: number;
  /** null when no power figure is known (e.g. TPUs without `powerW`). */
  powerW: number | null;
  pue: number;
  energyMwh: number | null;
  carbonKgPerKwh: number;
  co2Tonnes: number | null;
  staffUsd: number;
  totalUsd: number;
  assumptions: Assumption[];
}

function check(name: string, v: number | undefined, opts: { integer?: boolean; max?: number; min?: number } = {}): void {
  if (v === undefined) return;
  const min = opts.min ?? 0;
  if (!Number.isFinite(v) || v <= min || (opts.max !== undefined && v > opts.max) || (opts.integer && !Number.isInteger(v))) {
    const range = `${opts.integer ? 'an integer' : 'a number'} > ${min}${opts.max !== undefined ? ` and ≤ ${opts.max}` : ''}`;
    throw new Error(`${name} must be ${range}, got ${v}`);
  }
}

/** Computes FLOPs, time, money, energy and CO2 of one training run; see the module doc for the formulas. */
export function estimateCompute(inputs: ComputeInputs): ComputeEstimate {
  check('tokens', inputs.tokens);
  check('params', inputs.params);
  check('mfu', inputs.mfu, { max: 1 });
  check('gpus', inputs.gpus, { integer: true });
  check('peakFlops', inputs.peakFlops);
  check('powerW', inputs.powerW);
  check('pue', inputs.pue, { min: 0.999999 });
  if (inputs.pricePerGpuHour !== undefined && !(inputs.pricePerGpuHour >= 0)) throw new Error(`pricePerGpuHour must be ≥ 0, got ${inputs.pricePerGpuHour}`);
  if (inputs.carbonKgPerKwh !== undefined && !(inputs.carbonKgPerKwh >= 0)) throw new Error(`carbonKgPerKwh must be ≥ 0, got ${inputs.carbonKgPerKwh}`);
  if (!inputs.model && inputs.params === undefined) throw new Error('give params or a model config');

  const assumptions: Assumption[] = [];
  let params: number;
  let flops6ND: number;
  let flopsAttention = 0;
  if (inputs.model) {
    const counts = countParams(inputs.model);
    params = counts.total;
    const fpt = flopsPerToken(inputs.model);
    flops6ND = fpt.dense * inputs.tokens;
    flopsAttention = fpt.attention * inputs.tokens;
    assumptions.push({ key: 'flops', value: '6·N_matmul·D + 12·L·T·d·D', source: 'exact count of the model config; attention per PaLM appendix B' });
  } else {
    params = inputs.params!;
    flops6ND = 6 * params * inputs.tokens;
    assumptions.push({ key: 'flops', value: '6·N·D', source: 'forward 2 + backward 4 FLOPs per parameter per token (Kaplan et al. 2020)' });
  }
  const flops = flops6ND + flopsAttention;

  const acc = inputs.peakFlops !== undefined && inputs.accelerator === undefined ? null : lookupAccelerator(inputs.accelerator ?? 'h100-sxm');
  const peakFlops = inputs.peakFlops ?? acc!.peakFlops;
  assumptions.push({ key: 'peakFlops', value: peakFlops, source: inputs.peakFlops !== undefined ? 'given' : `${acc!.name}: ${acc!.note} (${acc!.source})` });
  const mfu = inputs.mfu ?? DEFAULT_MFU;
  assumptions.push({ key: 'mfu', value: mfu, source: inputs.mfu !== undefined ? 'given' : 'default: ~40% is what large dense bf16 runs report (Llama 3: 38–43%)' });
  const gpus = inputs.gpus ?? 1;
  assumptions.push({ key: 'gpus', value: gpus, source: inputs.gpus !== undefined ? 'given' : 'default' });
  const pricePerGpuHour = inputs.pricePerGpuHour ?? DEFAULT_PRICE;
  assumptions.push({ key: 'pricePerGpuHour', value: pricePerGpuHour, source: inputs.pricePerGpuHour !== undefined ? 'given' : 'default: typical 2024–25 H100 rental, US$/GPU-hour' });

  assumptions.push({ key: 'wallClock', value: 'GPU-hours / GPUs', source: 'perfect data parallelism, no restarts or idle time: a lower bound' });
  const gpuHours = flops / (peakFlops * mfu) / 3600;
  const wallDays = gpuHours / gpus / 24;
  const computeUsd = gpuHours * pricePerGpuHour;

  const powerW = inputs.powerW ?? acc?.powerW ?? null;
  assumptions.push({ key: 'powerW', value: powerW ?? 'unknown', source: inputs.powerW !== undefined ? 'given' : powerW !== null ? `board power of ${acc!.name} (GPU only)` : 'no published per-chip power: pass powerW' });
  const pue = inputs.pue ?? DEFAULT_PUE;
  assumptions.push({ key: 'pue', value: pue, source: inputs.pue !== undefined ? 'given' : "default: Google's fleet-wide PUE ~1.10" });
  const carbonKgPerKwh = inputs.carbonKgPerKwh ?? DEFAULT_CARBON;
  assumptions.push({ key: 'carbonKgPerKwh', value: carbonKgPerKwh, source: inputs.carbonKgPerKwh !== undefined ? 'given' : 'default: 2023 world average, Ember Global Electricity Review 2024' });
  const energyMwh = powerW === null ? null : (gpuHours * powerW * pue) / 1e6;
  const co2Tonnes = energyMwh === null ? null : energyMwh * carbonKgPerKwh; // MWh × kg/kWh = t

  const staffUsd = staffCost(inputs.staff, computeUsd, wallDays, assumptions);
  return {
    params,
    tokens: inputs.tokens,
    flops,
    flops6ND,
    flopsAttention,
    accelerator: acc ? { id: acc.id, name: acc.name, source: acc.source } : null,
    peakFlops,
    mfu,
    gpus,
    gpuHours,
    wallDays,
    wallMonths: wallDays / 30.44,
    pricePerGpuHour,
    computeUsd,
    powerW,
    pue,
    energyMwh,
    carbonKgPerKwh,
    co2Tonnes,
    staffUsd,
    totalUsd: computeUsd + staffUsd,
    assumptions,
  };
}

function staffCost(staff: StaffInput | undefined, computeUsd: number, wallDays: number, assumptions: Assumption[]): number {
  if (!staff) return 0;
  switch (staff.kind) {
    case 'amount':
      if (!(staff.usd >= 0)) throw new Error(`staff amount must be ≥ 0, got ${staff.usd}`);
      assumptions.push({ key: 'staff', value: staff.usd, source: 'given amount, US$' });
      return staff.usd;
    case 'headcount': {
      check('staff people', staff.people);
      check('staff usdPerYear', staff.usdPerYear);
      check('staff months', staff.months);
      const months = staff.months ?? wallDays / 30.44;
      assumptions.push({ key: 'staff', value: `${staff.people} people × $${staff.usdPerYear}/year × ${months.toFixed(2)} months`, source: staff.months !== undefined ? 'given' : 'months default to the wall-clock training time' });
      return (staff.people * staff.usdPerYear * months) / 12;
    }
    case 'share':
      if (!(staff.share >= 0 && staff.share < 1)) throw new Error(`staff share must be in [0, 1), got ${staff.share}`);
      assumptions.push({ key: 'staffShare', value: staff.share, source: 'share of total cost; Epoch AI (Cottier et al. 2024, arXiv:2405.21015): R&D staff incl. equity is 29–49% of amortised frontier-model cost' });
      return (computeUsd * staff.share) / (1 - staff.share);
    default: {
      const never: never = staff;
      throw new Error(`unknown staff input ${JSON.stringify(never)}`);
    }
  }
}

/** One row of a sensitivity table: one assumption changed, everything else at its base value. */
export interface SensitivityRow {
  assumption: string;
  value: string;
  gpuHours: number;
  wallDays: number;
  computeUsd: number;
  totalUsd: number;
  co2Tonnes: number | null;
  /** totalUsd relative to the base case, e.g. +0.25 = 25% more. */
  deltaTotal: number;
  /** wallDays relative to the base case. */
  deltaDays: number;
}

/**
 * How each assumption moves the result: MFU 0.30/0.50 (±25% of 0.40, the range large runs report),
 * price ×0.5/×1.5, GPU count ×0.5/×2 (time only, at equal MFU), PUE 1.0/1.5, carbon intensity
 * 0.05/0.8 kg/kWh (hydro/nuclear vs coal-heavy grids), and staff at none and at the low/high end of its range (Epoch AI: 29–49%), or ×0.5/×2.
 * The first row is the base case.
 */
export function sensitivity(inputs: ComputeInputs): SensitivityRow[] {
  const base = estimateCompute(inputs);
  const row = (assumption: string, value: string, changed: Partial<ComputeInputs>): SensitivityRow => {
    const e = estimateCompute({ ...inputs, ...changed });
    return {
      assumption,
      value,
      gpuHours: e.gpuHours,
      wallDays: e.wallDays,
      computeUsd: e.computeUsd,
      totalUsd: e.totalUsd,
      co2Tonnes: e.co2Tonnes,
      deltaTotal: base.totalUsd > 0 ? e.totalUsd / base.totalUsd - 1 : 0,
      deltaDays: e.wallDays / base.wallDays - 1,
    };
  };
  const rows: SensitivityRow[] = [row('base', 'as given', {})];
  for (const mfu of [base.mfu * 0.75, Math.min(1, base.mfu * 1.25)]) rows.push(row('mfu', mfu.toFixed(2), { mfu }));
  for (const f of [0.5, 1.5]) rows.push(row('pricePerGpuHour', `$${(base.pricePerGpuHour * f).toFixed(2)}`, { pricePerGpuHour: base.pricePerGpuHour * f }));
  for (const f of [0.5, 2]) {
    const gpus = Math.max(1, Math.round(base.gpus * f));
    if (gpus !== base.gpus) rows.push(row('gpus', String(gpus), { gpus }));
  }
  for (const pue of [1.0, 1.5]) rows.push(row('pue', pue.toFixed(2), { pue }));
  for (const c of [0.05, 0.8]) rows.push(row('carbonKgPerKwh', c.toFixed(2), { carbonKgPerKwh: c }));
  const s = inputs.staff;
  if (s) {
    switch (s.kind) {
      case 'share':
        for (const share of [0, 0.29, 0.49].filter((v) => v !== s.share)) rows.push(row('staffShare', share.toFixed(2), { staff: { kind: 'share', share } }));
        break;
      case 'amount':
        for (const f of [0.5, 2]) rows.push(row('staff', `$${fmtMoneyShort(s.usd * f)}`, { staff: { kind: 'amount', usd: s.usd * f } }));
        break;
      case 'headcount':
        for (const f of [0.5, 2]) rows.push(row('staff people', String(s.people * f), { staff: { ...s, people: s.people * f } }));
        break;
      default: {
        const never: never = s;
        throw new Error(`unknown staff input ${JSON.stringify(never)}`);
      }
    }
  }
  return rows;
}

function fmtMoneyShort(v: number): string {
  return v >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)}k` : v.toFixed(0);
}
