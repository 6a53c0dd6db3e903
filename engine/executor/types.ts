/** The executor contract: run the given tasks of one stage, reporting progress as they go. */

/** One stage's pending tasks, as the runner hands them to an executor. */
export interface StageJob {
  /** Absolute path of the pipeline file. */
  file: string;
  workdir: string;
  baseDir: string;
  stage: string;
  /** URI of the stage's output directory. */
  stageDir: string;
  /** Task indices still to run. */
  tasks: number[];
  /** Total task count of the stage. */
  taskCount: number;
  /** Attempts per task, in all. */
  retries: number;
  /** Fingerprints of this stage and its upstream, as the runner computed them. */
  fingerprints: Record<string, string>;
}

/** Callbacks from an executor to the runner's progress display. */
export interface ExecutorEvents {
  progress(stage: string, docs: number, bytes: number): void;
  total(stage: string, index: number, bytes: number): void;
  note(stage: string, text: string): void;
  taskDone(stage: string, index: number, skipped: boolean): void;
  log(message: string): void;
}

/** Runs stage jobs; `local` (worker processes) and `slurm` (sbatch job arrays) implement it. */
export interface Executor {
  runStage(job: StageJob, events: ExecutorEvents): Promise<void>;
  close(): Promise<void>;
}
