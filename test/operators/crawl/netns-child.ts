/**
 * Runs inside a fresh network + mount namespace (started by ssrf-netns.test.ts, which puts the
 * addresses below on the loopback device and bind-mounts a writable file over /etc/hosts). One
 * HTTP server listens on every address; each request is logged with the local address it arrived
 * at, so the parent test can assert that no request reached a private address. Prints one JSON
 * object on stdout: the outcome of each crawl scenario and the server's hits.
 *
 * Addresses (all on lo): 93.184.216.34 is the "public" one (allowed by the default policy); the
 * rest are private IPv4 addresses and IPv6 encodings of them.
 */
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { localTaskContext } from '../../../engine/testing.ts';
import { crawl, type CrawlOptions } from '../../../operators/crawl/crawl.ts';

const hostsFile = process.env.SLUICE_NETNS_HOSTS;
if (!hostsFile) throw new Error('netns-child: SLUICE_NETNS_HOSTS is not set (run it through ssrf-netns.test.ts)');

const PUBLIC = '93.184.216.34';

interface Hit {
  local: string;
  host: string;
  path: string;
}
const hits: Hit[] = [];
let redirects: Record<string, string> = {};

const server = createServer((req, res) => {
  const path = req.url ?? '/';
  hits.push({ local: (req.socket.localAddress ?? '').replace(/^::ffff:/, ''), host: String(req.headers.host ?? ''), path });
  if (path === '/robots.txt' && req.headers.host?.startsWith('rebind.test')) {
    // DNS rebinding: the name resolved to the public address for this request; from now on it
    // resolves to a private one. `Connection: close` makes the next request open (and resolve) anew.
    writeFileSync(hostsFile, `127.0.0.1 localhost\n10.0.0.1 rebind.test\n64:ff9b::a00:1 nat64.test\n`);
    res.writeHead(404, { connection: 'close' });
    return res.end();
  }
  const to = redirects[path];
  if (to) {
    res.writeHead(302, { location: to });
    return res.end();
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(`<!doctype html><html><body><p>served ${path}</p></body></html>`);
});
await new Promise<void>((r) => server.listen({ port: 0, host: '::', ipv6Only: false }, r));
const port = (server.address() as AddressInfo).port;
writeFileSync(hostsFile, `127.0.0.1 localhost\n${PUBLIC} rebind.test\n64:ff9b::a00:1 nat64.test\n`);

async function run(options: CrawlOptions) {
  const ctx = localTaskContext();
  const docs: string[] = [];
  let error: string | undefined;
  try {
    const src = crawl({ minDelayMs: 0, retries: 0, timeoutMs: 5000, ...options });
    const parts = await src.plan({ workdir: ctx.workdir, baseDir: ctx.baseDir, storage: ctx.storage });
    for await (const b of src.read(parts[0]!, ctx)) docs.push(...b.map((d) => String(d.meta.url)));
  } catch (e) {
    error = (e as Error).message;
  } finally {
    ctx.dispose();
  }
  return { docs, error, skips: ctx.audit.skips.map((s) => ({ reason: s.reason, input: s.input, message: String(s.details?.message ?? '') })) };
}

/** Private targets, each written as a URL the way a page or a user would write it. */
const targets = [
  `http://[64:ff9b::169.254.169.254]:${port}/latest/meta-data/`, // the example: parsed to [64:ff9b::a9fe:a9fe]
  `http://[64:ff9b::10.0.0.1]:${port}/`,
  `http://[64:ff9b:1::a9fe:a9fe]:${port}/`, // local-use NAT64
  `http://[::ffff:169.254.169.254]:${port}/`, // IPv4-mapped
  `http://[::169.254.169.254]:${port}/`, // IPv4-compatible
  `http://[2002:a9fe:a9fe::1]:${port}/`, // 6to4 of 169.254.169.254
  `http://[2001:0:5db8:d822::5601:5601]:${port}/`, // Teredo, client 169.254.169.254 (XOR-obfuscated)
  `http://[2001:0:a00:1::a247:27dd]:${port}/`, // Teredo, server 10.0.0.1
  `http://169.254.169.254:${port}/`,
  `http://10.0.0.1:${port}/`,
  `http://nat64.test:${port}/`, // a name that resolves to 64:ff9b::a00:1, as DNS64 synthesises it
];

const out: Record<string, unknown> = { port, public: PUBLIC, targets };
// 1. each private target as a seed, default policy, robots.txt obeyed (the default)
out.seeds = await run({ seeds: targets });
// 1b. the same without robots.txt: the page request itself is refused
out.seedsNoRobots = await run({ seeds: targets, respectRobots: false });
// 2. a public page redirects to each private target (redirects are followed hop by hop)
redirects = Object.fromEntries(targets.map((t, i) => [`/r${i}`, t]));
out.redirects = await run({ seeds: [`http://${PUBLIC}:${port}/`, ...targets.map((_, i) => `http://${PUBLIC}:${port}/r${i}`)], scope: 'any', maxDepth: 0 });
redirects = {};
// 3. DNS rebinding: robots.txt is fetched from the public address, the page would go to 10.0.0.1
out.rebind = await run({ seeds: [`http://rebind.test:${port}/`, `http://${PUBLIC}:${port}/`] });
out.hits = hits;
server.closeAllConnections();
server.close();
process.stdout.write(JSON.stringify(out));
