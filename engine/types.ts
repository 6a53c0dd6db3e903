/**
 * The core contracts of Sluice: the document record, operators, sources, custom (barrier or
 * artifact) stages, and the context a task runs in. Every operator family plugs into these.
 *
 * Data flows through a stage task as `AsyncIterable<Doc[]>` batches: a source yields batches,
 * each operator transforms the stream, and the engine writes the result as one Parquet file per
 * task. Custom stages (BPE training, model training, MinHash bucketing) get the whole task
 * instead: their inputs as datasets, and an output directory they write files into.
 */

import type { DocColumn } from '../formats/doc.ts';
import type { Utf8Bytes } from './parquet-flat/columns.ts';

/** JSON-serialisable value: operator configs and metadata must be of this shape. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * What a stage records in its manifest's `info` (a tokenizer's vocabulary, a shard set's
 * counts, a trainer's losses). A stage's own info type is a `type` alias of JSON values (an
 * `interface` has no index signature and is not assignable here); it flows from the stage
 * (`CustomStage<Info>`, `StageExpansion<Info>`) through its handle (`StageRef<Info>`) to whoever
 * opens it (`ctx.dataset(ref)`: `Dataset<Info>`), so consumers read it typed.
 */
export type StageInfo = { [key: string]: Json };

/** Type-only key of the info a {@link StageRef} carries; never present at run time. */
export declare const STAGE_INFO: unique symbol;

/**
 * The one record type. `id` is stable across runs (derived from source location, or URL plus a
 * content hash). `meta` carries provenance (`url`, `source`, `crawlDate`, …) and what operators
 * add (`lang`, `langScore`, quality scores, `dedupCluster`, …). Token ids travel in `tokens`.
 */
export interface Doc {
  id: string;
  text: string;
  meta: DocMeta;
  /** Token ids, always uint32 in docs and doc datasets; stores narrow them (formats/tokens.ts). */
  tokens?: Uint32Array;
  /**
   * Per-token loss mask, parallel to `tokens` (same length): 1 = the token is a training target
   * (its prediction from the tokens before it is in the loss), 0 = context only (a prompt, a
   * system turn). Absent = every token is trained, as in pretraining. Written by `chat.tokenize`;
   * carried by doc datasets (`loss_mask` column) into token shards.
   */
  lossMask?: Uint8Array;
}

/** Provenance and annotations of a document; free-form beyond the well-known keys. */
export interface DocMeta {
  /** Address the document came from, when it has one. */
  url?: string;
  /** Where the record lives: `file#offset` or `file:line`, so it can be located again. */
  source?: string;
  [key: string]: unknown;
}

/** A filter's decision on one document: keep (`true`, or with a score), or drop with a reason. */
export type FilterVerdict =
  | true
  | { keep: true; score?: number; scores?: Record<string, number> }
  | { drop: string; score?: number; scores?: Record<string, number>; details?: Record<string, Json> };

/** What identifies an operator for fingerprinting, the registry and the audit. */
export interface OperatorSpec {
  /** Registered type, e.g. `filter.gopherQuality`, `map`, `read.jsonl`. */
  type: string;
  /** Instance name, unique within a stage (defaults to the type); audit rows carry it. */
  name: string;
  /** Bump when the operator's output changes for the same config: it invalidates old outputs. */
  version: string;
  /** The validated JSON config; part of the stage fingerprint. */
  config: Json;
  /** Extra fingerprint material, e.g. digests of files the operator reads. */
  code?: string;
  /**
   * User functions, by label (`fn` for `filter.where` and `map`). Each one's source and the values
   * it captures, recursively, enter the stage fingerprint; a captured value that cannot be hashed
   * (a class instance, a stream, …) makes the pipeline fail at load with an error naming it.
   * See `engine/captures.ts` and docs/concepts.md.
   */
  functions?: Record<string, Function>;
  /**
   * Other stages this operator reads (e.g. `tokenize.encode` reads the tokenizer artifact):
   * they run first, their fingerprints enter this stage's, and `ctx.dataset(ref)` opens them.
   */
  refs?: StageRef[];
}

/** A streaming transform over batches of documents. */
export interface Operator extends OperatorSpec {
  kind: 'operator';
  process(input: AsyncIterable<Doc[]>, ctx: TaskContext): AsyncIterable<Doc[]>;
}

