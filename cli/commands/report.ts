/**
 * `sluice report`: one browsable page per workdir (the DAG, each stage's status and figures,
 * every report the stages wrote), served live with `--serve`, or two runs compared with
 * `--compare`. Everything beyond argument parsing is imported when the command runs, so the
 * layout library never loads for other commands or `--help`.
 */
import { resolve } from 'node:path';
import type { Command } from '../command.ts';
import { UsageError } from '../command.ts';
import { intOption, parse } from '../args.ts';

const DEFAULT_PORT = 8765;

function localOrRemote(p: string): string {
  return /^s3:\/\//.test(p) || p.startsWith('file://') ? p : resolve(p);
}

export const reportCommand: Command = {
  usage: `sluice report <pipeline.ts> [--workdir W] [--out DIR] [--serve [--port P]]
sluice report --compare <workdirA> <workdirB> [--out DIR]

Writes a self-contained static site, DIR/index.html (default DIR: <workdir>/_report), that
works from file:// with no network: the pipeline's DAG with each stage coloured by status
(done, stale, partial, pending) and labelled with docs in → out, bytes, seconds and drop share;
a table of stages with fingerprint, tasks, time and throughput; links to every report the
stages wrote (each .html file in a stage's output, and <workdir>/audit.html); and each stage's
manifest figures. DIR/report.json holds the same data. 'sluice run' writes it at the end of
every run.

Options:
  --workdir W     workdir (local path or s3://bucket/prefix); overrides the pipeline's
  --out DIR       where to write index.html and report.json (default <workdir>/_report)
  --serve         serve the report on http://127.0.0.1:P/ instead of writing it; the page
                  refreshes as a 'sluice run' in another terminal completes tasks (it reads
                  the completion markers; stop with Ctrl-C)
  --port P        port for --serve (default ${DEFAULT_PORT}; 0 picks a free one)
  --compare A B   compare two workdirs' runs per stage: fingerprint, docs in/out, drops per
                  operator and reason. Prints a table and writes DIR/compare.html (default
                  DIR: <B>/_report). Reads each workdir's _report/report.json, else its
                  manifests (per stage the most recently finished output).

Examples:
  sluice report pipelines/quickstart.ts
  sluice report pipelines/quickstart.ts --serve --port 8000
  sluice report --compare runs/minwords50 runs/minwords100`,
  async run(argv) {
    const { values, positionals } = parse(argv, {
      workdir: { type: 'string' },
      out: { type: 'string' },
      serve: { type: 'boolean' },
      port: { type: 'string' },
      compare: { type: 'boolean' },
    });
    if (values.compare) {
      if (positionals.length !== 2) throw new UsageError('--compare takes exactly two workdirs: sluice report --compare <workdirA> <workdirB>');
      if (values.serve || values.port !== undefined || values.workdir !== undefined) throw new UsageError('--compare takes no --serve, --port or --workdir');
      const [a, b] = positionals.map(localOrRemote) as [string, string];
      const { loadSnapshot } = await import('../../report/snapshot.ts');
      const { compareReports, renderCompareText, renderCompareHtml } = await import('../../report/compare.ts');
      const { defaultReportDir } = await import('../../report/site.ts');
      const { storage, isRemote } = await import('../../engine/storage/index.ts');
      const c = compareReports(await loadSnapshot(a), await loadSnapshot(b));
      const out = storage.join(values.out ? localOrRemote(values.out) : defaultReportDir(b), 'compare.html');
      if (isRemote(out)) await storage.write(out, renderCompareHtml(c));
      else {
        const { mkdir, writeFile } = await import('node:fs/promises');
        await mkdir(resolve(out, '..'), { recursive: true });
        await writeFile(out, renderCompareHtml(c));
      }
      process.stdout.write(renderCompareText(c));
      process.stderr.write(`comparison: ${out}\n`);
      return 0;
    }
    if (positionals.length !== 1) throw new UsageError('expected exactly one pipeline file (or --compare <workdirA> <workdirB>)');
    if (values.port !== undefined && !values.serve) throw new UsageError('--port needs --serve');
    if (values.serve && values.out !== undefined) throw new UsageError('--serve serves the report live and writes nothing; --out writes the static site. Pick one');
    const file = positionals[0]!;
    if (values.serve) {
      const port = intOption('port', values.port, 0) ?? DEFAULT_PORT;
      if (port > 65535) throw new UsageError(`--port must be ≤ 65535 (got ${port})`);
      const { openRuntime } = await import('../../engine/runner.ts');
      const { serveReport } = await import('../../report/serve.ts');
      const rt = await openRuntime(file, values.workdir);
      const srv = await serveReport(rt, { port });
      process.stderr.write(`serving the report of ${rt.pipeline.name} (${rt.workdir}) at ${srv.url}  (Ctrl-C to stop)\n`);
      await new Promise<void>((done) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void srv.close().then(done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      return 0;
    }
    const { writeReport } = await import('../../report/site.ts');
    const { index, model } = await writeReport(file, { workdir: values.workdir, out: values.out ? localOrRemote(values.out) : undefined });
    const counts = (['done', 'partial', 'stale', 'pending'] as const).map((st) => [st, model.stages.filter((s) => s.status === st).length] as const).filter(([, n]) => n);
    process.stderr.write(`${model.pipeline}: ${model.stages.length} stage(s): ${counts.map(([st, n]) => `${n} ${st}`).join(', ')}\n`);
    process.stdout.write(`${index}\n`);
    return 0;
  },
};
