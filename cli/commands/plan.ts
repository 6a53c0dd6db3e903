/** `sluice plan`: FLOPs, GPU-hours, days, cost, energy, CO2 and expected loss of a training run. */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { parse } from '../args.ts';
import { storage } from '../../engine/storage/index.ts';
import type { ModelConfig } from '../../formats/model.ts';
import { ACCELERATORS } from '../../plan/accelerators.ts';
import { readSweep, type FittedLaws } from '../../plan/analysis.ts';
import { BESIROGLU, HOFFMANN, type ParametricLaw } from '../../plan/chinchilla.ts';
import type { StaffInput } from '../../plan/compute.ts';
import { fmtCount, fmtDays, fmtEnergy, fmtPct, fmtSci, fmtTonnes, fmtUsd, parseQuantity, textTable } from '../../plan/format.ts';
import { countParams } from '../../formats/model.ts';
import { plan, type PlanInputs, type PlanResult } from '../../plan/plan.ts';

const OPTIONS = {
  params: { type: 'string' },
  tokens: { type: 'string' },
  model: { type: 'string' },
  layers: { type: 'string' },
  'd-model': { type: 'string' },
  heads: { type: 'string' },
  vocab: { type: 'string' },
  context: { type: 'string' },
  'mlp-ratio': { type: 'string' },
  untied: { type: 'boolean' },
  rotary: { type: 'boolean' },
  'no-bias': { type: 'boolean' },
  budget: { type: 'string' },
  'budget-usd': { type: 'string' },
  allocate: { type: 'string' },
  'tokens-per-param': { type: 'string' },
  accelerator: { type: 'string' },
  'peak-flops': { type: 'string' },
  mfu: { type: 'string' },
  gpus: { type: 'string' },
  price: { type: 'string' },
  power: { type: 'string' },
  pue: { type: 'string' },
  carbon: { type: 'string' },
  'staff-usd': { type: 'string' },
  'staff-share': { type: 'string' },
  staff: { type: 'string' },
  'staff-cost-year': { type: 'string' },
  'staff-months': { type: 'string' },
  law: { type: 'string' },
  fit: { type: 'string' },
  json: { type: 'boolean' },
  accelerators: { type: 'boolean' },
} as const;

