/**
 * An in-process runner for the dedup expansions over documents that are not in a pipeline: it
 * spools the input stream to a local JSONL file (so memory stays bounded), declares the
 * expansion's stages on a recording builder and runs their tasks with contexts that honour the
 * `CustomTaskContext` contract over a local directory. This is what `sluice apply dedup.*` runs
 * (through the streaming operators in `apply.ts`), and what the tests use to run the exact stage
 * code the pipeline engine runs, with any number of concurrent tasks.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, writeFile as fsWriteFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { storage } from '../../engine/storage/index.ts';
import type { AuditSink, CustomStage, CustomTaskContext, Dataset, Doc, Json, Manifest, ManifestFile, PipelineBuilder, StageExpansion, StageInfo, StageInput, StageRef, StageRefs } from '../../engine/types.ts';
import { JsonlEncoder, readJsonlDocs } from './jsonl-io.ts';

/** A dataset over local JSONL files (one per task), the local runner's doc format. */
export function jsonlDataset(stage: string, dir: string, files: string[], manifest?: Manifest): Dataset {
  const m: Manifest = manifest ?? {
    format: 'sluice.dataset/1',
    pipeline: 'local',
    stage,
    fingerprint: 'local',
    output: 'docs',
    tasks: files.length,
    files: files.map((f, task) => ({ path: f.slice(dir.length + 1), task, rows: 0, bytes: 0, sha256: '' })),
    rows: 0,
    bytes: 0,
    stats: { operators: {}, skipped: {} },
  };
  return {
    stage,
    dir,
    manifest: m,
    files: () => files,
    async *readDocs(which = files, opts = {}) {
      const size = opts.batchSize ?? 256;
      for (const f of which) yield* readJsonlDocs(f, size);
    },
  };
}

/** Writes docs as JSONL to `path`; returns the row count. */
export async function writeJsonl(path: string, docs: AsyncIterable<Doc[]> | Iterable<Doc[]>): Promise<number> {
  const ws = createWriteStream(path);
  let rows = 0;
  const enc = new JsonlEncoder();
  for await (const batch of docs) {
    for (const d of batch) enc.add(d);
    rows += batch.length;
    // Handed to the stream in pieces of ≥ 1 MiB.
    if (enc.length >= 1 << 20 && !ws.write(enc.take())) await once(ws, 'drain');
  }
  if (enc.length) ws.write(enc.take());
  ws.end();
  await once(ws, 'finish');
  return rows;
}

export interface LocalRunOptions {
  /** Local directory for the stages' outputs. */
  workdir: string;
  /** Audit sink of every task (drops of the final stage land here). */
  audit: AuditSink;
  /** Most tasks of a stage run concurrently (default 1). */
  workers?: number;
  log?: (message: string) => void;
  signal?: AbortSignal;
  /**
   * Where a stage's docs go: `(path, docs)` consumes them and returns the row count. Default:
   * a JSONL file at `path` (`writeJsonl`). Benches pass a sink that only counts, to measure a
   * stage's own work without the dataset I/O every stage pays.
   */
  writeDocs?: (path: string, docs: AsyncIterable<Doc[]>) => Promise<number>;
}

