/**
 * A `sluice serve` of a model, started as a child process for as long as a judge run or an
 * annotation stage needs it: the offline default, so generating answers and judging them need no
 * network. It relies only on `sluice serve`'s command-line contract: `--port 0` picks a free port,
 * `listening on http://HOST:PORT` is printed once it is ready, `GET /v1/models` names the model,
 * and SIGTERM stops it.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { lazyPackage } from '../engine/modules/lazy.ts';
import { PACKAGE_ROOT } from '../engine/modules/package-root.ts';

const undici = lazyPackage<typeof import('undici')>('undici');

/** A running `sluice serve`: its OpenAI base URL, the model id it serves, and how to stop it. */
export interface ServeProcess {
  /** `http://HOST:PORT/v1`. */
  endpoint: string;
  /** The model id `/v1/models` lists. */
  model: string;
  close(): Promise<void>;
}

/** Options of {@link spawnServe}: `sluice serve` flags. */
export interface SpawnServeOptions {
  /** `--template`: a chat template name or file (default: the tokenizer's own). */
  template?: string;
  /** `--backend tfjs|torch`. */
  backend?: string;
  /** `--truncate`: a prompt longer than the model's context is refused (`error`, the server's default) or keeps its last tokens (`left`). */
  truncate?: 'error' | 'left';
  /** `--name`: the model id the server lists and answers to (default: the stage name, else the directory's name). */
  name?: string;
  /** How long to wait for `listening on` in ms (default 300,000: loading a model may take a while). */
  startTimeoutMs?: number;
  /** Where the server's stderr lines go (default: dropped). */
  log?: (line: string) => void;
}

/**
 * Starts `sluice serve <target> --port 0` (a checkpoint directory or a train stage's output) on
 * loopback and resolves once it listens. Throws with the server's last stderr lines when it exits
 * first or does not start within `startTimeoutMs`.
 */
export async function spawnServe(target: string, opts: SpawnServeOptions = {}): Promise<ServeProcess> {
  const args = [join(PACKAGE_ROOT, 'cli', 'bin.js'), 'serve', target, '--port', '0', '--host', '127.0.0.1'];
  if (opts.template) args.push('--template', opts.template);
  if (opts.backend) args.push('--backend', opts.backend);
  if (opts.truncate) args.push('--truncate', opts.truncate);
  if (opts.name) args.push('--name', opts.name);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  let errBuf = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    errBuf += d;
    let nl: number;
    while ((nl = errBuf.indexOf('\n')) >= 0) {
      const line = errBuf.slice(0, nl);
      errBuf = errBuf.slice(nl + 1);
      tail.push(line);
      if (tail.length > 20) tail.shift();
      opts.log?.(line);
    }
  });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
  };
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`sluice serve ${target}: not listening after ${(opts.startTimeoutMs ?? 300_000) / 1000} s`)), opts.startTimeoutMs ?? 300_000);
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`sluice serve ${target} exited (code ${code}) before listening:\n${tail.join('\n')}`));
      });
    });
    const endpoint = `${url.replace(/\/+$/, '')}/v1`;
    const res = await undici().request(`${endpoint}/models`);
    const body = (await res.body.json()) as { data?: Array<{ id?: unknown }> };
    const model = body.data?.[0]?.id;
    if (typeof model !== 'string') throw new Error(`sluice serve ${target}: /v1/models names no model`);
    return { endpoint, model, close };
  } catch (e) {
    await close();
    throw e;
  }
}