function num(values: Record<string, unknown>, key: string): number | undefined {
  const v = values[key];
  if (v === undefined) return undefined;
  try {
    return parseQuantity(String(v), `--${key}`);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function modelFrom(values: Record<string, unknown>): ModelConfig | undefined {
  if (values.model !== undefined) {
    const text = String(values.model);
    let raw: unknown;
    try {
      raw = JSON.parse(text.trim().startsWith('{') ? text : existsSync(text) ? readFileSync(text, 'utf8') : (() => { throw new Error(`no such file '${text}'`); })());
    } catch (e) {
      throw new UsageError(`--model: ${(e as Error).message} (give a JSON file or inline JSON of the trainer's ModelConfig)`);
    }
    return raw as ModelConfig;
  }
  const shape = ['layers', 'd-model', 'heads', 'vocab', 'context'];
  const given = shape.filter((k) => values[k] !== undefined);
  if (given.length === 0) return undefined;
  const missing = shape.filter((k) => values[k] === undefined);
  if (missing.length) throw new UsageError(`a model shape needs --${shape.join(', --')}: missing --${missing.join(', --')}`);
  const m: ModelConfig = {
    layers: num(values, 'layers')!,
    dModel: num(values, 'd-model')!,
    heads: num(values, 'heads')!,
    vocabSize: num(values, 'vocab')!,
    contextLength: num(values, 'context')!,
    tiedHead: !values.untied,
    positions: values.rotary ? 'rotary' : 'learned',
    bias: !values['no-bias'],
  };
  const ratio = num(values, 'mlp-ratio');
  if (ratio !== undefined) m.mlpRatio = ratio;
  return m;
}

function staffFrom(values: Record<string, unknown>): StaffInput | undefined {
  const usd = num(values, 'staff-usd');
  const share = num(values, 'staff-share');
  const people = num(values, 'staff');
  const count = [usd, share, people].filter((v) => v !== undefined).length;
  if (count > 1) throw new UsageError('give one of --staff-usd, --staff-share, --staff (with --staff-cost-year)');
  if (usd !== undefined) return { kind: 'amount', usd };
  if (share !== undefined) return { kind: 'share', share };
  if (people !== undefined) {
    const usdPerYear = num(values, 'staff-cost-year');
    if (usdPerYear === undefined) throw new UsageError('--staff needs --staff-cost-year (loaded US$ per person-year)');
    const months = num(values, 'staff-months');
    return months === undefined ? { kind: 'headcount', people, usdPerYear } : { kind: 'headcount', people, usdPerYear, months };
  }
  if (values['staff-cost-year'] !== undefined || values['staff-months'] !== undefined) throw new UsageError('--staff-cost-year and --staff-months go with --staff <people>');
  return undefined;
}

/** Renders a plan as the readable report `sluice plan` prints. */
export function formatPlan(r: PlanResult, fitted?: FittedLaws): string {
  const c = r.compute;
  const lines: string[] = [];
  const kv = (k: string, v: string) => lines.push(`  ${k.padEnd(16)} ${v}`);
  lines.push('Training run');
  const how: Record<PlanResult['mode'], string> = {
    given: 'given',
    'budget-rule': `budget split at ${fmtCount(r.optimal.ruleOfThumb.tokensPerParam)} tokens/parameter`,
    'budget-law': `budget split at the optimum of ${r.law.source}`,
    'budget-with-params': 'tokens = budget / FLOPs per token',
    'budget-with-tokens': 'parameters = budget / (6·D)',
  };
  kv('parameters', `${fmtCount(c.params)} (${how[r.mode]})`);
  kv('tokens', `${fmtCount(c.tokens)} (${fmtCount(c.tokens / c.params)} per parameter)`);
  kv('FLOPs', c.flopsAttention > 0 ? `${fmtSci(c.flops)} (6·N·D ${fmtSci(c.flops6ND)} + attention ${fmtSci(c.flopsAttention)})` : `${fmtSci(c.flops)} (6·N·D)`);
  kv('accelerator', c.accelerator ? `${c.accelerator.name}, ${fmtCount(c.peakFlops / 1e12)} TFLOP/s dense bf16` : `${fmtCount(c.peakFlops / 1e12)} TFLOP/s peak (given)`);
  kv('MFU', c.mfu.toFixed(2));
  kv('GPUs', c.gpus.toLocaleString('en-US'));
  kv('GPU-hours', fmtCount(c.gpuHours));
  kv('wall-clock', fmtDays(c.wallDays));
  kv('compute cost', `${fmtUsd(c.computeUsd)} at $${c.pricePerGpuHour}/GPU-hour`);
  if (c.energyMwh !== null) {
    kv('energy', `${fmtEnergy(c.energyMwh)} (${c.powerW} W/GPU board power, PUE ${c.pue})`);
    kv('CO2', `${fmtTonnes(c.co2Tonnes!)} CO2e at ${c.carbonKgPerKwh} kg/kWh`);
  } else kv('energy', 'unknown: no power figure for this accelerator (give --power W)');
  if (c.staffUsd > 0) kv('staff', `${fmtUsd(c.staffUsd)} (${Math.round((100 * c.staffUsd) / c.totalUsd)}% of total)`);
  kv('total', fmtUsd(c.totalUsd));
  lines.push('');
  lines.push(`Loss (${r.law.source})`);
  kv('L(N, D)', `${r.predictedLoss.toFixed(4)} nats/token`);
  if (r.predictedLossFromCompute !== null) kv('L(C)', `${r.predictedLossFromCompute.toFixed(4)} nats/token (fitted L(C) at 6·N·D)`);
  const o = r.optimal;
  lines.push(`  same compute, ${fmtCount(o.ruleOfThumb.tokensPerParam)} tokens/param: N ${fmtCount(o.ruleOfThumb.params)}, D ${fmtCount(o.ruleOfThumb.tokens)}, L ${o.ruleOfThumb.loss.toFixed(4)}`);
  lines.push(`  same compute, law optimum:   N ${fmtCount(o.law.params)}, D ${fmtCount(o.law.tokens)} (${fmtCount(o.law.tokensPerParam)} tokens/param), L ${o.law.loss.toFixed(4)}`);
  if (fitted) {
    lines.push(`  fitted on N = ${fitted.paramsKind === 'total' ? 'all' : 'non-embedding'} parameters: give N the same way`);
    for (const n of fitted.notes) lines.push(`  warning: ${n}`);
  }
  lines.push('');
  lines.push('Sensitivity (one assumption changed at a time)');
  const rows = [['assumption', 'value', 'GPU-hours', 'days', 'compute', 'total', 'Δ total', 'Δ days', 'CO2']];
  for (const s of r.sensitivity) rows.push([s.assumption, s.value, fmtCount(s.gpuHours), s.wallDays.toPrecision(3), fmtUsd(s.computeUsd), fmtUsd(s.totalUsd), fmtPct(s.deltaTotal), fmtPct(s.deltaDays), s.co2Tonnes === null ? '—' : fmtTonnes(s.co2Tonnes)]);
  lines.push(textTable(rows).split('\n').map((l) => `  ${l}`).join('\n'));
  lines.push('');
  lines.push('Assumptions');
  for (const a of c.assumptions) lines.push(`  ${a.key} = ${typeof a.value === 'number' ? (a.value >= 1e6 ? fmtSci(a.value) : String(a.value)) : a.value}: ${a.source}`);
  return lines.join('\n') + '\n';
}

function listAccelerators(): string {
  const rows = [['id', 'name', 'TFLOP/s bf16', 'watts', 'source']];
  for (const a of ACCELERATORS) rows.push([a.id, a.name, String(+(a.peakFlops / 1e12).toFixed(2)), a.powerW === undefined ? '—' : String(a.powerW), a.source]);
  return textTable(rows) + '\n';
}

export const planCommand: Command = {
  usage: `sluice plan (--params N | --model CONFIG | --layers L --d-model D --heads H --vocab V --context T) --tokens D [options]
sluice plan --budget FLOPS | --budget-usd USD [--params N | --tokens D] [options]
sluice plan --accelerators

Model and data
  --params N             parameter count (405B, 124M, 7e9)
  --model CONFIG         trainer ModelConfig as a JSON file or inline JSON: counted exactly, attention FLOPs added
  --layers/--d-model/--heads/--vocab/--context, --mlp-ratio R (4), --untied, --rotary, --no-bias
  --tokens D             training tokens (15.6T)
  --budget FLOPS         compute budget; alone: N and D are allocated (see --allocate)
  --budget-usd USD       budget as money, turned into FLOPs at --price, --mfu and the accelerator's peak
  --allocate rule|law    split of a budget: 20 tokens/param (default) or the law's optimum (default with --fit)
  --tokens-per-param R   tokens per parameter of the rule (20)
Hardware and money
  --accelerator ID       h100 (default), a100, h200, b200, mi300x, tpu-v5p, … (--accelerators lists them)
  --peak-flops F         dense peak FLOP/s per GPU, instead of the table
  --mfu F                model FLOPs utilisation (0.40)
  --gpus N               number of GPUs (1)
  --price USD            per GPU-hour (2)
  --power W              watts per GPU (the accelerator's board power)
  --pue F                power usage effectiveness (1.1)
  --carbon KG            kg CO2e per kWh (0.48, world average 2023)
  --staff-usd USD | --staff-share F | --staff N --staff-cost-year USD [--staff-months M]
Loss law
  --law hoffmann|besiroglu   published L(N, D) (hoffmann: E 1.69, A 406.4, B 410.7, α 0.34, β 0.28)
  --fit DIR              use the fitted laws of a scaling.sweep output (DIR/sweep.json; local or s3://)
Output
  --json                 machine-readable result

Examples
  sluice plan --params 405B --tokens 15.6T --gpus 16384 --mfu 0.4 --price 2 --staff-share 0.29
  sluice plan --budget 1e21 --accelerator a100 --gpus 8
  sluice plan --layers 12 --d-model 768 --heads 12 --vocab 50257 --context 1024 --tokens 10B
  sluice plan --params 50M --tokens 1B --fit work/sweep/<fingerprint>`,
  async run(argv) {
    const { values, positionals } = parse(argv, OPTIONS);
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (values.accelerators) {
      process.stdout.write(values.json ? JSON.stringify(ACCELERATORS, null, 1) + '\n' : listAccelerators());
      return 0;
    }
    if (values.model !== undefined && values.params !== undefined) throw new UsageError('give --params or a model config, not both');
    if (values.fit !== undefined && values.law !== undefined) throw new UsageError('give --law or --fit, not both');
    const model = modelFrom(values);
    let law: ParametricLaw = HOFFMANN;
    if (values.law !== undefined) {
      const l = values.law.toLowerCase();
      if (l === 'hoffmann') law = HOFFMANN;
      else if (l === 'besiroglu') law = BESIROGLU;
      else throw new UsageError(`--law must be hoffmann or besiroglu, got '${values.law}'`);
    }
    let fitted: FittedLaws | undefined;
    const inputs: PlanInputs = {};
    if (values.fit !== undefined) {
      fitted = (await readSweep(values.fit, storage)).laws;
      if (!fitted.parametric) throw new Error(`--fit: the sweep has no fitted L(N, D): ${fitted.notes.join('; ')}`);
      law = fitted.parametric;
      if (fitted.compute) inputs.computeLaw = fitted.compute;
    }
    if (values.allocate !== undefined && values.allocate !== 'rule' && values.allocate !== 'law') throw new UsageError(`--allocate must be rule or law, got '${values.allocate}'`);
    const set = <K extends keyof PlanInputs>(k: K, v: PlanInputs[K] | undefined) => {
      if (v !== undefined) inputs[k] = v;
    };
    set('params', num(values, 'params'));
    set('tokens', num(values, 'tokens'));
    set('model', model);
    set('budgetFlops', num(values, 'budget'));
    set('budgetUsd', num(values, 'budget-usd'));
    set('allocate', (values.allocate as 'rule' | 'law' | undefined) ?? (fitted ? 'law' : undefined));
    set('tokensPerParam', num(values, 'tokens-per-param'));
    set('accelerator', values.accelerator);
    set('peakFlops', num(values, 'peak-flops'));
    set('mfu', num(values, 'mfu'));
    set('gpus', num(values, 'gpus'));
    set('pricePerGpuHour', num(values, 'price'));
    set('powerW', num(values, 'power'));
    set('pue', num(values, 'pue'));
    set('carbonKgPerKwh', num(values, 'carbon'));
    set('staff', staffFrom(values));
    inputs.law = law;
    let result: PlanResult;
    try {
      result = plan(inputs);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (values.json) {
      const out: Record<string, unknown> = { ...result };
      if (model) out.paramCounts = countParams(model);
      if (fitted) out.fit = { file: values.fit, paramsKind: fitted.paramsKind, notes: fitted.notes };
      process.stdout.write(JSON.stringify(out, null, 1) + '\n');
    } else {
      process.stdout.write(formatPlan(result, fitted));
    }
    return 0;
  },
};
