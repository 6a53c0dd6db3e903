/**
 * Runs one task of one stage: the body behind `sluice task <pipeline> <stage> <index>`, which
 * every executor (local workers, Slurm array tasks) calls. A task streams its input through the
 * stage's operators into `part-<task>.parquet` (or runs a custom stage's body), writes its audit,
 * and only then its completion marker `_tasks/<task>.json`. Outputs are committed atomically,
 * so a task killed at any moment leaves either nothing or a complete file, never a marker for
 * incomplete work.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditSink, CustomTaskContext, Doc, Json, ManifestFile, OperatorStats, ProgressSink, SkipExample, StageInfo, StageRef, StageRefs, TaskContext } from './types.ts';
import { Runtime, sha256, taskId } from './runtime.ts';
import { TaskAudit } from './audit.ts';
import { DocParquetWriter, writeDocsParquet } from './parquet.ts';
import { readDocsParquet } from './parquet.ts';
import { storage } from './storage/index.ts';
import { docBytes } from './operator.ts';

/** What a finished task records in its marker; the stage manifest is built from these. */
export interface TaskMarker {
  fingerprint: string;
  task: number;
  files: ManifestFile[];
  audit: string[];
  stats: { operators: Record<string, OperatorStats>; skipped: Record<string, number>; skipExamples?: Record<string, SkipExample[]>; docsIn: number; docsOut: number; bytesIn: number; bytesOut: number };
  info?: Record<string, Json>;
}

/**
 * When the attempt that completed a task started (ISO 8601) and how long it ran (seconds), in
 * `_timing/<task>.json`, written just before the marker. Kept out of the marker so markers and
 * manifests stay byte-identical across runs; `sluice report` reads it for time and throughput.
 */
export interface TaskTiming {
  task: number;
  started: string;
  seconds: number;
}

/** Callbacks through which an executor watches a task. */
export interface TaskHooks {
  progress?(docs: number, bytes: number): void;
  total?(bytes: number): void;
  note?(text: string): void;
  log?(message: string): void;
}

/** URI of a task's completion marker. */
export async function markerUri(rt: Runtime, stage: string, index: number): Promise<string> {
  return storage.join(await rt.stageDir(stage), '_tasks', `${taskId(index)}.json`);
}

/** The task's marker if it completed at the current fingerprint. */
export async function readMarker(rt: Runtime, stage: string, index: number): Promise<TaskMarker | null> {
  const uri = await markerUri(rt, stage, index);
  if (!(await storage.exists(uri))) return null;
  const m = await storage.readJson<TaskMarker>(uri);
  return m.fingerprint === (await rt.fingerprint(stage)) ? m : null;
}

async function* countStream(input: AsyncIterable<Doc[]>, onBatch: (docs: number, bytes: number) => void): AsyncIterable<Doc[]> {
  for await (const batch of input) {
    let bytes = 0;
    for (const d of batch) bytes += docBytes(d);
    onBatch(batch.length, bytes);
    yield batch;
  }
}

/**
 * Runs task `index` of `stage`. Returns `{ skipped: true }` when its marker already exists at
 * the current fingerprint. Throws (after cleaning up) when the task fails.
 */
