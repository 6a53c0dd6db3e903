/**
 * The trainer's programmatic API: train a decoder-only GPT on token shards (`.bin`, nanoGPT/llm.c
 * layout) with the in-process tfjs backend or the PyTorch subprocess, and get back the losses,
 * token count, FLOPs, MFU and the checkpoint location. The `train()` pipeline stage and the
 * scaling-law sweep both call `trainModel`; its signature is stable.
 */

import type { ModelConfig, ModelSpec, ParamCounts } from '../formats/model.ts';
import type { AttentionMode } from '../formats/shards.ts';

export type { AttentionMode } from '../formats/shards.ts';

/** The model shape and its parameter counts: the contract of formats/model.ts, re-exported as the trainer's API. */
export type { ModelConfig, ModelSpec, ParamCounts, PositionEncoding } from '../formats/model.ts';

/** AdamW (decoupled weight decay) and gradient clipping. */
export interface OptimizerConfig {
  /** Peak learning rate (default 1e-3). */
  lr?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.95. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay on matrices and embeddings; biases and LayerNorm gains are not decayed (default 0.1). */
  weightDecay?: number;
  /** Clip the global gradient L2 norm to this value; 0 disables (default 1.0). */
  gradClip?: number;
}

/** Learning-rate schedule: linear warmup, then cosine decay to `minLrRatio × lr` at the last step. */
export interface ScheduleConfig {
  /** Warmup steps (default: 10% of the steps, at most 1000). */
  warmupSteps?: number;
  /** Floor of the cosine, as a fraction of the peak lr (default 0.1). */
  minLrRatio?: number;
  /** `cosine` (default) or `constant` after warmup. */
  decay?: 'cosine' | 'constant';
}

/** Which engine runs the training. */
export type TrainerBackend = 'tfjs' | 'torch';

/** Options of the in-process tfjs backend. */
export interface TfjsOptions {
  /**
   * tfjs backend: `wasm` (SIMD), `cpu` (slow reference), `tensorflow` (@tensorflow/tfjs-node or
   * -gpu, installed by the user). Default: `tensorflow` when one of those is installed, else `wasm`.
   */
  backend?: 'wasm' | 'cpu' | 'tensorflow';
  /** WASM threads (default 1: the threaded build fails to start in Node with forced threads). */
  threads?: number;
}

/** Options of the PyTorch subprocess backend. */
export interface TorchOptions {
  /** Python interpreter with torch (default: `$SLUICE_PYTHON`, else the first of `python3`, `/usr/bin/python3` that imports torch). */
  python?: string;
  /** `auto` (default: cuda when available), `cuda` or `cpu`. */
  device?: 'auto' | 'cuda' | 'cpu';
  /** `torch.compile` the model (default: on for cuda, off for cpu). */
  compile?: boolean;
  /** Autocast dtype (default `bfloat16` on cuda, `float32` on cpu). */
  dtype?: 'bfloat16' | 'float32';
  /** CPU threads (`torch.set_num_threads`; default: torch's own). */
  threads?: number;
}

/** Everything about a training run except where its data and outputs live. */
export interface TrainOptions {
  model: ModelSpec;
  optimizer?: OptimizerConfig;
  schedule?: ScheduleConfig;
  /** Default `tfjs`. */
  backend?: TrainerBackend;
  /** Optimizer steps. Give `steps` or `tokens` (steps = ceil(tokens / tokens per step)). */
  steps?: number;
  /** Training token budget, the alternative to `steps`. */
  tokens?: number;
  /** Sequences per micro-batch (default 8). */
  batchSize?: number;
  /** Micro-batches accumulated per optimizer step (default 1). */
  gradAccum?: number;
  /** Evaluate the validation split every this many steps and at the end (default 100). */
  evalEvery?: number;
  /** Validation batches per evaluation (default 8; the same batches every time). */
  evalBatches?: number;
  /** Write a resumable checkpoint every this many steps (default: `evalEvery`). */
  checkpointEvery?: number;
  /** Write a train metrics line every this many steps (default 1). */
  logEvery?: number;
  /** Seed of the weight initialisation (default 1337). */
  seed?: number;
  /**
   * Without validation shards, this many tokens at the end of the training stream are held out as
   * the validation split (default: 5% of the tokens, at most 1M).
   */
  valTokens?: number;
  /**
   * What a token may attend to (default: the shards' recorded `attention`, else `causal`):
   * `document` keeps attention inside each document of a packed row (from the shards' `.docs`
   * index, on both backends) and restarts positions at each document start; `causal` attends
   * over the whole row with positions 0..T−1.
   */
  attention?: AttentionMode;
  tfjs?: TfjsOptions;
  torch?: TorchOptions;
}

