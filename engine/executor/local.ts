/**
 * The local executor: N worker processes (default: the machine's cores) pull tasks from a
 * queue. A failed task is retried up to `retries` attempts in all; each attempt's error and
 * stack go to `<stageDir>/_logs/<task>.log`. A worker that dies mid-task (crash, OOM kill) is
 * replaced and its task counted as a failed attempt.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { COMPILED, TEST_BUILD, ownEntry } from '../modules/package-root.ts';
import { storage } from '../storage/index.ts';
import { taskId } from '../runtime.ts';
import type { FromWorker, ToWorker } from './worker.ts';
import type { Executor, ExecutorEvents, StageJob } from './types.ts';

// A worker runs the same form of Sluice as this process. Compiled, it starts as plain JavaScript
// (loadPipeline registers tsx when the pipeline is TypeScript); from source, it loads through tsx
// (resolved from this package, so it works from any cwd) and, like the tests, sees 'sluice' as
// the sources. In npm test's compiled copy (TEST_BUILD) it is that copy's plain-JavaScript worker.
const WORKER = ownEntry('engine/executor/worker');
const WORKER_ARGS = COMPILED ? [] : TEST_BUILD ? ['--conditions=sluice-source'] : ['--import', import.meta.resolve('tsx'), '--conditions=sluice-source'];

/** Default worker count: the machine's available parallelism. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

/**
 * How long the first task of a stage runs before more workers are started:
 * `SLUICE_WORKER_RAMP_MS`, default 1000 ms; 0 starts them all at once.
 *
 * Why: a worker costs about 0.45 s of CPU to start (Node, Sluice's API, tsx, the pipeline) before
 * it runs anything. A stage whose tasks all finish within a second on one worker (small inputs,
 * an incremental rerun that skips every task) would pay that again for each extra worker and gain
 * nothing; a real stage, with tasks of many seconds, gets its full parallelism a second later.
 * At 250 ms, 40 of the 94 runs of a test suite still started a second worker: on a busy machine a
 * fresh worker's first task (which loads parquet-wasm and the stage's code) outlasts it.
 */
export function workerRampMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.SLUICE_WORKER_RAMP_MS;
  if (raw === undefined || raw === '') return 1000;
  const ms = Number(raw);
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`SLUICE_WORKER_RAMP_MS must be a number of milliseconds ≥ 0 (got ${JSON.stringify(raw)})`);
  return ms;
}

interface Slot {
  child: ChildProcess;
  ready: boolean;
  busy?: { stage: string; index: number };
  /** The current stage job's handlers; workers are reused across the stages of a run. */
  onMessage?: (slot: Slot, m: FromWorker) => void;
  onExit?: (slot: Slot, code: number | null, signal: string | null) => void;
}

export class LocalExecutor implements Executor {
  private readonly slots: Slot[] = [];

  /**
   * @param workers the most worker processes at once (default: the machine's cores).
   * @param rampMs with no idle worker to reuse, a stage starts one worker, and the others up to
   *   `workers` only if tasks are still queued `rampMs` after its first task began (default
   *   `workerRampMs()`, 1000 ms; 0: all at once).
   */
  constructor(
    readonly workers: number = defaultWorkers(),
    readonly rampMs: number = workerRampMs(),
  ) {
    if (!Number.isInteger(workers) || workers < 1) throw new Error(`--workers must be a positive integer (got ${workers})`);
  }

  private spawn(onMessage: (slot: Slot, m: FromWorker) => void, onExit: (slot: Slot, code: number | null, signal: string | null) => void): Slot {
    const child = fork(WORKER, [], { execArgv: WORKER_ARGS, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    const slot: Slot = { child, ready: false, onMessage, onExit };
    child.on('message', (m: FromWorker) => {
      if (m.type === 'ready') slot.ready = true;
      slot.onMessage?.(slot, m);
    });
    child.on('exit', (code, signal) => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      slot.onExit?.(slot, code, signal);
    });
    return slot;
  }

  async runStage(job: StageJob, events: ExecutorEvents): Promise<void> {
    const queue = [...job.tasks];
    const attempts = new Map<number, string[]>();
    const failed: Array<{ index: number; error: string }> = [];
    const n = Math.min(this.workers, queue.length);
    let running = 0;
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));

