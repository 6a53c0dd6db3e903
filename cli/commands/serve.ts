/**
 * `sluice serve`: an OpenAI-compatible server over a checkpoint or a train stage's output
 * (serve/server.ts). Prints `listening on http://HOST:PORT` once it accepts requests; stops on
 * SIGINT or SIGTERM.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { intOption, parse } from '../args.ts';

const DEFAULT_PORT = 8000;

/**
 * The checkpoint directory of `path`: itself when it holds `config.json`; for a stage directory
 * (`<workdir>/<stage>`), its most recently finished output (`<fingerprint>/manifest.json`) that
 * holds a checkpoint.
 */
export function resolveCheckpointDir(path: string): string {
  const dir = resolve(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${path}: no such directory`);
  if (existsSync(join(dir, 'config.json'))) return dir;
  const outputs = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'manifest.json')) && existsSync(join(dir, e.name, 'config.json')))
    .map((e) => ({ dir: join(dir, e.name), t: statSync(join(dir, e.name, 'manifest.json')).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  if (!outputs.length) throw new Error(`${path}: not a checkpoint (no config.json) nor a train stage directory (no <fingerprint>/manifest.json beside a config.json)`);
  return outputs[0]!.dir;
}

/** The served model id: the stage name of a stage output, else the directory's name. */
function modelName(dir: string): string {
  const m = join(dir, 'manifest.json');
  if (existsSync(m)) {
    const stage = (JSON.parse(readFileSync(m, 'utf8')) as { stage?: unknown }).stage;
    if (typeof stage === 'string' && stage) return stage;
  }
  return basename(dir);
}

export const serveCommand: Command = {
  usage: `sluice serve <checkpoint|stage-output> [--port P] [--host 127.0.0.1] [--template T]
             [--name N] [--backend tfjs|torch] [--device auto|cpu|cuda] [--tokenizer SPEC]
             [--truncate error|left]

Serves a Sluice GPT checkpoint (a directory with config.json and model.safetensors, the output
of a train stage, or the stage's directory <workdir>/<stage>: its latest output) over an
OpenAI-compatible HTTP API:
  GET  /v1/models             the one model served
  POST /v1/completions        prompt → text; logprobs (0–20), stop, seed, n, stream (SSE)
  POST /v1/chat/completions   messages → the chat template → text; logprobs/top_logprobs
  GET  /health
Sampling: temperature (default 1), top_p, top_k (vLLM's extension), seed (fixes the output),
max_tokens (completions default 16; chat default the context length). Errors are OpenAI error
objects. One sequence is decoded at a time; requests queue.

Prints 'listening on http://HOST:PORT' once ready. Stop with Ctrl-C.

Options:
  --port P        port (default ${DEFAULT_PORT}; 0 picks a free one)
  --host H        interface to bind (default 127.0.0.1, loopback only; 0.0.0.0 exposes it)
  --template T    chat template: a built-in (chatml, llama-3, zephyr), a Jinja file, or a
                  tokenizer_config.json. Default: the tokenizer's own (chat_template.jinja or
                  tokenizer_config.json beside it); without one, chat requests answer 400
  --name N        model id to serve (default: the stage name, else the directory name)
  --backend B     tfjs (in-process) or torch (Python subprocess; GPU when there is one).
                  Default: the backend that trained it, torch only when a Python with torch exists
  --device D      torch device (default auto)
  --tokenizer S   tokenizer spec overriding the checkpoint's (encoding name, file or directory)
  --truncate M    a prompt longer than the context: error (default: 400 context_length_exceeded,
                  as OpenAI) or left (keep its last tokens; for small models behind long prompts)

Examples:
  sluice serve runs/quickstart/train
  sluice serve runs/quickstart/train --port 0 --template chatml
  curl -s localhost:8000/v1/completions -H 'content-type: application/json' \\
    -d '{"model": "train", "prompt": "The mail", "max_tokens": 20, "temperature": 0}'`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      port: { type: 'string' },
      host: { type: 'string' },
      template: { type: 'string' },
      name: { type: 'string' },
      backend: { type: 'string' },
      device: { type: 'string' },
      tokenizer: { type: 'string' },
      truncate: { type: 'string' },
    });
    if (positionals.length !== 1) throw new UsageError('give one checkpoint or train stage output directory');
    const port = intOption('port', values.port, 0) ?? DEFAULT_PORT;
    if (port > 65535) throw new UsageError(`--port must be ≤ 65535 (got ${port})`);
    const backend = values.backend;
    if (backend !== undefined && backend !== 'tfjs' && backend !== 'torch') throw new UsageError(`--backend must be tfjs or torch (got '${backend}')`);
    const device = values.device;
    if (device !== undefined && device !== 'auto' && device !== 'cpu' && device !== 'cuda') throw new UsageError(`--device must be auto, cpu or cuda (got '${device}')`);
    const truncate = values.truncate;
    if (truncate !== undefined && truncate !== 'error' && truncate !== 'left') throw new UsageError(`--truncate must be error or left (got '${truncate}')`);
    const dir = resolveCheckpointDir(positionals[0]!);
    const { openGenerator } = await import('../../trainer/generate/open.ts');
    const { loadTokenizer } = await import('../../operators/tokenize/load.ts');
    const { resolveTemplate, templateForTokenizer } = await import('../../operators/chat/template.ts');
    const { chatFormat } = await import('../../serve/chat-format.ts');
    const { startServer } = await import('../../serve/server.ts');
    const tokenizer = values.tokenizer ? await loadTokenizer(values.tokenizer) : undefined;
    const generator = await openGenerator(dir, { backend, tokenizer, torch: device ? { device } : undefined });
    // The chat template: --template, else the tokenizer's own.
    const tokSpec = values.tokenizer ?? (generator.meta.tokenizer === '.' ? dir : generator.meta.tokenizer);
    let template = values.template ? resolveTemplate(values.template) : undefined;
    if (!template && tokSpec) template = await templateForTokenizer(tokSpec).catch(() => undefined);
    const eot = generator.eotToken;
    const eosText = eot !== undefined ? Buffer.from(generator.tokenizer.tokenBytes(eot)).toString('utf8') : undefined;
    const name = values.name ?? modelName(dir);
    const server = await startServer({ generator, name, host: values.host, port, truncate, ...(template ? { chat: chatFormat(template, eosText) } : {}) });
    process.stderr.write(`serving ${name} (${dir}; ${generator.backend}; context ${generator.contextLength}; chat template ${template ? template.name : 'none: /v1/chat/completions answers 400'})\n`);
    process.stdout.write(`listening on ${server.url}\n`);
    await new Promise<void>((res) => {
      const stop = () => res();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await generator.close();
    return 0;
  },
};
