/**
 * The pilot log server through the real HTTP server (buildServer, listening on 127.0.0.1:0, a real
 * redis-server behind its deps): files at APF's paths and under /logs/, content types, ranges,
 * validators, listings, robots.txt, the logserver switches, and a table of path attacks sent raw
 * (undici Client keeps the request line as written) that must never reach a file out of the root.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Client, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import type { ApfConfig } from '../../../src/config/types.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import type { WebDeps } from '../../../src/web/deps.ts';
import { healthRoutes } from '../../../src/web/routes/health.ts';
import { logRoutes } from '../../../src/web/routes/logs.ts';
import { buildServer, listen } from '../../../src/web/server.ts';
import { useRedis } from '../../helpers/redis-server.ts';

const SECRET = 'SECRET-OUTSIDE-THE-LOG-ROOT';
const DAY = '2024-05-01';
const OUT = 'line 1 of the pilot output\nline 2\nline 3\n';
const BIG = 3 * 1024 * 1024 + 17;

const redisServer = useRedis();
const base = realpathSync(mkdtempSync(join(tmpdir(), 'apf-logs-web-')));
const root = join(base, 'logs');
let redis: Redis;
let server: Server;
let origin: string;
let baseConfig: ApfConfig;
let config: ApfConfig;
let client: Client;

/** The current config with other logserver switches. */
function withLogserver(ls: Partial<ApfConfig['factory']['web']['logserver']>): ApfConfig {
  const f = baseConfig.factory;
  return { ...baseConfig, factory: { ...f, web: { ...f.web, logserver: { ...f.web.logserver, ...ls } } } };
}

beforeAll(async () => {
  const q = join(root, DAY, 'CERN-PROD_ce503');
  mkdirSync(q, { recursive: true });
  mkdirSync(join(base, 'outside', 'dir'), { recursive: true });
  writeFileSync(join(base, 'outside', 'secret.txt'), SECRET);
  writeFileSync(join(base, 'outside', 'dir', 'secret.out'), SECRET);
  writeFileSync(join(q, '4367890.0.out'), OUT);
  writeFileSync(join(q, '4367890.0.err'), '');
  writeFileSync(join(q, '4367890.0.log'), '000 (4367890.000.000) 05/01 10:00:00 Job submitted\n');
  writeFileSync(join(q, 'submit.jdl'), 'universe = grid\nqueue 3\n');
  writeFileSync(join(q, 'page.html'), '<script>alert(1)</script>');
  writeFileSync(join(q, '<b>odd<i>.out'), 'odd');
  writeFileSync(join(q, '.hidden.out'), 'hidden');
  writeFileSync(join(q, 'big.out'), Buffer.alloc(BIG, 'a'));
  writeFileSync(join(q, 'a b.out'), 'with a space');
  writeFileSync(join(q, '100%.out'), 'with a percent');
  writeFileSync(join(q, 'ünï©ødé.out'), 'unicode');
  utimesSync(join(q, '4367890.0.out'), new Date('2024-05-01T10:07:00Z'), new Date('2024-05-01T10:07:00Z'));
  symlinkSync(join(base, 'outside', 'secret.txt'), join(q, 'leak.out'));
  symlinkSync(join(base, 'outside', 'dir'), join(root, DAY, 'leakdir'));
  writeFileSync(join(root, 'queues.conf'), '[CERN-PROD_ce503]\n');
  // A sparse file far larger than the socket buffers: the server is still sending when a client leaves.
  mkdirSync(join(root, DAY, 'BIG'));
  writeFileSync(join(root, DAY, 'BIG', 'huge.out'), '');
  truncateSync(join(root, DAY, 'BIG', 'huge.out'), 256 * 1024 * 1024);

  const etc = join(base, 'etc');
  mkdirSync(etc);
  writeFileSync(join(etc, 'autopyfactory.conf'), `[Factory]\nfactoryId = F\nfactoryAdminEmail = a@b.c\nbaseLogDir = ${root}\nbaseLogDirUrl = http://apf.example.org:25880\n`);
  writeFileSync(join(etc, 'queues.conf'), '');
  const loaded = await loadConfig({ dir: etc });
  if (loaded.config === undefined) throw new Error(JSON.stringify(loaded.problems));
  baseConfig = loaded.config;
  config = baseConfig;

  redis = new Redis({ host: '127.0.0.1', port: redisServer().port, protocol: 2, commandTimeout: 5000, lazyConnect: true });
  await redis.connect();
  const deps: WebDeps = {
    config: () => config,
    redis,
    keys: new Keys('apf'),
    instanceId: 'node1',
    version: '0.1.0',
    logger: silentLogger(),
    adminToken: () => undefined,
    ready: () => Promise.resolve({ ok: true, checks: {} }),
    metrics: () => Promise.resolve({ contentType: 'text/plain', body: '' }),
    now: Date.now,
  };
  server = buildServer(deps, [...healthRoutes, ...logRoutes]);
  const port = await listen(server, 0, '127.0.0.1');
  origin = `http://127.0.0.1:${port}`;
  client = new Client(origin);
});

