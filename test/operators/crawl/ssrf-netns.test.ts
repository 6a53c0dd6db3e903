/**
 * The SSRF guard against real connections: inside a fresh network namespace (and a mount
 * namespace for a private /etc/hosts), private IPv4 addresses and IPv6 encodings of them
 * (NAT64, local-use NAT64, IPv4-mapped, IPv4-compatible, 6to4, Teredo) are put on the loopback
 * device, one HTTP server answers on all of them, and netns-child.ts crawls them under the default
 * policy: as seeds, through redirects from a public address, through a name that resolves to a
 * NAT64 address (as a DNS64 resolver answers), and through DNS rebinding (the name resolves to the
 * public address for robots.txt, then to 10.0.0.1). Every request the server saw must have
 * arrived at the public address. Needs root or unprivileged user namespaces, util-linux and
 * iproute2; skipped (with the reason) otherwise.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SSRF_BLOCKED } from '../../../operators/crawl/ssrf.ts';

const V4 = ['169.254.169.254', '10.0.0.1', '93.184.216.34'];
const V6 = ['64:ff9b::a9fe:a9fe', '64:ff9b::a00:1', '64:ff9b:1::a9fe:a9fe', '::a9fe:a9fe', '2002:a9fe:a9fe::1', '2001:0:5db8:d822::5601:5601', '2001:0:a00:1::a247:27dd'];
/** Exit status of the setup script when the namespace cannot be made (the test is skipped). */
const NO_NAMESPACE = 77;

interface Outcome {
  docs: string[];
  error?: string;
  skips: Array<{ reason: string; input: string; message: string }>;
}
interface Result {
  port: number;
  public: string;
  targets: string[];
  seeds: Outcome;
  seedsNoRobots: Outcome;
  redirects: Outcome;
  rebind: Outcome;
  hits: Array<{ local: string; host: string; path: string }>;
}

function runInNamespace(): { skipped: string } | { result: Result } {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-netns-'));
  try {
    const hosts = join(dir, 'hosts');
    writeFileSync(hosts, '127.0.0.1 localhost\n');
    const setup = [
      'ip link set lo up',
      ...V4.map((a) => `ip addr add ${a}/32 dev lo`),
      ...V6.map((a) => `ip -6 addr add ${a}/128 dev lo`),
      `mount --bind "$SLUICE_NETNS_HOSTS" /etc/hosts`,
    ].join(' && ');
    const child = fileURLToPath(new URL('./netns-child.ts', import.meta.url));
    // not root: a user namespace in which we are root (where the kernel allows it)
    const asRoot = process.getuid?.() === 0 ? [] : ['--map-root-user'];
    const r = spawnSync('unshare', [...asRoot, '--net', '--mount', '--', 'sh', '-c', `{ ${setup}; } || exit ${NO_NAMESPACE}; exec "$0" --import tsx "$1"`, process.execPath, child], {
      env: { ...process.env, SLUICE_NETNS_HOSTS: hosts },
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') return { skipped: 'unshare (util-linux) is not installed' };
    // unshare itself exits 1 when it may not create namespaces
    if (r.status === NO_NAMESPACE || (r.status === 1 && /unshare failed/.test(r.stderr))) return { skipped: `cannot set up a network namespace: ${r.stderr.trim()}` };
    assert.equal(r.status, 0, `netns-child failed (status ${r.status}, signal ${r.signal}):\n${r.stderr}`);
    return { result: JSON.parse(r.stdout) as Result };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('SSRF guard in a network namespace: NAT64, 6to4, Teredo, mapped and compatible forms of private IPv4 are refused as seeds, via redirects, via DNS and under DNS rebinding', { timeout: 150_000 }, (t) => {
  const run = runInNamespace();
  if ('skipped' in run) {
    t.skip(`skipped: ${run.skipped}`);
    return;
  }
  const r = run.result;
  // the URL parser rewrites the example before the guard sees it
  assert.equal(r.targets[0], `http://[64:ff9b::169.254.169.254]:${r.port}/latest/meta-data/`);
  const normalized = r.targets.map((u) => new URL(u).href);
  assert.equal(normalized[0], `http://[64:ff9b::a9fe:a9fe]:${r.port}/latest/meta-data/`);

  // 1. as seeds (robots.txt obeyed): nothing fetched, each seed refused with the guard's reason,
  //    and the crawl fails naming every seed
  for (const name of ['seeds', 'seedsNoRobots'] as const) {
    const o = r[name];
    assert.deepEqual(o.docs, [], name);
    assert.deepEqual(
      o.skips.map((s) => [s.reason, s.input]).sort(),
      normalized.map((u) => [SSRF_BLOCKED, u]).sort(),
      name,
    );
    for (const s of o.skips) assert.match(s.message, /^refusing to connect to /, `${name}: ${s.input}`);
    assert.match(o.error ?? '', /^crawl: no page became a doc; all 11 seeds were refused or failed:\n/, name);
    for (const u of normalized) assert.ok(o.error!.includes(`${u}: ${SSRF_BLOCKED}`), `${name}: the error names ${u}`);
    assert.match(o.error!, /allowPrivateNetworks/);
  }
  const nat64 = r.seeds.skips.find((s) => s.input === normalized[0])!;
  assert.match(nat64.message, /169\.254\.169\.254 via NAT64 64:ff9b::\/96/);
  const dns64 = r.seeds.skips.find((s) => s.input.startsWith('http://nat64.test:'))!;
  assert.match(dns64.message, /refusing to connect to nat64\.test \(64:ff9b::a00:1\): private 10\.0\.0\.0\/8: 10\.0\.0\.1 via NAT64/);

  // 2. via redirects from a public page: the public pages are fetched, every private hop refused
  assert.deepEqual(r.redirects.error, undefined);
  assert.deepEqual(r.redirects.docs, [`http://${r.public}:${r.port}/`]);
  assert.deepEqual(
    r.redirects.skips.map((s) => [s.reason, s.input]).sort(),
    normalized.map((u) => [SSRF_BLOCKED, u]).sort(),
  );

  // 3. DNS rebinding: robots.txt came from the public address, the page request was refused
  assert.deepEqual(r.rebind.docs, [`http://${r.public}:${r.port}/`]);
  assert.ok(
    r.hits.some((h) => h.host.startsWith('rebind.test:') && h.path === '/robots.txt' && h.local === r.public),
    'the first answer (public) was used',
  );
  assert.deepEqual(
    r.rebind.skips.map((s) => s.reason),
    [SSRF_BLOCKED],
  );
  assert.match(r.rebind.skips[0]!.message, /refusing to connect to rebind\.test \(10\.0\.0\.1\)/);

  // no request of any scenario reached anything but the public address
  assert.deepEqual(
    r.hits.filter((h) => h.local !== r.public),
    [],
  );
});
