/**
 * The torch backend's {@link DecodeModel}: trainer/torch/generate.py as a subprocess (GPU when
 * there is one), asked for one logits row per step. Requests are answered in order; the answer
 * is a JSON line, followed for logits by the raw float32 row.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import type { DecodeBackend, DecodeModel } from '../generate/lm.ts';
import { TORCH_DIR, findPython } from './runner.ts';

/** Options of the torch decoder. */
export interface TorchDecodeOptions {
  /** Python with torch (default: as the trainer finds it). */
  python?: string;
  /** `auto` (default: CUDA when available), `cpu` or `cuda`. */
  device?: 'auto' | 'cpu' | 'cuda';
  signal?: AbortSignal;
}

type Answer = { head: Record<string, unknown>; data?: Buffer };

/** Starts generate.py on the local checkpoint directory `dir`; resolves once the model is loaded. */
export async function torchDecodeModel(dir: string, vocabSize: number, contextLength: number, opts: TorchDecodeOptions = {}): Promise<DecodeModel & { device: string; pid: number | undefined }> {
  const python = findPython(opts.python);
  if (!python) throw new Error('generate: backend torch needs a Python with torch (set SLUICE_PYTHON or install python3-torch)');
  const child: ChildProcessWithoutNullStreams = spawn(python, [join(TORCH_DIR, 'generate.py'), dir, opts.device ?? 'auto'], { env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  const stderr: string[] = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    stderr.push(d);
    if (stderr.length > 50) stderr.shift();
  });
  const waiting: Array<{ resolve: (a: Answer) => void; reject: (e: Error) => void }> = [];
  let exited: Error | null = null;
  // Framing: a JSON line, then `logits` × 4 raw bytes when the line has `logits`.
  let buf: Buffer = Buffer.alloc(0);
  let pending: { head: Record<string, unknown>; need: number } | null = null;
  child.stdout.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      if (!pending) {
        const nl = buf.indexOf(10);
        if (nl < 0) return;
        const line = buf.subarray(0, nl).toString('utf8');
        buf = buf.subarray(nl + 1);
        let head: Record<string, unknown>;
        try {
          head = JSON.parse(line) as Record<string, unknown>;
        } catch {
          waiting.shift()?.reject(new Error(`generate (torch): unparsable answer from generate.py: ${line.slice(0, 200)}`));
          continue;
        }
        if (typeof head.logits === 'number') pending = { head, need: head.logits * 4 };
        else {
          waiting.shift()?.resolve({ head });
          continue;
        }
      }
      if (buf.length < pending.need) return;
      const data = Buffer.from(buf.subarray(0, pending.need));
      buf = buf.subarray(pending.need);
      const head = pending.head;
      pending = null;
      waiting.shift()?.resolve({ head, data });
    }
  });
  child.on('close', (code) => {
    exited = new Error(`generate (torch): generate.py exited with ${code}: ${stderr.join('').slice(-1500)}`);
    for (const w of waiting.splice(0)) w.reject(exited);
  });
  const next = () =>
    new Promise<Answer>((resolve, reject) => {
      if (exited) reject(exited);
      else waiting.push({ resolve, reject });
    });
  const onAbort = () => child.kill('SIGTERM');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const ready = await next();
  if (!ready.head.ready) throw new Error(`generate (torch): generate.py did not start: ${JSON.stringify(ready.head).slice(0, 300)}`);
  let chain: Promise<unknown> = Promise.resolve();
  const ask = (req: Record<string, unknown>): Promise<Answer> => {
    const p = chain.then(async () => {
      const answer = next();
      child.stdin.write(JSON.stringify(req) + '\n');
      const a = await answer;
      if (typeof a.head.error === 'string') throw new Error(`generate (torch): ${a.head.error}`);
      return a;
    });
    chain = p.catch(() => undefined);
    return p;
  };
  let sessions = 0;
  return {
    backend: 'torch',
    device: String(ready.head.device),
    pid: child.pid,
    vocabSize,
    contextLength,
    async scorePrompt(tokens, topN) {
      if (tokens.length < 2) return [];
      const a = await ask({ op: 'score', tokens, top: topN });
      const lp = a.head.logprobs as number[];
      const top = a.head.top as Array<Array<[number, number]>>;
      return lp.map((logprob, j) => ({ logprob, top: top[j]!.map(([token, l]) => ({ token, logprob: l })) }));
    },
    session(): DecodeBackend {
      const id = ++sessions;
      return {
        vocabSize,
        contextLength,
        async forward(tokens, o) {
          const a = await ask({ op: 'forward', session: id, tokens, cache: o.cache, reset: o.reset });
          if (!a.data) throw new Error('generate (torch): answer without logits');
          const out = new Float32Array(a.data.length / 4);
          new Uint8Array(out.buffer).set(a.data);
          return out;
        },
        async close() {
          if (!exited) await ask({ op: 'close', session: id });
        },
      };
    },
    async close() {
      opts.signal?.removeEventListener('abort', onAbort);
      child.stdin.end();
      await new Promise<void>((res) => (exited ? res() : child.on('close', () => res())));
    },
  };
}
