/**
 * Runs operators and sources outside a pipeline, with an in-memory audit: what `sluice apply`
 * uses, and what operator tests use to assert exactly what was kept, dropped and why.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storage as defaultStorage } from './storage/index.ts';
import type { AuditSink, Doc, Json, Operator, Source, StageInfo, StageRef, TaskContext, Dataset, StorageLike } from './types.ts';

export interface DropRecord {
  operator: string;
  id: string;
  url?: string;
  reason: string;
  score?: number;
  details?: Record<string, Json>;
  doc: Doc;
}
export interface ScoreRecord {
  operator: string;
  key: string;
  id: string;
  value: number;
  kept: boolean;
}
export interface SkipRecord {
  input: string;
  reason: string;
  details?: Record<string, Json>;
}

/** An audit sink that keeps every record in memory (for tests and `sluice apply`). */
export class MemoryAudit implements AuditSink {
  readonly drops: DropRecord[] = [];
  readonly scores: ScoreRecord[] = [];
  readonly skips: SkipRecord[] = [];
  drop(operator: string, doc: Doc, reason: string, score?: number, details?: Record<string, Json>): void {
    this.drops.push({ operator, id: doc.id, url: doc.meta.url, reason, score, details, doc });
  }
  score(operator: string, key: string, doc: Doc, value: number, kept: boolean): void {
    this.scores.push({ operator, key, id: doc.id, value, kept });
  }
  skip(input: string, reason: string, details?: Record<string, Json>): void {
    this.skips.push({ input, reason, details });
  }
}

export interface LocalContextOptions {
  stage?: string;
  index?: number;
  count?: number;
  /** Base directory relative inputs resolve against (default: the cwd). */
  baseDir?: string;
  /** Directory used as workdir/stageDir/stateDir (default: a fresh temp dir). */
  dir?: string;
  storage?: StorageLike;
  datasets?: Map<string, Dataset>;
  log?: (m: string) => void;
}

/** A task context over a local directory, with a MemoryAudit. Call `dispose()` when done. */
export function localTaskContext(opts: LocalContextOptions = {}): TaskContext & { audit: MemoryAudit; dispose(): void } {
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'sluice-task-'));
  const tmp = mkdtempSync(join(tmpdir(), 'sluice-tmp-'));
  const audit = new MemoryAudit();
  const controller = new AbortController();
  const storage = opts.storage ?? defaultStorage;
  return {
    pipeline: 'local',
    stage: opts.stage ?? 'apply',
    index: opts.index ?? 0,
    count: opts.count ?? 1,
    workdir: dir,
    baseDir: opts.baseDir ?? process.cwd(),
    stageDir: dir,
    stateDir: join(dir, '_state'),
    tmpDir: tmp,
    storage,
    audit,
    progress: { add() {}, total() {}, note() {} },
    log: opts.log ?? (() => {}),
    signal: controller.signal,
    async dataset<Info extends StageInfo>(ref: StageRef<Info>): Promise<Dataset<Info>> {
      const d = opts.datasets?.get(ref.name);
      if (!d) throw new Error(`localTaskContext: no dataset for stage '${ref.name}'`);
      // The caller's map holds datasets of any stage; the ref says what this one records.
      return d as Dataset<Info>;
    },
    dispose() {
      controller.abort();
      rmSync(tmp, { recursive: true, force: true });
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Feeds docs through a chain of operators in batches of `batchSize`. */
export async function* pipeOperators(docs: Iterable<Doc> | AsyncIterable<Doc[]>, ops: Operator[], ctx: TaskContext, batchSize = 256): AsyncIterable<Doc[]> {
  let stream: AsyncIterable<Doc[]> = Symbol.asyncIterator in (docs as object) ? (docs as AsyncIterable<Doc[]>) : batches(docs as Iterable<Doc>, batchSize);
  for (const op of ops) stream = op.process(stream, ctx);
  yield* stream;
}

async function* batches(docs: Iterable<Doc>, size: number): AsyncIterable<Doc[]> {
  let b: Doc[] = [];
  for (const d of docs) {
    b.push(d);
    if (b.length >= size) {
      yield b;
      b = [];
    }
  }
  if (b.length) yield b;
}

/** Runs operators over docs and returns what came out with the audit records. */
export async function runOperators(ops: Operator[], docs: Iterable<Doc>, opts: LocalContextOptions = {}): Promise<{ out: Doc[]; audit: MemoryAudit }> {
  const ctx = localTaskContext(opts);
  try {
    const out: Doc[] = [];
    for await (const b of pipeOperators(docs, ops, ctx)) out.push(...b);
    return { out, audit: ctx.audit };
  } finally {
    ctx.dispose();
  }
}

/** Plans a source and reads all its parts in order, returning the docs and the audit. */
export async function readSource(source: Source, opts: LocalContextOptions = {}): Promise<{ out: Doc[]; audit: MemoryAudit }> {
  const ctx = localTaskContext(opts);
  try {
    const parts = await source.plan({ workdir: ctx.workdir, baseDir: ctx.baseDir, storage: ctx.storage });
    const out: Doc[] = [];
    for (const part of parts) for await (const b of source.read(part, ctx)) out.push(...b);
    return { out, audit: ctx.audit };
  } finally {
    ctx.dispose();
  }
}
