/**
 * The planner's public surface: `scaling` (the sweep stage, the fitters and the published laws)
 * and `plan` (FLOPs, time, cost, energy and loss of one run), both exported from 'sluice'.
 */
import { analyzeRuns, readSweep } from './analysis.ts';
import { allocateParametric, allocateRuleOfThumb, BESIROGLU, HOFFMANN, predictLoss } from './chinchilla.ts';
import { bootstrap, fitComputeLaw, fitParametricLaw, predictComputeLaw } from './fit.ts';
import { countParams, flopsPerToken } from '../formats/model.ts';
import { sweep } from './sweep.ts';

/** Scaling laws: `scaling.sweep(shards, options)` stage, fitters, published laws, allocation. */
export const scaling = {
  sweep,
  fitComputeLaw,
  fitParametricLaw,
  bootstrap,
  analyzeRuns,
  readSweep,
  predictLoss,
  predictComputeLaw,
  allocateParametric,
  allocateRuleOfThumb,
  countParams,
  flopsPerToken,
  laws: { hoffmann: HOFFMANN, besiroglu: BESIROGLU },
};

export { plan } from './plan.ts';
export { ACCELERATORS, accelerator } from './accelerators.ts';
