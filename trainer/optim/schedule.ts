/**
 * The learning-rate schedule: linear warmup over `warmupSteps` (step s gets lr·(s+1)/warmup),
 * then cosine decay from lr to `minLrRatio`·lr at the last step, or constant. `step` is the
 * 0-based index of the optimizer step about to be taken. trainer/torch/train.py `lr_at` is the
 * same function.
 */
import type { ScheduleConfig } from '../api.ts';

export type FullSchedule = Required<ScheduleConfig>;

/** Defaults: warmup = 10% of the steps (at most 1000), cosine to 0.1·lr. */
export function fullSchedule(s: ScheduleConfig | undefined, steps: number): FullSchedule {
  const out: FullSchedule = {
    warmupSteps: s?.warmupSteps ?? Math.min(1000, Math.max(1, Math.floor(steps / 10))),
    minLrRatio: s?.minLrRatio ?? 0.1,
    decay: s?.decay ?? 'cosine',
  };
  if (!Number.isInteger(out.warmupSteps) || out.warmupSteps < 0) throw new Error(`trainer: schedule.warmupSteps must be a non-negative integer, got ${out.warmupSteps}`);
  if (!(out.minLrRatio >= 0 && out.minLrRatio <= 1)) throw new Error(`trainer: schedule.minLrRatio must be in [0, 1], got ${out.minLrRatio}`);
  if (out.decay !== 'cosine' && out.decay !== 'constant') throw new Error(`trainer: schedule.decay must be 'cosine' or 'constant', got ${JSON.stringify(out.decay)}`);
  return out;
}

/** The learning rate of optimizer step `step` (0-based) of `steps`. */
export function learningRate(step: number, lr: number, s: FullSchedule, steps: number): number {
  if (step < s.warmupSteps) return (lr * (step + 1)) / s.warmupSteps;
  switch (s.decay) {
    case 'constant':
      return lr;
    case 'cosine': {
      const progress = Math.min(1, (step - s.warmupSteps) / Math.max(1, steps - s.warmupSteps));
      const floor = lr * s.minLrRatio;
      return floor + 0.5 * (1 + Math.cos(Math.PI * progress)) * (lr - floor);
    }
    default: {
      const never: never = s.decay;
      throw new Error(`trainer: unknown decay ${String(never)}`);
    }
  }
}
