/**
 * A local worker process: receives `{ stage, index }` messages over IPC and runs each through
 * `runTask`, the same entry point as `sluice task`. Progress is batched into one message per
 * 200 ms. The worker exits when its parent goes away, so `kill -9` of a run leaves no orphans.
 */
import { loadPipeline } from '../load.ts';
import { Runtime } from '../runtime.ts';
import { runTask } from '../task.ts';

/** Messages from the parent. */
export type ToWorker =
  | { type: 'task'; file: string; workdir: string; baseDir: string; stage: string; index: number; fingerprints: Record<string, string> }
  | { type: 'exit' };

/** Messages to the parent. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; stage: string; index: number; docs: number; bytes: number; total?: number; note?: string }
  | { type: 'log'; message: string }
  | { type: 'done'; stage: string; index: number; skipped: boolean; docsIn: number; docsOut: number }
  | { type: 'failed'; stage: string; index: number; error: string; stack: string };

function send(m: FromWorker): void {
  process.send?.(m);
}

let rt: Runtime | undefined;
let rtKey = '';

process.on('disconnect', () => process.exit(1));
process.on('message', async (m: ToWorker) => {
  switch (m.type) {
    case 'exit':
      process.exit(0);
      break;
    case 'task': {
      let docs = 0;
      let bytes = 0;
      let total: number | undefined;
      let note: string | undefined;
      let last = performance.now();
      const flush = (force = false) => {
        const now = performance.now();
        if (!force && now - last < 200) return;
        last = now;
        if (docs || bytes || total !== undefined || note) send({ type: 'progress', stage: m.stage, index: m.index, docs, bytes, total, note });
        docs = bytes = 0;
        total = note = undefined;
      };
      try {
        const key = `${m.file}\u0000${m.workdir}`;
        if (!rt || rtKey !== key) {
          rt = new Runtime(await loadPipeline(m.file, { checkCaptures: false }), m.workdir, m.baseDir);
          rtKey = key;
        }
        rt.seed(m.fingerprints);
        const r = await runTask(rt, m.stage, m.index, {
          progress: (d, b) => {
            docs += d;
            bytes += b;
            flush();
          },
          total: (b) => {
            total = b;
            flush();
          },
          note: (t) => {
            note = t;
            flush();
          },
          log: (message) => send({ type: 'log', message }),
        });
        flush(true);
        send({ type: 'done', stage: m.stage, index: m.index, skipped: r.skipped, docsIn: r.marker.stats.docsIn, docsOut: r.marker.stats.docsOut });
      } catch (e) {
        flush(true);
        const err = e instanceof Error ? e : new Error(String(e));
        send({ type: 'failed', stage: m.stage, index: m.index, error: err.message, stack: err.stack ?? err.message });
      }
      break;
    }
    default: {
      const never: never = m;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
});
send({ type: 'ready' });
