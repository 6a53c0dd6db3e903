/**
 * `sluice report --serve`: the report over HTTP on loopback, rebuilt from storage as a
 * `sluice run` elsewhere writes completion markers and manifests. No daemon, no watcher: each
 * page view (and the page's poll of `/state`, every 1.5 s) re-reads the stages' status, at most
 * once per 500 ms however many tabs poll.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Runtime } from '../engine/runtime.ts';
import { storage } from '../engine/storage/index.ts';
import { buildReport, type ReportCache, type ReportModel } from './model.ts';
import { renderReportPage } from './html.ts';
import { encodePath } from './links.ts';
import { modelVersion } from './site.ts';

/** Options of `serveReport`. */
export interface ServeOptions {
  /** TCP port on 127.0.0.1 (0: any free port). */
  port: number;
  /** How often the page polls for a new state, in ms (default 1500). */
  pollMs?: number;
}

/** A running report server. */
export interface ReportServer {
  /** `http://127.0.0.1:<port>/`. */
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Serves the live report of `rt` on 127.0.0.1 until closed. */
export async function serveReport(rt: Runtime, opts: ServeOptions): Promise<ReportServer> {
  const pollMs = opts.pollMs ?? 1500;
  const cache: ReportCache = new Map();
  let last: { at: number; model: Promise<ReportModel> } | null = null;
  const current = (): Promise<ReportModel> => {
    if (!last || performance.now() - last.at > 500) {
      const model = buildReport(rt, cache);
      last = { at: performance.now(), model };
      model.catch(() => (last = null));
    }
    return last.model;
  };

  const server = createServer(async (req, res) => {
    const send = (code: number, type: string, body: string | Uint8Array) => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.end(body);
    };
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain; charset=utf-8', 'only GET\n');
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      if (path === '/' || path === '/index.html') {
        const model = await current();
        const html = await renderReportPage(model, { href: (l) => `/w/${encodePath(l.path)}`, live: { stateUrl: '/state', version: modelVersion(model), pollMs } });
        return send(200, 'text/html; charset=utf-8', html);
      }
      if (path === '/state') return send(200, 'text/plain; charset=utf-8', modelVersion(await current()) + '\n');
      if (path === '/report.json') return send(200, 'application/json', JSON.stringify(await current(), null, 1) + '\n');
      if (path.startsWith('/w/')) {
        // Only the reports the page links: nothing else of the workdir is reachable.
        const rel = decodeURIComponent(path.slice(3));
        const model = await current();
        const links = [...(model.audit ? [model.audit] : []), ...model.stages.flatMap((s) => s.reports)];
        const hit = links.find((l) => l.path === rel);
        if (!hit) return send(404, 'text/plain; charset=utf-8', `not a report of this pipeline: ${rel}\n`);
        return send(200, 'text/html; charset=utf-8', await storage.read(hit.uri));
      }
      return send(404, 'text/plain; charset=utf-8', 'not found\n');
    } catch (e) {
      // A state read while a run renames files may fail; the page's next poll retries.
      if (!res.headersSent) send(500, 'text/plain; charset=utf-8', `${(e as Error).message}\n`);
      else res.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new Error(`port ${opts.port} on 127.0.0.1 is in use; pass --port P (0 picks a free one)`) : e));
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