/** One unit of a source's input: a file, or a byte range of one. One part = one task. */
export interface SourcePart {
  /** Stable identity for fingerprints: uri, range, size and mtime/etag. */
  key: string;
  uri: string;
  /** Byte range [start, end) when a large file is split; absent for whole files. */
  start?: number;
  end?: number;
  size?: number;
  [extra: string]: Json | undefined;
}

/** An external input: lists its parts at plan time, reads one part per task. */
export interface Source extends OperatorSpec {
  kind: 'source';
  /** Lists the parts (each becomes a task); their keys enter the stage fingerprint. */
  plan(ctx: PlanContext): Promise<SourcePart[]>;
  read(part: SourcePart, ctx: TaskContext): AsyncIterable<Doc[]>;
}

/** Upstream handles, as a list (`StageRef[]`) or a tuple whose infos are known (`[StageRef<A>, StageRef<B>]`). */
export type StageRefs = readonly StageRef<StageInfo>[];

/** The datasets of `In`, element by element: a tuple of refs gives a tuple of typed datasets. */
export type DatasetsOf<In extends StageRefs> = { -readonly [K in keyof In]: In[K] extends StageRef<infer I> ? Dataset<I> : never };

/**
 * A stage that runs its own task body (barriers, artifacts, multi-step algorithms). `Info` is
 * what it records in its manifest (`ctx.setInfo`); `In` its inputs, whose datasets `ctx.inputs`
 * and `taskCount` get typed element by element.
 */
export interface CustomStage<Info extends StageInfo = StageInfo, In extends StageRefs = StageRef[]> extends OperatorSpec {
  kind: 'custom';
  /** Upstream stages this one reads; their fingerprints enter this stage's fingerprint. */
  inputs: In;
  /** Output kind: `docs` datasets are readable by downstream doc stages; `artifact` are files. */
  output: 'docs' | 'artifact';
  /** Number of tasks, decided once the inputs are complete (default 1: a barrier). */
  taskCount?(ctx: PlanContext, inputs: DatasetsOf<In>): number | Promise<number>;
  run(ctx: CustomTaskContext<Info, In>): Promise<void>;
}

/** Anything a stage may take as its input. */
export type StageInput = Source | CustomStage<StageInfo, StageRefs> | StageRef<StageInfo> | StageRef<StageInfo>[] | (StageExpansion & { inputs: StageRef[] });

/**
 * An operator that declares several stages in its place (e.g. MinHash: signatures → buckets →
 * clusters → filter). `p.stage(name, input, expansion)` calls `expand`, whose stages are named
 * `<name>.<step>`; the returned ref (conventionally the stage called `name`) is the result.
 */
export interface StageExpansion<Info extends StageInfo = StageInfo> extends OperatorSpec {
  kind: 'expansion';
  /**
   * The upstream stages it reads, when the factory took them itself (`train.dpo(pairs, …)`): such
   * an expansion is the stage's input, `p.stage(name, expansion)`, like a custom stage.
   */
  inputs?: StageRef[];
  expand(p: PipelineBuilder, name: string, inputs: StageRef[], options: StageOptions): StageRef<Info>;
}

/** The builder a pipeline's `build` callback receives. */
export interface PipelineBuilder {
  readonly name: string;
  /**
   * Declares a stage. `input`: a source, a custom stage, or upstream stage(s). `operators`: a
   * chain of streaming operators, or one expansion. Returns a handle usable as input, typed with
   * the info its manifest will carry (a custom stage's or an expansion's `Info`).
   */
  stage<Info extends StageInfo>(name: string, input: CustomStage<Info, StageRefs>, operators?: undefined | [], options?: StageOptions): StageRef<Info>;
  stage<Info extends StageInfo>(name: string, input: StageRef<StageInfo> | StageRef<StageInfo>[], operators: StageExpansion<Info> | [StageExpansion<Info>], options?: StageOptions): StageRef<Info>;
  stage<Info extends StageInfo>(name: string, input: StageExpansion<Info> & { inputs: StageRef[] }, operators?: undefined | [], options?: StageOptions): StageRef<Info>;
  stage(name: string, input: StageInput, operators?: Operator[] | StageExpansion | [StageExpansion], options?: StageOptions): StageRef;
}

/** A handle on a declared stage, usable as another stage's input; `Info` types its manifest's `info`. */
export interface StageRef<Info extends StageInfo = StageInfo> {
  kind: 'stage';
  name: string;
  pipeline: string;
  /** Type-only (never set): the stage's manifest info, so `ctx.dataset(ref)` is typed. */
  readonly [STAGE_INFO]?: Info;
}