afterAll(async () => {
  await client?.close();
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  redis?.disconnect();
  rmSync(base, { recursive: true, force: true });
});

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** GET (or HEAD) of a path sent exactly as written. */
async function raw(path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET'): Promise<Reply> {
  const r = await client.request({ path, method, headers });
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(', ') : v;
  return { status: r.statusCode, headers: h, body: await r.body.text() };
}

const FILE = `/${DAY}/CERN-PROD_ce503/4367890.0.out`;

describe('web/routes/logs', () => {
  it("serves a pilot's stdout at APF's path (the GTAG URL) as inline text, with validators", async () => {
    const r = await raw(FILE);
    expect(r.status).toBe(200);
    expect(r.body).toBe(OUT);
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.headers['content-length']).toBe(String(OUT.length));
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.headers['last-modified']).toBe('Wed, 01 May 2024 10:07:00 GMT');
    expect(r.headers['etag']).toMatch(/^W\/"[0-9a-f]+-[0-9a-f]+"$/);
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    const again = await raw(FILE, { 'if-none-match': r.headers['etag'] as string });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
  });

  it('serves the same tree under /logs/, and HEAD without a body', async () => {
    const r = await raw(`/logs${FILE}`);
    expect(r.status).toBe(200);
    expect(r.body).toBe(OUT);
    const h = await raw(FILE, {}, 'HEAD');
    expect(h.status).toBe(200);
    expect(h.headers['content-length']).toBe(String(OUT.length));
    expect(h.body).toBe('');
    const conf = await request(`${origin}/logs/queues.conf`);
    expect(conf.statusCode).toBe(200);
    expect(await conf.body.text()).toBe('[CERN-PROD_ce503]\n');
  });

  it.each([
    ['4367890.0.err', 'text/plain; charset=utf-8'],
    ['4367890.0.log', 'text/plain; charset=utf-8'],
    ['submit.jdl', 'text/plain; charset=utf-8'],
    ['page.html', 'application/octet-stream'],
  ])('serves %s as %s', async (name, type) => {
    const r = await request(`${origin}/${DAY}/CERN-PROD_ce503/${name}`);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe(type);
    expect(r.headers['content-security-policy']).toContain('sandbox');
    await r.body.dump();
  });

  it.each([
    ['bytes=0-5', 206, 'bytes 0-5/', 'line 1'],
    ['bytes=-7', 206, `bytes ${OUT.length - 7}-${OUT.length - 1}/`, 'line 3\n'],
    ['bytes=34-', 206, `bytes 34-${OUT.length - 1}/`, OUT.slice(34)],
    ['bytes=5-1000', 206, `bytes 5-${OUT.length - 1}/`, OUT.slice(5)],
    ['bytes=0-1,4-5', 200, undefined, OUT],
  ])('answers Range %s with %i', async (range, status, contentRange, body) => {
    const r = await raw(FILE, { range });
    expect(r.status).toBe(status);
    expect(r.headers['content-range']).toBe(contentRange === undefined ? undefined : `${contentRange}${OUT.length}`);
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(r.body).toBe(body);
  });

  it('answers an unsatisfiable range with 416 and the size', async () => {
    const r = await raw(FILE, { range: `bytes=${OUT.length}-` });
    expect(r.status).toBe(416);
    expect(r.headers['content-range']).toBe(`bytes */${OUT.length}`);
    const empty = await raw(`/${DAY}/CERN-PROD_ce503/4367890.0.err`, { range: 'bytes=0-' });
    expect(empty.status).toBe(416);
  });

  it('ignores a Range whose If-Range names another version', async () => {
    const r = await raw(FILE, { range: 'bytes=0-3', 'if-range': 'W/"0-0"' });
    expect(r.status).toBe(200);
    expect(r.body).toBe(OUT);
  });

  it('streams a large file completely and a range from its middle', async () => {
    const r = await request(`${origin}/${DAY}/CERN-PROD_ce503/big.out`);
    expect(r.headers['content-length']).toBe(String(BIG));
    const got = Buffer.from(await r.body.arrayBuffer());
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(Buffer.alloc(BIG, 'a')).digest('hex'));
    const part = await raw(`/${DAY}/CERN-PROD_ce503/big.out`, { range: 'bytes=2000000-2000009' });
    expect(part.status).toBe(206);
    expect(part.body).toBe('aaaaaaaaaa');
  });

  it.runIf(existsSync('/proc/self/fd'))('closes the file of a download the client abandons', async () => {
    const huge = join(root, DAY, 'BIG', 'huge.out');
    const openOnHuge = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`) === huge;
        } catch {
          return false;
        }
      }).length;
    for (let i = 0; i < 5; i++) {
      const stop = new AbortController();
      const r = await request(`${origin}/${DAY}/BIG/huge.out`, { signal: stop.signal });
      await expect(
        (async () => {
          for await (const _chunk of r.body) stop.abort();
        })(),
      ).rejects.toThrow();
    }
    const end = Date.now() + 2000;
    while (openOnHuge() > 0 && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(openOnHuge()).toBe(0);
  });

  it('lists directories Apache-style: sorted, dot-files hidden, trailing / on directories, escaped names, Parent Directory', async () => {
    const r = await raw(`/${DAY}/CERN-PROD_ce503/`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.body).toContain('<title>Index of /2024-05-01/CERN-PROD_ce503/</title>');
    expect(r.body).toContain('<a href="/2024-05-01/">Parent Directory</a>');
    expect(r.body).toContain(`<a href="4367890.0.out">4367890.0.out</a></td><td>01-May-2024 10:07</td><td class="s">${OUT.length}.0B</td>`);
    expect(r.body).toContain('<a href="%3Cb%3Eodd%3Ci%3E.out">&lt;b&gt;odd&lt;i&gt;.out</a>');
    expect(r.body).toContain('<a href="a%20b.out">a b.out</a>');
    expect(r.body).not.toContain('.hidden.out');
    expect(r.body).not.toContain('<b>odd');
    // The symlink that leads out of the tree is not listed.
    expect(r.body).not.toContain('leak.out');
    // Sorted by name (code points), whatever the escaping.
    const names = [...r.body.matchAll(/<a href="([^"/]*)">/g)].map((m) => decodeURIComponent(m[1] as string));
    expect(names).toHaveLength(10);
    expect(names).toEqual([...names].sort());

    const day = await raw(`/logs/${DAY}/`);
    expect(day.body).toContain('<a href="CERN-PROD_ce503/">CERN-PROD_ce503/</a>');
    expect(day.body).toContain('<a href="BIG/">BIG/</a></td><td>');
    expect(day.body).toContain('<a href="/logs/">Parent Directory</a>');
    expect(day.body).not.toContain('leakdir');
    const top = await raw('/logs/');
    expect(top.body).toContain('<title>Index of /logs/</title>');
    expect(top.body).toContain('<a href="2024-05-01/">2024-05-01/</a>');
    expect(top.body).toContain('<a href="queues.conf">queues.conf</a>');
    expect(top.body).not.toContain('Parent Directory');
    expect(top.body).toMatch(/apf at .+ Port 25880/);
  });

  it('redirects a directory without its trailing slash', async () => {
    expect(await raw(`/${DAY}`)).toMatchObject({ status: 301, headers: { location: `/${DAY}/` } });
    expect(await raw(`/logs/${DAY}/CERN-PROD_ce503`)).toMatchObject({ status: 301, headers: { location: `/logs/${DAY}/CERN-PROD_ce503/` } });
    expect(await raw('/logs')).toMatchObject({ status: 301, headers: { location: '/logs/' } });
  });

  it('keeps other routes: a first segment that is not a date is not the log server', async () => {
    expect((await raw('/healthz')).status).toBe(200);
    for (const p of ['/api/v1/nothing', '/queues.conf', '/2024-5-1/', '/etc/passwd']) expect((await raw(p)).status, p).toBe(404);
  });

  it('answers 404 for a missing file and for a file asked as a directory', async () => {
    expect((await raw(`/${DAY}/CERN-PROD_ce503/9.9.out`)).status).toBe(404);
    expect((await raw(`${FILE}/`)).status).toBe(404);
    expect((await raw('/2099-01-01/')).status).toBe(404);
  });

  it('serves legitimate tricky names: spaces, %, unicode', async () => {
    for (const [name, body] of [
      ['a b.out', 'with a space'],
      ['100%.out', 'with a percent'],
      ['ünï©ødé.out', 'unicode'],
    ] as const) {
      const r = await raw(`/${DAY}/CERN-PROD_ce503/${encodeURIComponent(name)}`);
      expect(r.status, name).toBe(200);
      expect(r.body).toBe(body);
    }
  });

  it.each([
    ['dot-dot to the secret', `/${DAY}/../../outside/secret.txt`],
    ['dot-dot under /logs/', '/logs/../outside/secret.txt'],
    ['deep dot-dot', `/${DAY}/CERN-PROD_ce503/../../../../../../etc/passwd`],
    ['encoded dot-dot', `/${DAY}/%2e%2e/%2e%2e/outside/secret.txt`],
    ['half-encoded dot-dot', `/logs/.%2E/outside/secret.txt`],
    ['double-encoded dot-dot', `/${DAY}/%252e%252e/%252e%252e/outside/secret.txt`],
    ['encoded slashes', `/${DAY}/..%2f..%2foutside%2fsecret.txt`],
    ['double-encoded slashes', `/logs/..%252f..%252foutside%252fsecret.txt`],
    ['backslashes', `/${DAY}/..\\..\\outside\\secret.txt`],
    ['encoded backslashes', `/${DAY}/..%5c..%5coutside%5csecret.txt`],
    ['NUL byte', `${FILE}%00.txt`],
    ['overlong UTF-8 dots', `/${DAY}/%c0%ae%c0%ae/%c0%ae%c0%ae/outside/secret.txt`],
    ['3-byte overlong dots', `/logs/%e0%80%ae%e0%80%ae/outside/secret.txt`],
    ['invalid UTF-8', `/${DAY}/%ff%fe`],
    ['absolute path', `/logs/${base}/outside/secret.txt`],
    ['protocol-relative path', `//${base}/outside/secret.txt`],
    ['symlink out of the tree', `/${DAY}/CERN-PROD_ce503/leak.out`],
    ['symlinked directory out of the tree', `/${DAY}/leakdir/secret.out`],
    ['listing of a symlinked directory out of the tree', `/logs/${DAY}/leakdir/`],
  ])('refuses %s', async (_name, path) => {
    const r = await raw(path);
    expect([400, 403, 404]).toContain(r.status);
    expect(r.body).not.toContain(SECRET);
    expect(r.body).not.toContain('root:');
  });

  it('refuses with 403 what is plainly an attack', async () => {
    for (const p of [`/${DAY}/CERN-PROD_ce503/leak.out`, `/${DAY}/leakdir/secret.out`, `/${DAY}/%252e%252e/x`, `/${DAY}/..%2fx`, `${FILE}%00`, `/${DAY}/%c0%ae%c0%ae/x`]) {
      expect((await raw(p)).status, p).toBe(403);
    }
  });

  it('honours logserver.index = False (files still served) and logserver.enabled = False', async () => {
    config = withLogserver({ index: false });
    try {
      expect((await raw(`/${DAY}/`)).status).toBe(403);
      expect((await raw('/logs/')).status).toBe(403);
      expect((await raw(FILE)).status).toBe(200);
      config = withLogserver({ enabled: false });
      expect((await raw(FILE)).status).toBe(404);
      expect((await raw('/logs/')).status).toBe(404);
    } finally {
      config = baseConfig;
    }
  });

  it('serves robots.txt by logserver.allowrobots', async () => {
    const no = await raw('/robots.txt');
    expect(no.status).toBe(200);
    expect(no.body).toBe('User-agent: *\nDisallow: /\n');
    config = withLogserver({ allowRobots: true });
    try {
      expect((await raw('/robots.txt')).body).toBe('User-agent: *\nDisallow:\n');
    } finally {
      config = baseConfig;
    }
  });
});
