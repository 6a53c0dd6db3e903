/**
 * DPO metrics: one `dpo` line per logged step (loss, chosen and rejected rewards, reward margin,
 * reward accuracy, lr, gradient norm, throughput) and one `dpo-eval` line per evaluation of the
 * held-out pairs (step 0 is the model before training). Both backends write the same lines; the
 * log survives a resume through the checkpoint.
 */
import { metricsFields, RecordLog, shortRate } from '../metrics.ts';

/** Means over a set of pairs (see trainer/dpo/loss.ts for rewards and the accuracy's ½ for ties). */
export interface RewardFigures {
  loss: number;
  chosenReward: number;
  rejectedReward: number;
  rewardMargin: number;
  rewardAccuracy: number;
}

/** One line of a DPO run's `metrics.jsonl`. */
export type DpoMetricsRecord =
  | ({
      kind: 'dpo';
      step: number;
      lr: number;
      /** Global gradient L2 norm before clipping. */
      gradNorm: number;
      /** Pairs trained on so far. */
      pairs: number;
      /** Sequence positions (padding included) processed so far. */
      tokens: number;
      tokensPerSecond: number;
      elapsedSeconds: number;
    } & RewardFigures)
  | ({ kind: 'dpo-eval'; step: number; pairs: number; elapsedSeconds: number } & RewardFigures);

/** Checks a parsed metrics line; an error names `where` and the bad key. */
export function parseDpoRecord(value: unknown, where: string): DpoMetricsRecord {
  const { o, num } = metricsFields(value, where);
  const figures: RewardFigures = { loss: num('loss'), chosenReward: num('chosenReward'), rejectedReward: num('rejectedReward'), rewardMargin: num('rewardMargin'), rewardAccuracy: num('rewardAccuracy') };
  switch (o.kind) {
    case 'dpo':
      return { kind: 'dpo', step: num('step'), ...figures, lr: num('lr'), gradNorm: num('gradNorm'), pairs: num('pairs'), tokens: num('tokens'), tokensPerSecond: num('tokensPerSecond'), elapsedSeconds: num('elapsedSeconds') };
    case 'dpo-eval':
      return { kind: 'dpo-eval', step: num('step'), ...figures, pairs: num('pairs'), elapsedSeconds: num('elapsedSeconds') };
    default:
      throw new Error(`${where}: DPO metrics record kind must be 'dpo' or 'dpo-eval', got ${JSON.stringify(o.kind)}`);
  }
}

/** The records of a run in order. */
export class DpoMetricsLog extends RecordLog<DpoMetricsRecord> {
  constructor(onRecord?: (r: DpoMetricsRecord) => void) {
    super(parseDpoRecord, onRecord);
  }

  get train(): Extract<DpoMetricsRecord, { kind: 'dpo' }>[] {
    return this.records.filter((r): r is Extract<DpoMetricsRecord, { kind: 'dpo' }> => r.kind === 'dpo');
  }
  get evals(): Extract<DpoMetricsRecord, { kind: 'dpo-eval' }>[] {
    return this.records.filter((r): r is Extract<DpoMetricsRecord, { kind: 'dpo-eval' }> => r.kind === 'dpo-eval');
  }
}

/** The progress-bar note: `step 12/100 loss 0.681 margin 0.031 acc 0.62 | 1.2k tok/s`. */
export function dpoProgressNote(r: DpoMetricsRecord, steps: number): string {
  switch (r.kind) {
    case 'dpo': {
      const tps = shortRate(r.tokensPerSecond);
      return `step ${r.step}/${steps} loss ${r.loss.toFixed(3)} margin ${r.rewardMargin.toFixed(3)} acc ${r.rewardAccuracy.toFixed(2)} | ${tps} tok/s`;
    }
    case 'dpo-eval':
      return `step ${r.step}/${steps} held-out loss ${r.loss.toFixed(3)} reward accuracy ${r.rewardAccuracy.toFixed(3)}`;
    default: {
      const never: never = r;
      return String(never);
    }
  }
}
