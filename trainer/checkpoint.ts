/**
 * Checkpoints. Two kinds, both written atomically through the storage facade (local or `s3://`):
 *
 * - The model checkpoint (`sluice.gpt/1`), what the eval stage loads: `model.safetensors`
 *   (float32, canonical GPT-2 names, matrices `[in, out]`) then `config.json` (the model config,
 *   step, tokens, losses, tokenizer facts). Both backends write and read this layout.
 * - The training state in the stage's state directory, what a killed run resumes from:
 *   `state-<step>.safetensors` (weights and AdamW moments) and `metrics-<step>.jsonl`, then
 *   `state.json` naming them (step, tokens, exact data position, RNG state, a fingerprint of the
 *   run's configuration). `state.json` is written last, so a kill at any moment leaves either
 *   the previous complete checkpoint or the new one.
 *
 * safetensors (an 8-byte little-endian header length, a JSON header, raw little-endian data) is
 * simple enough to write here; torch/gpt.py reads and writes it with the Python standard library.
 */
import { createHash } from 'node:crypto';
import { storage as defaultStorage, type Storage } from '../engine/storage/index.ts';
import type { Json } from '../engine/types.ts';
import type { ModelConfig, TrainerBackend } from './api.ts';
import type { LoaderPosition } from './data/loader.ts';

/** A float32 tensor by value. */
export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