    const logUri = (i: number) => storage.join(job.stageDir, '_logs', `${taskId(i)}.log`);
    const recordFailure = async (index: number, error: string, stack: string) => {
      const list = attempts.get(index) ?? [];
      list.push(`attempt ${list.length + 1} failed at ${new Date().toISOString()}:\n${stack}\n`);
      attempts.set(index, list);
      await storage.write(logUri(index), list.join('\n')).catch(() => {});
      if (list.length < job.retries) {
        events.log(`${job.stage}#${index} failed (attempt ${list.length}/${job.retries}): ${error}; retrying`);
        queue.push(index);
      } else {
        events.log(`${job.stage}#${index} failed after ${list.length} attempt(s): ${error}`);
        failed.push({ index, error });
      }
    };

    // Workers started for this stage beyond the first wait for the ramp (see workerRampMs).
    let stageSlots = 0;
    let ramp: NodeJS.Timeout | undefined;
    const grow = () => {
      const more = Math.min(n - stageSlots, queue.length);
      for (let i = 0; i < more; i++) this.slots.push(this.spawn(onMessage, onExit));
      stageSlots += Math.max(0, more);
    };
    const dispatch = (slot: Slot) => {
      const index = queue.shift();
      if (index === undefined) {
        if (running === 0) finish();
        return;
      }
      if (running === 0 && ramp === undefined && stageSlots < n) ramp = setTimeout(grow, this.rampMs);
      slot.busy = { stage: job.stage, index };
      running++;
      const msg: ToWorker = { type: 'task', file: job.file, workdir: job.workdir, baseDir: job.baseDir, stage: job.stage, index, fingerprints: job.fingerprints };
      slot.child.send(msg);
    };

    const onMessage = (slot: Slot, m: FromWorker) => {
      switch (m.type) {
        case 'ready':
          dispatch(slot);
          break;
        case 'progress':
          if (m.total !== undefined) events.total(m.stage, m.index, m.total);
          if (m.docs || m.bytes) events.progress(m.stage, m.docs, m.bytes);
          if (m.note) events.note(m.stage, m.note);
          break;
        case 'log':
          events.log(m.message);
          break;
        case 'done':
          slot.busy = undefined;
          running--;
          events.taskDone(m.stage, m.index, m.skipped);
          dispatch(slot);
          break;
        case 'failed':
          slot.busy = undefined;
          // `running` drops only once the failure is recorded (and any retry queued): another
          // slot finding the queue empty must not end the stage before the failure counts.
          void recordFailure(m.index, m.error, m.stack).then(() => {
            running--;
            dispatch(slot);
            // A retry queued while other slots idle: wake them too.
            for (const s of this.slots) if (!s.busy && s !== slot && queue.length) dispatch(s);
          });
          break;
        default: {
          const never: never = m;
          throw new Error(`unknown worker message ${JSON.stringify(never)}`);
        }
      }
    };

    const onExit = (slot: Slot, code: number | null, signal: string | null) => {
      if (!slot.busy) return;
      const { index } = slot.busy;
      slot.busy = undefined;
      const why = `worker process exited (${signal ? `signal ${signal}` : `code ${code}`}) while running the task`;
      void recordFailure(index, why, why).then(() => {
        running--;
        const fresh = this.spawn(onMessage, onExit);
        this.slots.push(fresh);
      });
    };

    // Idle workers from earlier stages are reused (each loads the pipeline once per run); with
    // none, one is started, and more up to min(workers, tasks) after the ramp or at once (rampMs 0).
    const reuse = this.slots.filter((s) => !s.busy).slice(0, n);
    for (const s of reuse) {
      s.onMessage = onMessage;
      s.onExit = onExit;
    }
    stageSlots = reuse.length;
    const now = this.rampMs === 0 ? n - stageSlots : Math.min(n - stageSlots, stageSlots === 0 ? 1 : 0);
    for (let i = 0; i < now; i++) this.slots.push(this.spawn(onMessage, onExit));
    stageSlots += now;
    if (n === 0) finish();
    for (const s of reuse) if (s.ready) dispatch(s);
    await done;
    clearTimeout(ramp);
    for (const s of this.slots) {
      s.onMessage = undefined;
      s.onExit = undefined;
    }
    if (failed.length) {
      const first = failed.sort((a, b) => a.index - b.index)[0]!;
      throw new Error(
        `stage '${job.stage}': ${failed.length} task(s) failed after ${job.retries} attempt(s); task ${first.index}: ${first.error} (log: ${logUri(first.index)})`,
      );
    }
  }

  async close(): Promise<void> {
    const all = this.slots.splice(0);
    await Promise.all(
      all.map(
        (s) =>
          new Promise<void>((res) => {
            if (s.child.exitCode !== null || s.child.signalCode !== null) return res();
            s.child.once('exit', () => res());
            const m: ToWorker = { type: 'exit' };
            try {
              s.child.send(m);
            } catch {
              s.child.kill();
            }
          }),
      ),
    );
  }
}
