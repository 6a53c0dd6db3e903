/**
 * What a stage's task files say beyond its manifest: when each task ran (`_timing/<task>.json`;
 * markers and manifests leave timing out so they stay byte-identical across runs) and, for a
 * stage still running, the counts of the tasks completed so far (`_tasks/<task>.json`, the
 * completion markers: the manifest does not exist yet).
 */
import type { OperatorStats } from '../engine/types.ts';
import type { TaskMarker, TaskTiming } from '../engine/task.ts';
import { storage } from '../engine/storage/index.ts';

/** Totals over the completed tasks of one stage. */
export interface MarkerTotals {
  /** Completed tasks read (markers at the stage's fingerprint). */
  tasks: number;
  docsIn: number;
  docsOut: number;
  bytesIn: number;
  bytesOut: number;
  operators: Record<string, OperatorStats>;
  skipped: Record<string, number>;
  /** Files the tasks wrote (paths relative to the stage directory). */
  files: string[];
  /** Seconds during which at least one task ran (union of task intervals); null when no marker is timed. */
  busySeconds: number | null;
  /** Sum of the tasks' own seconds (what the stage cost in worker time); null when no marker is timed. */
  taskSeconds: number | null;
  /** First task start and last task end (ms since the epoch); null when no marker is timed. */
  start: number | null;
  end: number | null;
}

/**
 * The union length of `[start, end)` intervals in seconds: the stage's wall time without the
 * gaps between an interrupted run and its resume (which a first-start → last-end span counts).
 */
export function busySeconds(intervals: Array<[number, number]>): number {
  const sorted = [...intervals].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let lo = -Infinity;
  let hi = -Infinity;
  for (const [a, b] of sorted) {
    if (a > hi) {
      if (hi > lo) total += hi - lo;
      lo = a;
      hi = b;
    } else hi = Math.max(hi, b);
  }
  if (hi > lo) total += hi - lo;
  return total / 1000;
}

/** Reads the markers under `<stageDir>/_tasks/` at `fingerprint` and sums them. */
export async function readMarkerTotals(stageDir: string, fingerprint: string): Promise<MarkerTotals> {
  const t: MarkerTotals = { tasks: 0, docsIn: 0, docsOut: 0, bytesIn: 0, bytesOut: 0, operators: {}, skipped: {}, files: [], busySeconds: null, taskSeconds: null, start: null, end: null };
  const entries = (await storage.list(storage.join(stageDir, '_tasks')).catch(() => [])).filter((e) => /\/\d{5}\.json$/.test(e.uri));
  const done = new Set<number>();
  for (const e of entries) {
    let m: TaskMarker;
    try {
      m = await storage.readJson<TaskMarker>(e.uri);
    } catch {
      continue; // a marker being replaced right now; the next refresh reads it
    }
    if (m.fingerprint !== fingerprint) continue;
    t.tasks++;
    t.docsIn += m.stats.docsIn;
    t.docsOut += m.stats.docsOut;
    t.bytesIn += m.stats.bytesIn;
    t.bytesOut += m.stats.bytesOut;
    for (const [op, s] of Object.entries(m.stats.operators)) {
      const o = (t.operators[op] ??= { docsIn: 0, docsOut: 0, bytesIn: 0, bytesOut: 0, drops: {} });
      o.docsIn += s.docsIn;
      o.docsOut += s.docsOut;
      o.bytesIn += s.bytesIn;
      o.bytesOut += s.bytesOut;
      for (const [r, n] of Object.entries(s.drops)) o.drops[r] = (o.drops[r] ?? 0) + n;
    }
    for (const [r, n] of Object.entries(m.stats.skipped)) t.skipped[r] = (t.skipped[r] ?? 0) + n;
    t.files.push(...m.files.map((f) => f.path));
    done.add(m.task);
  }
  const intervals: Array<[number, number]> = [];
  let taskSeconds = 0;
  for (const e of await storage.list(storage.join(stageDir, '_timing')).catch(() => [])) {
    if (!/\/\d{5}\.json$/.test(e.uri)) continue;
    const m = await storage.readJson<TaskTiming>(e.uri).catch(() => null);
    // Only completed tasks count: a timing file whose marker is missing was a killed attempt.
    const start = m ? Date.parse(m.started) : NaN;
    if (!m || !done.has(m.task) || !Number.isFinite(start) || typeof m.seconds !== 'number') continue;
    intervals.push([start, start + m.seconds * 1000]);
    taskSeconds += m.seconds;
  }
  if (intervals.length) {
    t.busySeconds = busySeconds(intervals);
    t.taskSeconds = taskSeconds;
    t.start = Math.min(...intervals.map((i) => i[0]));
    t.end = Math.max(...intervals.map((i) => i[1]));
  }
  return t;
}
