/**
 * The fixture website the crawl tests serve on 127.0.0.1: robots.txt with a disallowed path and
 * a crawl delay, pages linking in cycles, a `<base>`, a nofollow link, a redirect loop, an
 * endless redirect chain, a 500 that recovers, a 429 with Retry-After, a page slower than the
 * timeout, a 50 MB page (streamed, so the test stays fast), JSON, and a Latin-1 page. Every
 * request is logged with its arrival time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Hit {
  path: string;
  at: number;
  ua: string;
}

export interface Site {
  url: string;
  hits: Hit[];
  close(): Promise<void>;
}

const html = (body: string) => `<!doctype html><html><head><meta charset="utf-8"><title>t</title></head><body>${body}</body></html>`;

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** The full fixture site. */
export function fixtureRoutes(): Record<string, Handler> {
  const page = (body: string): Handler => (_q, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(html(body));
  };
  const redirect = (to: string, code = 302): Handler => (_q, res) => {
    res.writeHead(code, { location: to });
    res.end();
  };
  return {
    '/robots.txt': (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('User-agent: *\nDisallow: /private/\nCrawl-delay: 0.2\n\nUser-agent: OtherBot\nDisallow: /\n');
    },
    '/': page(
      [
        '<a href="/a">a</a>',
        '<a href="b">b</a>',
        '<a href="/private/secret">secret</a>',
        '<a href="/nofollow-target" rel="nofollow">nf</a>',
        '<a href="/loop-a">loop</a>',
        '<a href="/redirect-chain/1">chain</a>',
        '<a href="/flaky">flaky</a>',
        '<a href="/busy">busy</a>',
        '<a href="/slow">slow</a>',
        '<a href="/huge">huge</a>',
        '<a href="/data.json">json</a>',
        '<a href="/latin1">latin1</a>',
        '<a href="/missing">missing</a>',
        '<a href="/old">old</a>',
        '<a href="http://elsewhere.invalid/x">external</a>',
        '<a href="mailto:x@example.org">mail</a>',
        '<a href="/a#fragment">a again</a>',
      ].join(' '),
    ),
    '/a': page('<base href="/sub/"><a href="c">c</a> <a href="/">home</a> <a href="/b">b</a>'),
    '/b': page('<a href="/a">back to a</a> <a href="/?">home with empty query</a>'),
    '/sub/c': page('<a href="/deep">deeper than maxDepth</a>'),
    '/deep': page('never reached'),
    '/nofollow-target': page('never reached'),
    '/private/secret': page('never fetched'),
    '/loop-a': redirect('/loop-b'),
    '/loop-b': redirect('/loop-a'),
    '/old': redirect('/a', 301),
    '/flaky': (_q, res, n) => {
      if (n === 1) {
        res.writeHead(500, { 'content-type': 'text/plain' });
        return res.end('try again');
      }
      page('<p>recovered</p>')(_q, res, n);
    },
    '/busy': (_q, res, n) => {
      if (n === 1) {
        res.writeHead(429, { 'retry-after': '1', 'content-type': 'text/plain' });
        return res.end('slow down');
      }
      page('<p>served after waiting</p>')(_q, res, n);
    },
    '/slow': (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write('<html>');
      const t = setTimeout(() => res.end("</html>"), 20_000);
      res.on('close', () => clearTimeout(t));
    },
    '/huge': (_q, res) => {
      // 50 MB, chunked, written as fast as the client reads; the client gives up at its limit
      res.writeHead(200, { 'content-type': 'text/html' });
      const chunk = Buffer.alloc(64 << 10, 'x');
      let sent = 0;
      const pump = () => {
        while (sent < 50 << 20) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => (sent = 50 << 20));
      pump();
    },
    '/data.json': (_q, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"a": 1}');
    },
    '/latin1': (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(Buffer.from('<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"></head><body><p>Caf\xe9 cr\xe8me br\xfbl\xe9e \xe0 la fran\xe7aise</p></body></html>', 'latin1'));
    },
  };
}

/** Redirect chains `/redirect-chain/N` → N+1 without end. */
function dynamic(path: string): Handler | undefined {
  const m = /^\/redirect-chain\/(\d+)$/.exec(path);
  if (m)
    return (_q, res) => {
      res.writeHead(302, { location: `/redirect-chain/${Number(m[1]) + 1}` });
      res.end();
    };
  return undefined;
}

/** Serves `routes` on 127.0.0.1 (404 for anything else). */
export function serve(routes: Record<string, Handler>): Promise<Site> {
  const hits: Hit[] = [];
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.push({ path, at: Date.now(), ua: String(req.headers['user-agent'] ?? '') });
    const n = (counts.get(path) ?? 0) + 1;
    counts.set(path, n);
    const h = routes[path] ?? dynamic(path);
    if (!h) {
      res.writeHead(404, { 'content-type': 'text/html' });
      return res.end(html('not found'));
    }
    h(req, res, n);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        hits,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      }),
    ),
  );
}
