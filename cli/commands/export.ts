/** `sluice export`: a trained checkpoint as GGUF (llama.cpp) or Hugging Face GPT-2 safetensors. */
import { resolve } from 'node:path';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { parse } from '../args.ts';
import { exportCheckpoint, type ExportFormat, type GgufDtype } from '../../trainer/export/index.ts';

const abs = (p: string) => (p.startsWith('s3://') || p.startsWith('file://') ? p : resolve(p));

export const exportCommand: Command = {
  usage: `sluice export <checkpoint> --format gguf|safetensors --out F [options]

Exports a trained model checkpoint (a directory with config.json and model.safetensors: the
output of a train stage, local or s3://) with its tokenizer.

  --format gguf         F is a .gguf file for llama.cpp, Ollama, LM Studio and node-llama-cpp:
                        architecture gpt2 (learned positions) or gptneox (rotary), the tokenizer
                        embedded (tokenizer.ggml.model gpt2)
  --format safetensors  F is a directory in the Hugging Face GPT-2 layout for transformers and
                        vLLM: model.safetensors, config.json (GPT2Config), tokenizer.json,
                        tokenizer_config.json, special_tokens_map.json, generation_config.json
                        (learned positions only)
  --out F               the file (gguf) or directory (safetensors) to write (required)
  --tokenizer SPEC      tokenizer to embed instead of the checkpoint's own: a tokenizer directory
                        or file, or an encoding name (cl100k_base, gpt2, …)
  --dtype f32|f16       GGUF matrix precision (default f32: exact; f16 halves the file)
  --name NAME           GGUF general.name (default: the checkpoint directory's name)

Prints what it wrote. Exit code 1 when the checkpoint cannot be exported (named reason), 2 on
usage errors.

Examples:
  sluice export runs/quickstart/train/<fingerprint> --format gguf --out quickstart.gguf
  sluice export runs/quickstart/train/<fingerprint> --format safetensors --out quickstart-hf/`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      format: { type: 'string' },
      out: { type: 'string' },
      tokenizer: { type: 'string' },
      dtype: { type: 'string' },
      name: { type: 'string' },
    });
    if (positionals.length !== 1) throw new UsageError(positionals.length ? `give one checkpoint, got ${positionals.length}` : 'give the checkpoint directory to export');
    const format = values.format;
    if (format !== 'gguf' && format !== 'safetensors') throw new UsageError(`--format must be gguf or safetensors${format === undefined ? '' : ` (got '${format}')`}`);
    if (!values.out) throw new UsageError('--out F is required');
    const dtype = values.dtype;
    if (dtype !== undefined && dtype !== 'f32' && dtype !== 'f16') throw new UsageError(`--dtype must be f32 or f16 (got '${dtype}')`);
    if (dtype !== undefined && format !== 'gguf') throw new UsageError('--dtype applies to --format gguf only (safetensors are written float32)');
    const r = await exportCheckpoint(abs(positionals[0]!), {
      format: format as ExportFormat,
      out: abs(values.out),
      ...(values.tokenizer ? { tokenizer: values.tokenizer } : {}),
      ...(dtype ? { dtype: dtype as GgufDtype } : {}),
      ...(values.name ? { name: values.name } : {}),
    });
    const mb = (r.bytes / 1e6).toFixed(2);
    if (r.gguf) {
      const g = r.gguf;
      process.stdout.write(`wrote ${r.files[0]} (${mb} MB): GGUF, architecture ${g.architecture}, ${g.tensors} tensors, ${dtype ?? 'f32'}; tokenizer gpt2/${g.vocab.pre}, ${g.vocab.size} tokens, ${g.vocab.merges} merges\n`);
    } else {
      process.stdout.write(`wrote ${r.files.length} files (${mb} MB) into ${abs(values.out)}: ${r.files.map((f) => f.split('/').pop()!).sort().join(', ')}\n`);
    }
    for (const n of r.notes) process.stderr.write(`note: ${n}\n`);
    return 0;
  },
};