export async function runTask(rt: Runtime, stageName: string, index: number, hooks: TaskHooks = {}): Promise<{ skipped: boolean; marker: TaskMarker }> {
  const stage = rt.pipeline.stage(stageName);
  const plan = await rt.plan(stageName);
  if (!Number.isInteger(index) || index < 0 || index >= plan.tasks) throw new Error(`stage '${stageName}' has ${plan.tasks} task(s); task index ${index} is out of range`);
  const existing = await readMarker(rt, stageName, index);
  if (existing) return { skipped: true, marker: existing };

  const started = new Date();
  const t0 = performance.now();
  const stageDir = await rt.stageDir(stageName);
  const id = taskId(index);
  const audit = new TaskAudit(storage.join(stageDir, '_audit'), index);
  const tmp = await mkdtemp(join(tmpdir(), `sluice-${stageName}-${id}-`));
  const controller = new AbortController();
  const files: ManifestFile[] = [];
  const info: Record<string, Json> = {};
  const totals = { docsIn: 0, docsOut: 0, bytesIn: 0, bytesOut: 0 };
  const progress: ProgressSink = {
    add: (d, b) => hooks.progress?.(d, b),
    total: (b) => hooks.total?.(b),
    note: (t) => hooks.note?.(t),
  };
  const ctx: TaskContext = {
    pipeline: rt.pipeline.name,
    stage: stageName,
    index,
    count: plan.tasks,
    workdir: rt.workdir,
    baseDir: rt.baseDir,
    stageDir,
    stateDir: storage.join(stageDir, '_state', id),
    tmpDir: tmp,
    storage,
    audit,
    progress,
    log: (m) => hooks.log?.(`[${stageName}#${index}] ${m}`),
    signal: controller.signal,
    dataset: async <Info extends StageInfo>(ref: StageRef<Info>) => {
      if (!stage.upstream.includes(ref.name)) throw new Error(`stage '${stageName}' did not declare '${ref.name}' as an input or operator reference`);
      return rt.dataset<Info>(ref.name);
    },
  };

  let writer: DocParquetWriter | undefined;
  // Custom stages' uncommitted file writers, aborted when the task fails.
  const open = new Set<{ abort(): Promise<void> }>();
  try {
    switch (stage.input.kind) {
      case 'source':
      case 'stages': {
        let input: AsyncIterable<Doc[]>;
        // A source that reports its own progress (read.warc counts input bytes against the
        // file size, crawl counts pages as they arrive) owns that count: the engine adding its
        // batches as well doubled the docs on the progress bar (measured: 40 docs shown for
        // the 20 of iana.warc.gz). Docs and bytes are owned separately.
        const own = { docs: false, bytes: false };
        if (stage.input.kind === 'source') {
          const part = plan.parts![index]!;
          if (part.size !== undefined) progress.total(part.size);
          const sourceProgress: ProgressSink = {
            ...progress,
            add: (d, b) => {
              if (d) own.docs = true;
              if (b) own.bytes = true;
              progress.add(d, b);
            },
          };
          input = stage.input.source.read(part, { ...ctx, progress: sourceProgress });
        } else {
          const mine = plan.files![index]!;
          input = (async function* () {
            for (const f of mine) yield* readDocsParquet(f);
          })();
        }
        let stream = countStream(input, (d, b) => {
          totals.docsIn += d;
          totals.bytesIn += b;
          const docs = own.docs ? 0 : d;
          const bytes = own.bytes ? 0 : b;
          if (docs || bytes) progress.add(docs, bytes);
        });
        for (const op of stage.operators) {
          const s = audit.stats(op.name);
          const counted = countStream(stream, (d, b) => {
            s.docsIn += d;
            s.bytesIn += b;
          });
          stream = countStream(op.process(counted, ctx), (d, b) => {
            s.docsOut += d;
            s.bytesOut += b;
          });
        }
        const name = `part-${id}.parquet`;
        writer = new DocParquetWriter(await storage.writer(storage.join(stageDir, name)));
        for await (const batch of stream) {
          totals.docsOut += batch.length;
          await writer.add(batch);
          await audit.drain();
        }
        totals.bytesOut = writer.textBytes;
        const w = await writer.close();
        writer = undefined;
        files.push({ path: name, task: index, rows: w.rows, bytes: w.bytes, sha256: w.sha256 });
        break;
      }
      case 'custom': {
        const custom = stage.input.custom;
        const inputs = await Promise.all(custom.inputs.map((r) => rt.dataset(r.name)));
        // A custom stage's docs in are those its filter step reports (a dedup expansion's last
        // stage); the engine reads no input for it, so the run summary showed `0 → 811 docs`.
        const customAudit: AuditSink = {
          drop: (...a) => audit.drop(...a),
          score: (...a) => audit.score(...a),
          skip: (...a) => audit.skip(...a),
          dropSpan: (op, doc, text, reason, details) => audit.dropSpan(op, doc, text, reason, details),
          flow(op, docsIn, bytesIn, docsOut, bytesOut) {
            audit.flow(op, docsIn, bytesIn, docsOut, bytesOut);
            totals.docsIn += docsIn;
            totals.bytesIn += bytesIn;
          },
        };
        const cctx: CustomTaskContext<StageInfo, StageRefs> = {
          ...ctx,
          audit: customAudit,
          inputs,
          async writeFile(name: string, data: Uint8Array | string, rows = 0) {
            const bytes = typeof data === 'string' ? Buffer.from(data) : data;
            await storage.write(storage.join(stageDir, name), bytes);
            files.push({ path: name, task: index, rows, bytes: bytes.byteLength, sha256: sha256(bytes) });
          },
          async fileWriter(name: string) {
            const w = await storage.writer(storage.join(stageDir, name));
            const hash = createHash('sha256');
            let bytes = 0;
            const handle = {
              async write(chunk: Uint8Array) {
                hash.update(chunk);
                bytes += chunk.byteLength;
                await w.write(chunk);
              },
              async commit(rows = 0) {
                await w.commit();
                open.delete(handle);
                const digest = hash.digest('hex');
                files.push({ path: name, task: index, rows, bytes, sha256: digest });
                return { bytes, sha256: digest };
              },
              async abort() {
                open.delete(handle);
                await w.abort();
              },
            };
            open.add(handle);
            return handle;
          },
          async writeDocs(name: string, docs: AsyncIterable<Doc[]>) {
            const counted = countStream(docs, (d, b) => {
              totals.docsOut += d;
              totals.bytesOut += b;
            });
            const w = await writeDocsParquet(storage.join(stageDir, name), counted);
            files.push({ path: name, task: index, rows: w.rows, bytes: w.bytes, sha256: w.sha256 });
            return { rows: w.rows };
          },
          setInfo(i: StageInfo) {
            Object.assign(info, i);
          },
        };
        await custom.run(cctx);
        break;
      }
      default: {
        const never: never = stage.input;
        throw new Error(`unknown stage input ${JSON.stringify(never)}`);
      }
    }
    const auditFiles = (await audit.close()).map((u) => u.slice(stageDir.length + 1));
    const marker: TaskMarker = {
      fingerprint: plan.fingerprint,
      task: index,
      files: files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
      audit: auditFiles,
      stats: { operators: audit.operators, skipped: audit.skipped, ...(Object.keys(audit.skipExamples).length ? { skipExamples: audit.skipExamples } : {}), ...totals },
      ...(Object.keys(info).length ? { info } : {}),
    };
    const timing: TaskTiming = { task: index, started: started.toISOString(), seconds: Math.round(performance.now() - t0) / 1000 };
    await storage.write(storage.join(stageDir, '_timing', `${id}.json`), JSON.stringify(timing) + '\n');
    await storage.write(await markerUri(rt, stageName, index), JSON.stringify(marker, null, 1));
    return { skipped: false, marker };
  } catch (e) {
    controller.abort();
    await writer?.abort().catch(() => {});
    for (const w of open) await w.abort().catch(() => {});
    await audit.abort().catch(() => {});
    throw e;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
