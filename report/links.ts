/**
 * Finding the reports a run wrote, without a list of report kinds: every `.html` file a stage
 * wrote into its output (the training report, the contamination report, and whatever a later
 * stage writes — a judge or stats page is linked the day it exists), plus the whole-pipeline
 * audit report `sluice run` writes to `<workdir>/audit.html`.
 */
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isRemote, storage } from '../engine/storage/index.ts';

/** One linked report. */
export interface ReportLink {
  /** The report's `<title>`, else its file name. */
  title: string;
  /** URI of the file (local path or s3://). */
  uri: string;
  /** Path relative to the workdir (how `--serve` addresses it). */
  path: string;
  /** Fragment to jump to (the audit page's stage section), without '#'. */
  anchor?: string;
}

const TITLE = /<title>([^<]{1,200})<\/title>/i;

/** The `<title>` of an HTML file (first 8 KB), or null. */
export async function htmlTitle(uri: string): Promise<string | null> {
  try {
    const stream = await storage.readStream(uri, 0, 8192);
    let head = '';
    for await (const chunk of stream) head += Buffer.from(chunk as Uint8Array).toString('utf8');
    const m = TITLE.exec(head);
    return m ? m[1]!.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").trim() : null;
  } catch {
    return null;
  }
}

/** The HTML reports among a stage's files (paths relative to `stageDir`), with their titles. */
export async function stageReports(workdir: string, stageDir: string, files: string[]): Promise<ReportLink[]> {
  const out: ReportLink[] = [];
  for (const f of files) {
    if (!f.toLowerCase().endsWith('.html')) continue;
    const uri = storage.join(stageDir, f);
    out.push({ title: (await htmlTitle(uri)) ?? f, uri, path: workdirPath(workdir, uri) });
  }
  return out;
}

/** `<workdir>/audit.html` when it exists. */
export async function auditReport(workdir: string): Promise<ReportLink | null> {
  const uri = storage.join(workdir, 'audit.html');
  if (!(await storage.exists(uri))) return null;
  return { title: (await htmlTitle(uri)) ?? 'audit.html', uri, path: 'audit.html' };
}

/** The path of `uri` below `workdir` (with '/' separators). */
export function workdirPath(workdir: string, uri: string): string {
  const base = workdir.replace(/\/+$/, '') + '/';
  if (!uri.startsWith(base)) throw new Error(`${uri} is not under the workdir ${workdir}`);
  return uri.slice(base.length);
}

/**
 * An href from a page in `outDir` to `uri`: a relative path when both are local (so the site
 * and the workdir can move together and the page works from file://) or in the same S3 bucket;
 * the URI itself otherwise.
 */
export function hrefFrom(outDir: string, uri: string): string {
  const local = (u: string) => (u.startsWith('file://') ? fileURLToPath(u) : u);
  if (!isRemote(outDir) && !isRemote(uri)) return encodePath(relative(local(outDir), local(uri)).split('\\').join('/'));
  const bucket = (u: string) => /^s3:\/\/([^/]+)\//.exec(u)?.[1];
  if (isRemote(outDir) && isRemote(uri) && bucket(outDir) === bucket(uri)) {
    const key = (u: string) => u.replace(/^s3:\/\/[^/]+/, '');
    return encodePath(relativePosix(key(outDir), key(uri)));
  }
  return uri;
}

function relativePosix(from: string, to: string): string {
  const a = from.split('/').filter(Boolean);
  const b = to.split('/').filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return [...a.slice(i).map(() => '..'), ...b.slice(i)].join('/');
}

/** Percent-encodes each path segment (names may hold spaces or '#'). */
export function encodePath(p: string): string {
  return p.split('/').map((s) => (s === '..' || s === '.' ? s : encodeURIComponent(s))).join('/');
}
