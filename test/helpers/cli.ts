/**
 * Runs the real `sluice` executable (cli/bin.js) in a child process, and writes pipeline files
 * into temporary project directories (with `"type": "module"`, importing Sluice by path).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './data.ts';

export const BIN = join(REPO, 'cli', 'bin.js');
/** Import specifier of Sluice's entry file, for generated pipeline files. */
export const SLUICE = join(REPO, 'index.ts');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `sluice <args>`; the child leads its own process group so tests can kill the whole run. */
export function startCli(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): { child: ChildProcess; done: Promise<CliResult> } {
  return startProcess(process.execPath, [BIN, ...args], opts);
}

/** Starts any command the same way (own process group, stdout and stderr collected). */
export function startProcess(command: string, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(command, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Runs `sluice <args>` to completion. */
export function runCli(args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  return startCli(args, opts).done;
}

/** A fresh temporary project directory with `package.json` `{ "type": "module" }`. */
export function tempProject(prefix = 'sluice-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  return dir;
}

/** Writes a pipeline file whose body may use `pipeline, read, map, filter` (imported from Sluice). */
export function writePipeline(dir: string, file: string, body: string): string {
  const path = join(dir, file);
  writeFileSync(path, `import { pipeline, read, map, filter } from ${JSON.stringify(SLUICE)};\n${body}\n`);
  return path;
}