/** Encodes float32 tensors as safetensors (names sorted, 8-byte aligned header). */
export function encodeSafetensors(tensors: Map<string, NamedArray>, metadata: Record<string, string> = {}): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`safetensors: ${name} has ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + 4 * n] };
    off += 4 * n;
  }
  if (Object.keys(metadata).length) header['__metadata__'] = metadata;
  let h = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (h.length % 8)) % 8;
  if (pad) h = Buffer.concat([h, Buffer.alloc(pad, 0x20)]);
  const out = new Uint8Array(8 + h.length + off);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  let at = 8 + h.length;
  for (const name of names) {
    const d = tensors.get(name)!.data;
    // Float32Array is little-endian on every platform Node runs on (x86-64, arm64).
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), at);
    at += d.byteLength;
  }
  return out;
}

/** Decodes a safetensors file of F32 tensors; throws naming `uri` on anything else. */
export function decodeSafetensors(bytes: Uint8Array, uri = 'safetensors'): { tensors: Map<string, NamedArray>; metadata: Record<string, string> } {
  if (bytes.byteLength < 8) throw new Error(`${uri}: too short for a safetensors file`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (8 + n > bytes.byteLength) throw new Error(`${uri}: header length ${n} exceeds the file`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + 8, n).toString('utf8')) as typeof header;
  } catch (e) {
    throw new Error(`${uri}: invalid safetensors header: ${(e as Error).message}`);
  }
  const base = 8 + n;
  const tensors = new Map<string, NamedArray>();
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = info as Record<string, string>;
      continue;
    }
    const t = info as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (t.dtype !== 'F32') throw new Error(`${uri}: tensor ${name} has dtype ${t.dtype}; only F32 is supported`);
    const [a, b] = t.data_offsets;
    if (b > bytes.byteLength - base || b - a !== 4 * t.shape.reduce((x, y) => x * y, 1)) throw new Error(`${uri}: tensor ${name} has bad offsets [${a}, ${b}]`);
    // Copy (the source may not be 4-byte aligned). Uint8Array's slice, not Buffer's: a Buffer's
    // slice is a view on its pool.
    const data = new Float32Array(Uint8Array.prototype.slice.call(bytes, base + a, base + b).buffer);
    tensors.set(name, { shape: t.shape, data });
  }
  return { tensors, metadata };
}

/** `config.json` of a model checkpoint. */
export interface CheckpointMeta {
  format: 'sluice.gpt/1';
  model: Required<ModelConfig>;
  backend: TrainerBackend;
  step: number;
  tokens: number;
  finalLoss: number | null;
  valLoss: number | null;
  eotToken: number | null;
  tokenizer: string | null;
  params?: Json;
}

/** Writes `model.safetensors` then `config.json` into `dir`. */
export async function writeModelCheckpoint(dir: string, meta: CheckpointMeta, tensors: Map<string, NamedArray>, store: Storage = defaultStorage): Promise<void> {
  await store.write(store.join(dir, 'model.safetensors'), encodeSafetensors(tensors, { format: 'sluice.gpt/1' }));
  await store.write(store.join(dir, 'config.json'), JSON.stringify(meta, null, 1));
}

/** Reads a model checkpoint directory (either backend's). */
export async function readModelCheckpoint(dir: string, store: Storage = defaultStorage): Promise<{ meta: CheckpointMeta; tensors: Map<string, NamedArray> }> {
  const metaUri = store.join(dir, 'config.json');
  if (!(await store.exists(metaUri))) throw new Error(`${dir}: not a model checkpoint (no config.json)`);
  const meta = await store.readJson<CheckpointMeta>(metaUri);
  if (meta.format !== 'sluice.gpt/1') throw new Error(`${metaUri}: format ${JSON.stringify(meta.format)}, expected "sluice.gpt/1"`);
  const uri = store.join(dir, 'model.safetensors');
  return { meta, tensors: decodeSafetensors(await store.read(uri), uri).tensors };
}

/** `state.json`: where a resumed run picks up. */
export interface TrainState {
  format: 'sluice.trainstate/1';
  fingerprint: string;
  step: number;
  tokens: number;
  loader: LoaderPosition;
  /** The init RNG's state (the tfjs path draws no random numbers after init: no dropout, data in order). */
  rng: { s: number; spare: number | null };
  adamStep: number;
  /** File names (in the state dir) of the tensors and the metrics so far. */
  tensors: string;
  metrics: string;
}

/** Hash of the parts of a run that must match for a resume to continue the same curve. */
export function runFingerprint(parts: Json): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

/** Writes the training state: tensors and metrics first, `state.json` last, then removes the previous files. */
export async function saveTrainState(
  stateDir: string,
  state: Omit<TrainState, 'format' | 'tensors' | 'metrics'>,
  tensors: Map<string, NamedArray>,
  metricsJsonl: string,
  store: Storage = defaultStorage,
): Promise<void> {
  const prev = await loadTrainStateFile(stateDir, store);
  const full: TrainState = { format: 'sluice.trainstate/1', ...state, tensors: `state-${state.step}.safetensors`, metrics: `metrics-${state.step}.jsonl` };
  await store.write(store.join(stateDir, full.tensors), encodeSafetensors(tensors));
  await store.write(store.join(stateDir, full.metrics), metricsJsonl);
  await store.write(store.join(stateDir, 'state.json'), JSON.stringify(full));
  if (prev && prev.step !== full.step) {
    for (const f of [prev.tensors, prev.metrics]) await store.delete(store.join(stateDir, f)).catch(() => undefined);
  }
}

async function loadTrainStateFile(stateDir: string, store: Storage): Promise<TrainState | null> {
  const uri = store.join(stateDir, 'state.json');
  if (!(await store.exists(uri))) return null;
  const s = await store.readJson<TrainState>(uri);
  if (s.format !== 'sluice.trainstate/1') throw new Error(`${uri}: format ${JSON.stringify(s.format)}, expected "sluice.trainstate/1"`);
  return s;
}

/**
 * The saved training state of `stateDir`, or null when there is none. Throws when it belongs to a
 * run of another configuration (resuming it would not continue the same curve).
 */
export async function loadTrainState(
  stateDir: string,
  fingerprint: string,
  store: Storage = defaultStorage,
): Promise<{ state: TrainState; tensors: Map<string, NamedArray>; metricsJsonl: string } | null> {
  const state = await loadTrainStateFile(stateDir, store);
  if (!state) return null;
  if (state.fingerprint !== fingerprint) {
    throw new Error(`${store.join(stateDir, 'state.json')}: a checkpoint of a different run configuration (${state.fingerprint}, this run ${fingerprint}); remove the state directory to start afresh`);
  }
  const uri = store.join(stateDir, state.tensors);
  return { state, tensors: decodeSafetensors(await store.read(uri), uri).tensors, metricsJsonl: await store.readText(store.join(stateDir, state.metrics)) };
}
