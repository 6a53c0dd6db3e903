/**
 * Run progress: on a TTY, one live bar per stage (tasks, docs/s, MB/s, ETA, last note), redrawn
 * five times a second on stderr; otherwise plain log lines every 10 s and at each stage's end,
 * so CI and Slurm logs stay readable.
 */
import type { ExecutorEvents } from './executor/types.ts';

interface StageProgress {
  name: string;
  tasks: number;
  tasksDone: number;
  docs: number;
  bytes: number;
  totals: Map<number, number>;
  note: string;
  start: number;
  end?: number;
  lastLog: number;
}

function fmtBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

function fmtTime(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

/** Progress display; also the event sink the executors report to. */
export class Progress implements ExecutorEvents {
  private readonly stages = new Map<string, StageProgress>();
  private timer: NodeJS.Timeout | undefined;
  private drawn = 0;

  constructor(
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly mode: 'tty' | 'lines' | 'none' = out.isTTY ? 'tty' : 'lines',
  ) {}

  /** Announces a stage about to run `tasks` tasks (of which `done` already complete). */
  stageStart(name: string, tasks: number, done: number): void {
    const now = performance.now();
    this.stages.set(name, { name, tasks, tasksDone: done, docs: 0, bytes: 0, totals: new Map(), note: '', start: now, lastLog: now });
    if (this.mode === 'tty' && !this.timer) this.timer = setInterval(() => this.draw(), 200);
    if (this.mode === 'lines') this.line(`${name}: running ${tasks - done} of ${tasks} task(s)`);
  }

  /** Marks a stage finished and prints its final line. */
  stageEnd(name: string, summary: string): void {
    const s = this.stages.get(name);
    if (s) s.end = performance.now();
    if (this.mode === 'tty') {
      this.draw();
      this.clear();
      this.stages.delete(name);
      this.out.write(`${summary}\n`);
    } else if (this.mode === 'lines') this.line(summary);
    if (this.mode === 'tty' && ![...this.stages.values()].some((x) => x.end === undefined)) this.stop();
  }

  progress(stage: string, docs: number, bytes: number): void {
    const s = this.stages.get(stage);
    if (!s) return;
    s.docs += docs;
    s.bytes += bytes;
    this.maybeLog(s);
  }
  total(stage: string, index: number, bytes: number): void {
    this.stages.get(stage)?.totals.set(index, bytes);
  }
  note(stage: string, text: string): void {
    const s = this.stages.get(stage);
    if (s) s.note = text;
  }
  taskDone(stage: string, _index: number, _skipped: boolean): void {
    const s = this.stages.get(stage);
    if (s) s.tasksDone++;
  }
  log(message: string): void {
    if (this.mode === 'none') return;
    if (this.mode === 'tty') this.clear();
    this.out.write(`${message}\n`);
  }

  private rate(s: StageProgress): { secs: number; docsPerS: number; mbPerS: number; eta: number } {
    const secs = ((s.end ?? performance.now()) - s.start) / 1000;
    const total = [...s.totals.values()].reduce((a, b) => a + b, 0);
    const frac = total > 0 ? Math.min(1, s.bytes / total) : s.tasks ? s.tasksDone / s.tasks : 0;
    return { secs, docsPerS: s.docs / Math.max(secs, 1e-9), mbPerS: s.bytes / 1e6 / Math.max(secs, 1e-9), eta: frac > 0 ? (secs * (1 - frac)) / frac : NaN };
  }

  private describe(s: StageProgress): string {
    const r = this.rate(s);
    return `${s.tasksDone}/${s.tasks} tasks, ${s.docs.toLocaleString('en-US')} docs, ${fmtBytes(s.bytes)}, ${Math.round(r.docsPerS).toLocaleString('en-US')} docs/s, ${r.mbPerS.toFixed(1)} MB/s, ETA ${fmtTime(r.eta)}${s.note ? ` | ${s.note}` : ''}`;
  }

  private maybeLog(s: StageProgress): void {
    if (this.mode !== 'lines') return;
    const now = performance.now();
    if (now - s.lastLog < 10_000) return;
    s.lastLog = now;
    this.line(`${s.name}: ${this.describe(s)}`);
  }

  private line(text: string): void {
    this.out.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
  }

  private clear(): void {
    if (this.drawn) this.out.write(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    this.clear();
    const width = Math.max(10, Math.min(30, (this.out.columns ?? 100) - 90));
    const lines: string[] = [];
    for (const s of this.stages.values()) {
      const frac = s.tasks ? s.tasksDone / s.tasks : 0;
      const fill = Math.round(frac * width);
      lines.push(`${s.name.padEnd(14)} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${this.describe(s)}`.slice(0, (this.out.columns ?? 200) - 1));
    }
    if (lines.length) this.out.write(lines.join('\n') + '\n');
    this.drawn = lines.length;
  }

  /** Stops redrawing. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