/** Per-stage options. Resources are used by the slurm executor; `tasks` groups input files. */
export interface StageOptions {
  /** For doc stages over upstream stages: number of tasks (default: one per upstream file). */
  tasks?: number;
  /** One task over all input (implies tasks = 1). */
  barrier?: boolean;
  /** Attempts per task before the stage fails (default 3). */
  retries?: number;
  /** Slurm resources. */
  cpus?: number;
  mem?: string;
  time?: string;
  partition?: string;
  gres?: string;
  /** Extra `#SBATCH` lines and a shell snippet run before the task (slurm executor). */
  sbatch?: string[];
  setup?: string;
}

/** A file of a dataset, as listed by its manifest. */
export interface ManifestFile {
  path: string;
  task: number;
  rows: number;
  bytes: number;
  sha256: string;
}

/** Per-operator counts of one stage, summed over its tasks. */
export interface OperatorStats {
  docsIn: number;
  docsOut: number;
  bytesIn: number;
  bytesOut: number;
  drops: Record<string, number>;
  /** UTF-8 bytes of text dropped, per reason. */
  dropBytes?: Record<string, number>;
}

/** One recorded skip, kept as an example in markers, manifests and run summaries. */
export interface SkipExample {
  input: string;
  details: Json;
}

/** `manifest.json` of every stage output directory; written last. */
export interface Manifest<Info extends StageInfo = StageInfo> {
  format: 'sluice.dataset/1';
  pipeline: string;
  stage: string;
  fingerprint: string;
  output: 'docs' | 'artifact';
  tasks: number;
  files: ManifestFile[];
  rows: number;
  bytes: number;
  stats: {
    operators: Record<string, OperatorStats>;
    /** Input records the source could not read, per reason (e.g. `read.invalidUtf8`, `read.truncated`). */
    skipped: Record<string, number>;
    /** The first few skips of each reason: which input, and the details (file, error, how far it got). */
    skipExamples?: Record<string, SkipExample[]>;
    [key: string]: Json | Record<string, OperatorStats> | Record<string, number> | Record<string, SkipExample[]> | undefined;
  };
  /** What the stage recorded (e.g. a tokenizer's vocab size, a trainer's final loss); its type is the stage's `Info`. */
  info?: Info;
}

/** A completed upstream dataset as a custom stage or downstream task sees it. */
export interface Dataset<Info extends StageInfo = StageInfo> {
  stage: string;
  /** URI of `<workdir>/<stage>/<fingerprint>`. */
  dir: string;
  manifest: Manifest<Info>;
  /** URIs of the dataset's files, in manifest order. */
  files(): string[];
  /**
   * Streams the docs of the given files (default: all), in manifest order, `batchSize` docs at a
   * time (default 512). `columns` reads only those doc columns (Parquet projection: the others are
   * neither read nor decoded, and may be left empty in the docs, see formats/doc.ts); default all.
   */
  readDocs(files?: string[], opts?: { batchSize?: number; columns?: readonly DocColumn[] }): AsyncIterable<Doc[]>;
}

/** What planning needs: where things are. */
export interface PlanContext {
  /** The workdir URI (local path or s3://…). */
  workdir: string;
  /** Directory of the pipeline file: relative globs resolve against it. */
  baseDir: string;
  storage: StorageLike;
}

/** Minimal storage surface operators may use (full interface in engine/storage). */
export interface StorageLike {
  exists(uri: string): Promise<boolean>;
  /** Size and version (mtime or ETag) of a file/object, or null when absent. */
  stat(uri: string): Promise<{ uri: string; size: number; version: string } | null>;
  /** A byte stream of `[start, end)` (end exclusive; default: to the end). */
  readStream(uri: string, start?: number, end?: number): Promise<import('node:stream').Readable>;
  read(uri: string): Promise<Uint8Array>;
  readText(uri: string): Promise<string>;
  /** Atomic: the object is visible complete or not at all. */
  write(uri: string, data: Uint8Array | string): Promise<void>;
  /** A streaming atomic writer (S3: a multipart upload); nothing is visible before `commit()`. */
  writer(uri: string): Promise<{ write(chunk: Uint8Array): Promise<void>; commit(): Promise<void>; abort(): Promise<void> }>;
  list(prefix: string): Promise<Array<{ uri: string; size: number; version: string }>>;
  join(base: string, ...parts: string[]): string;
}

