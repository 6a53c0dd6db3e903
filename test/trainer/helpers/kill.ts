/** What the kill/resume tests share: a training child killed mid-run, the whole process group (node and any Python) at once. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes `opts` to `cfg`, starts `helpers/<child>` on it in its own process group, SIGKILLs the
 * group once `ready()` holds (polled every 10 ms, for at most 120 s) and waits for it to end.
 * Returns whether it was killed (false: it never got ready).
 */
export async function killMidRun(child: 'train-child.ts' | 'dpo-child.ts', cfg: string, opts: object, ready: () => boolean): Promise<boolean> {
  writeFileSync(cfg, JSON.stringify(opts));
  const proc = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, child), cfg], { stdio: 'ignore', detached: true });
  const exited = new Promise<void>((res) => proc.on('close', () => res()));
  let killed = false;
  for (let i = 0; i < 12000 && !killed; i++) {
    await new Promise((r) => setTimeout(r, 10));
    if (ready()) {
      process.kill(-proc.pid!, 'SIGKILL');
      killed = true;
    }
  }
  await exited;
  return killed;
}
