/**
 * `exportCheckpoint`: a `sluice.gpt/1` checkpoint (either backend's) as a GGUF file for
 * llama.cpp, Ollama, LM Studio and node-llama-cpp (trainer/export/gguf.ts), or as a Hugging Face
 * GPT-2 directory for `transformers` and vLLM (trainer/export/hf.ts). What `sluice export` runs.
 */
import { storage as defaultStorage, type Storage } from '../../engine/storage/index.ts';
import { loadTokenizer } from '../../operators/tokenize/load.ts';
import type { BpeTokenizer } from '../../operators/tokenize/bpe/tokenizer.ts';
import { readModelCheckpoint } from '../checkpoint.ts';
import { trainerModelConfig } from '../options.ts';
import { writeCheckpointGguf, type GgufDtype, type GgufExportResult } from './gguf.ts';
import { hfGpt2Files } from './hf.ts';
import { CheckpointWeights } from './weights.ts';

export { ggufArchitecture, type GgufDtype, type GgufExportResult } from './gguf.ts';
export { hfGpt2Config, hfGpt2Tensors } from './hf.ts';

/** The export formats: a GGUF file, or a Hugging Face GPT-2 directory around `model.safetensors`. */
export type ExportFormat = 'gguf' | 'safetensors';

/** Options of {@link exportCheckpoint}. */
export interface ExportOptions {
  format: ExportFormat;
  /** The GGUF file to write (gguf), or the directory to write the Hugging Face files into (safetensors). Local or `s3://`. */
  out: string;
  /** Tokenizer spec (as `loadTokenizer` takes) overriding the checkpoint's own (default: the checkpoint's). */
  tokenizer?: string;
  /** GGUF matrix precision (default `f32`, exact; `f16` halves the file). */
  dtype?: GgufDtype;
  /** GGUF `general.name` (default: the checkpoint directory's name). */
  name?: string;
  storage?: Storage;
}

/** What an export wrote. */
export interface ExportResult {
  format: ExportFormat;
  /** The files written. */
  files: string[];
  bytes: number;
  /** GGUF only: architecture, vocabulary and tokenizer agreement. */
  gguf?: GgufExportResult;
  /** Things the user should know (e.g. no tokenizer exported). */
  notes: string[];
}

async function checkpointTokenizer(dir: string, recorded: string | null, override: string | undefined, store: Storage): Promise<BpeTokenizer | null> {
  const spec = tokenizerSpec(dir, recorded, override);
  return spec ? loadTokenizer(spec, store) : null;
}

const tokenizerSpec = (dir: string, recorded: string | null, override: string | undefined) => override ?? (recorded === '.' ? dir : recorded);

/** The tokenizer's own chat template source (chat_template.jinja or tokenizer_config.json beside it), or undefined when it has none. */
async function tokenizerChatTemplate(spec: string | null, store: Storage): Promise<string | undefined> {
  if (!spec) return undefined;
  const { templateForTokenizer } = await import('../../operators/chat/template.ts');
  try {
    return (await templateForTokenizer(spec, undefined, store)).source;
  } catch (e) {
    // No template is the common case (a pretrained model); a template that does not parse is an error.
    if (/has no chat template/.test((e as Error).message)) return undefined;
    throw e;
  }
}

/**
 * Exports the checkpoint in `dir` (local or `s3://`): reads `config.json` and
 * `model.safetensors`, checks every tensor against the config, and writes `opts.out`. The GGUF
 * file is written atomically; the Hugging Face directory file by file, `config.json` last, so a
 * directory without `config.json` is an unfinished export. Errors name the checkpoint and what
 * does not fit (a missing tensor, a rotary model in the GPT-2 layout, a tokenizer llama.cpp
 * cannot reproduce).
 */
export async function exportCheckpoint(dir: string, opts: ExportOptions): Promise<ExportResult> {
  const store = opts.storage ?? defaultStorage;
  const { meta, tensors } = await readModelCheckpoint(dir, store);
  const config = trainerModelConfig(meta.model);
  const weights = new CheckpointWeights(config, tensors, dir);
  const tok = await checkpointTokenizer(dir, meta.tokenizer, opts.tokenizer, store);
  const notes: string[] = [];
  const format = opts.format;
  switch (format) {
    case 'gguf': {
      if (!tok) throw new Error(`${dir}: the checkpoint records no tokenizer, and a GGUF file must embed one; pass --tokenizer (a tokenizer directory or encoding name)`);
      if (opts.dtype && opts.dtype !== 'f32' && opts.dtype !== 'f16') throw new Error(`export: dtype must be f32 or f16, got ${JSON.stringify(opts.dtype)}`);
      const name = opts.name ?? (dir.replace(/\/+$/, '').split('/').pop() || 'sluice-gpt');
      const writer = await store.writer(opts.out);
      let gguf: GgufExportResult;
      try {
        const chatTemplate = await tokenizerChatTemplate(tokenizerSpec(dir, meta.tokenizer, opts.tokenizer), store);
        gguf = await writeCheckpointGguf(writer, meta, weights, tok, { name, dtype: opts.dtype, ...(chatTemplate !== undefined ? { chatTemplate } : {}) });
        await writer.commit();
      } catch (e) {
        await writer.abort().catch(() => undefined);
        throw e;
      }
      if (gguf.vocab.differentTokens) {
        notes.push(`llama.cpp's tokenizer (pre-tokenizer ${gguf.vocab.pre}) encodes ${gguf.vocab.differentTokens} vocabulary word(s) differently from Sluice's, e.g. ${gguf.vocab.differentExamples.map((s) => JSON.stringify(s)).join(', ')}; prompts holding them tokenize differently`);
      }
      return { format, files: [opts.out], bytes: gguf.bytes, gguf, notes };
    }
    case 'safetensors': {
      if (!tok) notes.push('the checkpoint records no tokenizer: no tokenizer files written (pass --tokenizer to add them)');
      const files = hfGpt2Files(meta, weights, tok);
      // config.json last: a directory without it is an unfinished export.
      const names = Object.keys(files).sort((a, b) => Number(a === 'config.json') - Number(b === 'config.json') || a.localeCompare(b));
      let bytes = 0;
      const written: string[] = [];
      for (const f of names) {
        const uri = store.join(opts.out, f);
        const data = files[f]!;
        await store.write(uri, data);
        bytes += typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
        written.push(uri);
      }
      return { format, files: written, bytes, notes };
    }
    default: {
      const never: never = format;
      throw new Error(`export: format must be gguf or safetensors, got ${JSON.stringify(never)}`);
    }
  }
}
