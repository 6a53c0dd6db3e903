/**
 * What the torch training runners (runner.ts for train.py, ../dpo/torch.ts for dpo.py) share:
 * running a Python script that reports JSON lines on stdout, making remote (`s3://`) state local
 * for it and copying its final checkpoint out.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type { Storage } from '../../engine/storage/index.ts';

/** Whether `uri` is on S3 (the Python side reads local files only). */
export const isRemote = (uri: string) => uri.startsWith('s3://');
/** A local URI as a path (`file://` stripped). */
export const localPath = (uri: string) => (uri.startsWith('file://') ? fileURLToPath(uri) : uri);

/** How a script ended: its exit code and the last 40 non-empty lines of its stderr. */
export interface ScriptExit {
  code: number | null;
  stderr: string[];
}

/**
 * Runs `python args…` unbuffered. Each stdout line that starts with `{` is parsed and passed to
 * `onLine` (an unparsable line, or one `onLine` throws on, is logged and skipped); other
 * non-empty lines go to `log`. `signal` sends SIGTERM. Resolves when the process closes.
 */
export async function runJsonLines(python: string, args: string[], onLine: (r: Record<string, unknown>, line: string) => void, log: (m: string) => void, signal?: AbortSignal): Promise<ScriptExit> {
  const stderr: string[] = [];
  const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  const onAbort = () => child.kill('SIGTERM');
  signal?.addEventListener('abort', onAbort, { once: true });
  let buf = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (!line.startsWith('{')) {
        if (line) log(line);
        continue;
      }
      let r: Record<string, unknown>;
      try {
        r = JSON.parse(line) as Record<string, unknown>;
      } catch {
        log(`torch: unparsable line: ${line.slice(0, 200)}`);
        continue;
      }
      try {
        onLine(r, line);
      } catch (e) {
        log(`torch: bad line (${(e as Error).message}): ${line.slice(0, 200)}`);
      }
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    for (const l of chunk.split('\n')) {
      if (!l.trim()) continue;
      stderr.push(l);
      if (stderr.length > 40) stderr.shift();
    }
  });
  const code: number | null = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  signal?.removeEventListener('abort', onAbort);
  return { code, stderr };
}

/**
 * The state directory as a local path for the script: `stateDir` itself when local, else
 * `<work>/state` with `stateFile` downloaded into it when the remote directory has one. Created.
 */
export async function localState(stateDir: string, work: string, stateFile: string, store: Storage): Promise<{ dir: string; remote: boolean }> {
  const remote = isRemote(stateDir);
  const dir = remote ? join(work, 'state') : localPath(stateDir);
  mkdirSync(dir, { recursive: true });
  if (remote && (await store.exists(store.join(stateDir, stateFile)))) {
    await pipeline(await store.readStream(store.join(stateDir, stateFile)), createWriteStream(join(dir, stateFile)));
  }
  return { dir, remote };
}

/** Copies the model checkpoint (`model.safetensors`, `config.json`) the script wrote in `from` to `to`; a missing file throws, prefixed `who`. */
export async function copyModelOut(from: string, to: string, store: Storage, who: string): Promise<void> {
  for (const f of ['model.safetensors', 'config.json']) {
    const src = join(from, f);
    if (!existsSync(src)) throw new Error(`${who} did not write ${f}`);
    await store.write(store.join(to, f), readFileSync(src));
  }
}
