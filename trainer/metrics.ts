/**
 * Training metrics: the JSON-lines log (`metrics.jsonl`), throughput and MFU, and the short line
 * the progress bar shows. FLOPs per token are 6·N(matmul) + 12·L·T·d (formats/model.ts); MFU is
 * achieved FLOP/s over the backend's measured matmul peak (tfjs: a 1024³ float32 matmul; torch:
 * an 8192³ matmul in the training dtype on CUDA, 512³ float32 on CPU).
 */
import type { MetricsRecord } from './api.ts';

/**
 * A parsed metrics line as an object, and a reader of its numeric keys; an error names `where`
 * and the bad key. JSON.stringify writes a NaN (a diverged loss) as null: it is read back as NaN.
 */
export function metricsFields(value: unknown, where: string): { o: Record<string, unknown>; num(k: string): number } {
  if (typeof value !== 'object' || value === null) throw new Error(`${where}: a metrics record must be an object`);
  const o = value as Record<string, unknown>;
  const num = (k: string): number => {
    const v = o[k];
    if (v === null) return NaN;
    if (typeof v !== 'number') throw new Error(`${where}: metrics record key '${k}' must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  return { o, num };
}

/** Checks a parsed metrics line (the torch subprocess's, or a checkpoint's `metrics.jsonl`); an error names `where` and the bad key. */
export function parseMetricsRecord(value: unknown, where: string): MetricsRecord {
  const { o, num } = metricsFields(value, where);
  switch (o.kind) {
    case 'train':
      return {
        kind: 'train',
        step: num('step'),
        loss: num('loss'),
        lr: num('lr'),
        gradNorm: num('gradNorm'),
        tokens: num('tokens'),
        tokensPerSecond: num('tokensPerSecond'),
        flopsPerToken: num('flopsPerToken'),
        flopsPerSecond: num('flopsPerSecond'),
        mfu: num('mfu'),
        elapsedSeconds: num('elapsedSeconds'),
      };
    case 'val':
      return { kind: 'val', step: num('step'), valLoss: num('valLoss'), tokens: num('tokens'), elapsedSeconds: num('elapsedSeconds') };
    default:
      throw new Error(`${where}: metrics record kind must be 'train' or 'val', got ${JSON.stringify(o.kind)}`);
  }
}

/**
 * The records of a run in order (`metrics.jsonl`), each passed to `onRecord` as it is added; it
 * survives a resume through the checkpoint. `parse` checks one parsed line (it names `where`).
 */
export class RecordLog<R extends { step: number }> {
  readonly records: R[] = [];

  constructor(
    private readonly parse: (value: unknown, where: string) => R,
    private readonly onRecord?: (r: R) => void,
  ) {}

  add(r: R): void {
    this.records.push(r);
    this.onRecord?.(r);
  }

  /** Records up to and including `step`, as JSON lines. */
  jsonl(upToStep = Infinity): string {
    return this.records
      .filter((r) => r.step <= upToStep)
      .map((r) => JSON.stringify(r) + '\n')
      .join('');
  }

  /** Restores records from a checkpoint's JSON lines (malformed lines are an error: the file is ours). */
  load(text: string, source: string): void {
    text.split('\n').forEach((line, i) => {
      if (!line.trim()) return;
      try {
        this.records.push(this.parse(JSON.parse(line), `${source}:${i + 1}`));
      } catch (e) {
        throw new Error(`${source}:${i + 1}: invalid metrics line: ${(e as Error).message}`);
      }
    });
  }
}

/** The metrics of a pre-training or SFT run (`train` and `val` records). */
export class MetricsLog extends RecordLog<MetricsRecord> {
  constructor(onRecord?: (r: MetricsRecord) => void) {
    super(parseMetricsRecord, onRecord);
  }

  get train(): Extract<MetricsRecord, { kind: 'train' }>[] {
    return this.records.filter((r): r is Extract<MetricsRecord, { kind: 'train' }> => r.kind === 'train');
  }
  get val(): Extract<MetricsRecord, { kind: 'val' }>[] {
    return this.records.filter((r): r is Extract<MetricsRecord, { kind: 'val' }> => r.kind === 'val');
  }
}

/**
 * Throughput over intervals, excluding the first `warmupSteps` steps of this process (JIT, wasm
 * compilation, torch.compile) from the run's mean.
 */
export class Throughput {
  private t: number;
  private tokens: number;
  private sumTokens = 0;
  private sumSeconds = 0;
  readonly start: number;

  constructor(
    startTokens: number,
    private readonly warmupUntilStep: number,
  ) {
    this.t = this.start = performance.now();
    this.tokens = startTokens;
  }

  /** Tokens/s since the previous mark; accumulates the steady-state mean after warmup. */
  mark(step: number, tokens: number): number {
    const now = performance.now();
    const sec = (now - this.t) / 1000;
    const tps = sec > 0 ? (tokens - this.tokens) / sec : 0;
    if (step > this.warmupUntilStep) {
      this.sumTokens += tokens - this.tokens;
      this.sumSeconds += sec;
    }
    this.t = now;
    this.tokens = tokens;
    return tps;
  }

  /** Excludes time spent since the last mark (evaluation, checkpoints) from throughput. */
  pause(): void {
    const now = performance.now();
    this.t = now;
  }

  /** Mean tokens/s over the steady-state intervals (falls back to all time when there were none). */
  mean(totalTokens: number, startTokens: number): number {
    if (this.sumSeconds > 0) return this.sumTokens / this.sumSeconds;
    const sec = (performance.now() - this.start) / 1000;
    return sec > 0 ? (totalTokens - startTokens) / sec : 0;
  }

  get elapsedSeconds(): number {
    return (performance.now() - this.start) / 1000;
  }
}

/** A rate for a progress note: `2.3k` from 1000 up, else whole (`812`). */
export function shortRate(perSecond: number): string {
  return perSecond >= 1000 ? `${(perSecond / 1000).toFixed(1)}k` : perSecond.toFixed(0);
}

/** The progress-bar note: `step 120/1000 loss 2.314 val 2.401 | 2.3k tok/s | MFU 12.1%`. */
export function progressNote(r: MetricsRecord, steps: number, lastVal: number | null): string {
  switch (r.kind) {
    case 'train': {
      const tps = shortRate(r.tokensPerSecond);
      return `step ${r.step}/${steps} loss ${r.loss.toFixed(3)}${lastVal !== null ? ` val ${lastVal.toFixed(3)}` : ''} | ${tps} tok/s | MFU ${(100 * r.mfu).toFixed(1)}%`;
    }
    case 'val':
      return `step ${r.step}/${steps} val loss ${r.valLoss.toFixed(3)}`;
    default: {
      const never: never = r;
      return String(never);
    }
  }
}
