/** Interim: the training loop lands in the next commits (issue 7). */
import type { TrainModelOptions, TrainResult } from './api.ts';

export async function runTraining(_opts: TrainModelOptions): Promise<TrainResult> {
  throw new Error('trainer: trainModel is not implemented yet (issue 7 in progress)');
}