/** The record-level audit every task writes next to its output. */
export interface AuditSink {
  /** A document an operator dropped: counted per reason and logged (id, url, reason, score). */
  drop(operator: string, doc: Doc, reason: string, score?: number, details?: Record<string, Json>): void;
  /** A score an operator computed (kept or dropped), for histograms and `--what-if`. */
  score(operator: string, key: string, doc: Doc, value: number, kept: boolean): void;
  /** An input record that could not be read: skipped, counted and logged with its reason. */
  skip(input: string, reason: string, details?: Record<string, Json>): void;
  /**
   * A span an operator cut out of a document (dedup below the document), its details already
   * JSON text, as a string or as its UTF-8 bytes (read during the call only: the caller reuses
   * the buffer): the record `drop(operator, { id: doc.id, text, meta: doc.meta }, reason,
   * undefined, JSON.parse(detailsJson))` makes. Optional: callers fall back to that `drop` for
   * sinks without it. It exists for the cost: a paragraph dedup audits ~8,800 spans per MB of
   * text on the bench corpus, where a details object, its `JSON.stringify` and a doc object per
   * span were a fifth of the stage's CPU, and building, flattening and encoding a details string
   * per span ~100 ms of 650 (bytes written straight: ~40).
   */
  dropSpan?(operator: string, doc: Doc, text: string, reason: string, detailsJson: string | Utf8Bytes): void;
  /**
   * Docs and UTF-8 text bytes an operator took in and passed on, for a filter step the engine
   * does not run itself (the last stage of a dedup expansion); the engine counts the operators
   * of a stage's chain. Optional: sinks without it (tests, `sluice apply`) ignore the counts.
   */
  flow?(operator: string, docsIn: number, bytesIn: number, docsOut: number, bytesOut: number): void;
}

/** Live progress of a task; the executor aggregates it into bars or log lines. */
export interface ProgressSink {
  /** Adds processed work (documents and bytes of input). */
  add(docs: number, bytes: number): void;
  /** Sets the expected total bytes of this task, for the ETA. */
  total(bytes: number): void;
  /** A short status line (e.g. a trainer's loss). */
  note(text: string): void;
}

/** What a running task sees. */
export interface TaskContext {
  pipeline: string;
  stage: string;
  /** Task index and count within the stage. */
  index: number;
  count: number;
  workdir: string;
  baseDir: string;
  /** URI of this stage's output directory `<workdir>/<stage>/<fingerprint>`. */
  stageDir: string;
  /** URI of state that persists across attempts of this task (e.g. a crawl frontier). */
  stateDir: string;
  /** A local scratch directory, removed when the task ends. */
  tmpDir: string;
  storage: StorageLike;
  audit: AuditSink;
  progress: ProgressSink;
  log(message: string): void;
  signal: AbortSignal;
  /** Opens a completed stage this task depends on (an input or an operator's `refs`), typed by the ref's info. */
  dataset<Info extends StageInfo>(ref: StageRef<Info>): Promise<Dataset<Info>>;
}

/** A streaming, atomic file of a custom stage's output (see `CustomTaskContext.fileWriter`). */
export interface StageFileWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Makes the file visible and records it with `rows` (default 0); returns its size and sha256. */
  commit(rows?: number): Promise<{ bytes: number; sha256: string }>;
  abort(): Promise<void>;
}

/** A custom stage's task context: its inputs as datasets and an atomic file output. */
export interface CustomTaskContext<Info extends StageInfo = StageInfo, In extends StageRefs = StageRef[]> extends TaskContext {
  inputs: DatasetsOf<In>;
  /** Writes a file into the stage output atomically and records it in the task's manifest entry. */
  writeFile(name: string, data: Uint8Array | string, rows?: number): Promise<void>;
  /**
   * Opens a file of the stage output for streaming writes (S3: a multipart upload). Nothing is
   * visible before `commit`, which records it (bytes, sha256, `rows`) in the task's manifest
   * entry; a task that fails aborts its uncommitted writers. Optional so that contexts built
   * by hand (tests, local runners) stay valid; the engine always provides it.
   */
  fileWriter?(name: string): Promise<StageFileWriter>;
  /** Streams docs into a Parquet file of the stage output (for `output: 'docs'`). */
  writeDocs(name: string, docs: AsyncIterable<Doc[]>): Promise<{ rows: number }>;
  /** Merged into the manifest's `info` (shallowly, over the stage's tasks in task order). */
  setInfo(info: Info): void;
}