/** Runs a dedup expansion over an input dataset; returns every stage's dataset by name. */
export async function runExpansionLocal(expansion: StageExpansion, stageName: string, input: Dataset, opts: LocalRunOptions): Promise<{ result: Dataset; datasets: Map<string, Dataset> }> {
  const declared: Array<{ name: string; stage: CustomStage<StageInfo, StageRefs> }> = [];
  const builder: PipelineBuilder = {
    name: 'local',
    stage(name: string, inp: StageInput): StageRef {
      if (typeof inp !== 'object' || Array.isArray(inp) || inp.kind !== 'custom') throw new Error(`local runner: stage '${name}' must be a custom stage`);
      declared.push({ name, stage: inp });
      return { kind: 'stage', name, pipeline: 'local' };
    },
  };
  const inputRef: StageRef = { kind: 'stage', name: input.stage, pipeline: 'local' };
  const resultRef = expansion.expand(builder, stageName, [inputRef], {});
  const datasets = new Map<string, Dataset>([[input.stage, input]]);
  const controller = new AbortController();
  const signal = opts.signal ?? controller.signal;
  for (const { name, stage } of declared) {
    const started = performance.now();
    const dir = join(opts.workdir, name);
    await mkdir(dir, { recursive: true });
    const inputs = stage.inputs.map((r) => {
      const d = datasets.get(r.name);
      if (!d) throw new Error(`local runner: stage '${name}' reads '${r.name}', which has not run`);
      return d;
    });
    const planCtx = { workdir: opts.workdir, baseDir: process.cwd(), storage };
    const count = stage.taskCount ? await stage.taskCount(planCtx, inputs) : 1;
    const files: ManifestFile[] = [];
    const info: Record<string, Json> = {};
    const runTask = async (index: number) => {
      const tmpDir = join(opts.workdir, '_tmp', `${name}-${index}`);
      await mkdir(tmpDir, { recursive: true });
      const ctx: CustomTaskContext = {
        pipeline: 'local',
        stage: name,
        index,
        count,
        workdir: opts.workdir,
        baseDir: process.cwd(),
        stageDir: dir,
        stateDir: join(dir, '_state'),
        tmpDir,
        storage,
        audit: opts.audit,
        progress: { add() {}, total() {}, note() {} },
        log: (m) => opts.log?.(`[${name}#${index}] ${m}`),
        signal,
        inputs,
        async dataset<I extends StageInfo>(ref: StageRef<I>) {
          const d = datasets.get(ref.name);
          if (!d) throw new Error(`local runner: no dataset '${ref.name}'`);
          // The map holds every stage's dataset; the ref says what this one records.
          return d as Dataset<I>;
        },
        async writeFile(fname, data, rows = 0) {
          await storage.write(join(dir, fname), data);
          const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
          files.push({ path: fname, task: index, rows, bytes, sha256: '' });
        },
        async writeDocs(fname, docs) {
          const f = fname.replace(/\.parquet$/, '') + '.jsonl';
          const rows = await (opts.writeDocs ?? writeJsonl)(join(dir, f), docs);
          files.push({ path: f, task: index, rows, bytes: 0, sha256: '' });
          return { rows };
        },
        setInfo(i) {
          Object.assign(info, i);
        },
      };
      await stage.run(ctx);
    };
    const workers = Math.max(1, opts.workers ?? 1);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(workers, count) }, async () => {
        while (next < count) await runTask(next++);
      }),
    );
    files.sort((a, b) => a.task - b.task || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const manifest: Manifest = {
      format: 'sluice.dataset/1',
      pipeline: 'local',
      stage: name,
      fingerprint: 'local',
      output: stage.output,
      tasks: count,
      files,
      rows: files.reduce((s, f) => s + f.rows, 0),
      bytes: files.reduce((s, f) => s + f.bytes, 0),
      stats: { operators: {}, skipped: {} },
      info,
    };
    await fsWriteFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 1));
    opts.log?.(`${name}: ${count} task(s) in ${((performance.now() - started) / 1000).toFixed(2)} s`);
    const uris = files.map((f) => join(dir, f.path));
    datasets.set(name, stage.output === 'docs' ? jsonlDataset(name, dir, uris, manifest) : artifactDataset(name, dir, uris, manifest));
  }
  const result = datasets.get(resultRef.name);
  if (!result) throw new Error(`local runner: expansion returned unknown stage '${resultRef.name}'`);
  return { result, datasets };
}

function artifactDataset(stage: string, dir: string, files: string[], manifest: Manifest): Dataset {
  return {
    stage,
    dir,
    manifest,
    files: () => files,
    readDocs() {
      throw new Error(`${stage}: an artifact dataset has no documents`);
    },
  };
}

/** Lists a local directory's files (sorted), for tests comparing outputs. */
export async function listFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}
