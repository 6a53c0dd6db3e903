/**
 * The static report site: `index.html` (self-contained) and `report.json` (the model, which
 * `sluice report --compare` reads) in one directory, by default `<workdir>/_report` (stage names
 * cannot start with '_', so it never collides with a stage).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRemote, storage } from '../engine/storage/index.ts';
import { openRuntime } from '../engine/runner.ts';
import { sha256, type Runtime } from '../engine/runtime.ts';
import { buildReport, type ReportModel } from './model.ts';
import { renderReportPage } from './html.ts';
import { hrefFrom } from './links.ts';

/** Name of the report directory inside a workdir. */
export const REPORT_DIR = '_report';

/** `<workdir>/_report`. */
export function defaultReportDir(workdir: string): string {
  return storage.join(workdir, REPORT_DIR);
}

/** A digest of the model without its generation time: equal when nothing on storage changed. */
export function modelVersion(model: ReportModel): string {
  const { generated: _, ...rest } = model;
  return sha256(JSON.stringify(rest)).slice(0, 16);
}

async function put(uri: string, text: string): Promise<void> {
  if (isRemote(uri)) await storage.write(uri, text);
  else {
    await mkdir(join(uri, '..'), { recursive: true });
    await writeFile(uri, text);
  }
}

/** Writes `index.html` and `report.json` of `model` into `outDir`; returns the URI of `index.html`. */
export async function writeSite(model: ReportModel, outDir: string): Promise<string> {
  const html = await renderReportPage(model, { href: (l) => hrefFrom(outDir, l.uri) });
  const index = storage.join(outDir, 'index.html');
  await put(storage.join(outDir, 'report.json'), JSON.stringify(model, null, 1) + '\n');
  await put(index, html);
  return index;
}

/** Builds the report of the pipeline in `file` against its workdir (or `opts.workdir`) and writes the site. */
export async function writeReport(file: string, opts: { workdir?: string; out?: string } = {}): Promise<{ index: string; model: ReportModel }> {
  const rt: Runtime = await openRuntime(file, opts.workdir);
  const model = await buildReport(rt);
  const index = await writeSite(model, opts.out ?? defaultReportDir(rt.workdir));
  return { index, model };
}