/** The token shards of a run, as URIs (local paths or `s3://`) in reading order. */
export interface ShardSet {
  train: string[];
  /** Validation shards; absent: the tail of the training stream (see `valTokens`). */
  val?: string[];
  /** Vocabulary size recorded by the tokenizer, used when `model.vocabSize` is absent. */
  vocabSize?: number;
  /** End-of-text token id, recorded in the checkpoint for the scorer. */
  eotToken?: number;
  /** Free-form description of the tokenizer (e.g. its artifact URI), recorded in the checkpoint. */
  tokenizer?: string;
  /** The attention the shards were written for (`shards.json`); `TrainOptions.attention` overrides it. */
  attention?: AttentionMode;
}

/** One line of `metrics.jsonl`. */
export type MetricsRecord =
  | {
      kind: 'train';
      step: number;
      /** Mean cross-entropy (nats/token) over the step's micro-batches. */
      loss: number;
      lr: number;
      /** Global gradient L2 norm before clipping. */
      gradNorm: number;
      /** Training tokens consumed so far. */
      tokens: number;
      /** Over the interval since the previous train record. */
      tokensPerSecond: number;
      /** 6·N (matmul parameters) + 12·L·T·d (attention), per token, forward + backward. */
      flopsPerToken: number;
      flopsPerSecond: number;
      /** Achieved FLOP/s over the measured matmul peak of the backend. */
      mfu: number;
      elapsedSeconds: number;
    }
  | { kind: 'val'; step: number; valLoss: number; tokens: number; elapsedSeconds: number };

/** Options of `trainModel`: the run, its data, and where its outputs go. */
export interface TrainModelOptions extends TrainOptions {
  data: ShardSet;
  /** Directory (local path or `s3://`) for the final checkpoint, `metrics.jsonl` and `report.html`. */
  outDir: string;
  /**
   * Where `outDir`'s files are published once the run ends, when the caller copies them
   * elsewhere (the `train` stage writes into a task-local directory, then commits the files to
   * its stage output). The report and the result name this location. Default: `outDir`.
   */
  publishDir?: string;
  /** Directory of the resumable checkpoint (default `<outDir>/_state`); a run resumes from it. */
  stateDir?: string;
  /**
   * A model checkpoint directory (`config.json` + `model.safetensors`, either backend's) whose
   * weights start the run instead of a random initialisation (fine-tuning). Its model config must
   * equal `model`. The optimizer starts fresh.
   */
  init?: string;
  /** Evaluate the validation split once before the first step (a `val` record at step 0; default false). */
  evalAtStart?: boolean;
  /** Local scratch directory (default: a fresh temp dir, removed at the end). */
  tmpDir?: string;
  /** Called for every metrics record as it is produced. */
  onMetrics?(record: MetricsRecord): void;
  /** Progress and diagnostics. */
  log?(message: string): void;
  /** Aborting stops the run after the current step (a checkpoint is not forced). */
  signal?: AbortSignal;
}

/** What a finished run reports. */
export interface TrainResult {
  backend: TrainerBackend;
  model: ModelConfig;
  params: ParamCounts;
  /** Optimizer steps done in total (including those before a resume). */
  steps: number;
  tokensSeen: number;
  /** Mean training loss of the last step (nats/token). */
  finalLoss: number;
  /** Validation loss at the end (nats/token); null without a validation split. */
  valLoss: number | null;
  /** URI of the checkpoint directory (`model.safetensors` + `config.json`), loadable by the scorer. */
  checkpoint: string;
  /** URI of `metrics.jsonl`. */
  metricsPath: string;
  /** URI of `report.html`. */
  reportPath: string;
  flopsPerToken: number;
  /** flopsPerToken × tokensSeen. */
  totalFlops: number;
  /** Mean over this process's steps (a resumed run counts only its own). */
  tokensPerSecond: number;
  /** Mean model FLOPs utilisation against `peakFlops`. */
  mfu: number;
  /** The backend's measured matmul peak (FLOP/s) that MFU is relative to. */
  peakFlops: number;
  /** Step this process started from (0 for a fresh run). */
  resumedFromStep: number;
  /** Wall-clock seconds of this process's training. */
  seconds: number;
}

/**
 * Trains a GPT on token shards and writes the final checkpoint, `metrics.jsonl` and `report.html`
 * to `outDir`. Resumes from `stateDir` when a checkpoint of the same configuration is there.
 */
export async function trainModel(opts: TrainModelOptions): Promise<TrainResult> {
  const { runTraining } = await import('./run.ts');
  return runTraining(opts);
}
