/**
 * startWebServer as the daemon starts it: its own Redis connection, every route, the admin token
 * read from `web.admin_token_file` (rotation applies at once; missing file → admin disabled with a
 * warning; the token never logged), a bind failure logged and retried without rejecting, and a
 * close that frees the port and the connection.
 */
import { createServer, type Server } from 'node:net';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApfConfig } from '../../../src/config/types.ts';
import { createLogger, type Logger } from '../../../src/logging/logger.ts';
import { Metrics } from '../../../src/observability/metrics.ts';
import { startWebServer, type WebHost, type WebHostOptions } from '../../../src/web/host.ts';
import { makeTempDir, waitUntil } from '../../helpers/processes.ts';
import { freePort } from '../../helpers/free-port.ts';
import { useRedis } from '../../helpers/redis-server.ts';
import { CERN, startMonitorFixture, type MonitorFixture } from './monitor-fixture.ts';

/** A logger that keeps every line, to check what was (and was not) logged. */
function capture(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { lines, logger: createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(s) } }) };
}

function withTokenFile(config: ApfConfig, file: string | undefined): ApfConfig {
  return { ...config, factory: { ...config.factory, web: { ...config.factory.web, adminTokenFile: file } } };
}

async function call(base: string, method: 'GET' | 'POST', path: string, token?: string): Promise<{ status: number; body: string }> {
  const r = await request(`${base}${path}`, { method, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  return { status: r.statusCode, body: await r.body.text() };
}

const q = (name: string): string => encodeURIComponent(name);

describe('web/host', () => {
  const redisServer = useRedis();
  let fx: MonitorFixture;
  let dir: string;

  beforeAll(async () => {
    fx = await startMonitorFixture(redisServer().url);
    dir = makeTempDir('apf-web-host-');
  });
  afterAll(async () => {
    await fx?.close();
  });

  function options(over: Partial<WebHostOptions> & Pick<WebHostOptions, 'config' | 'logger'>): WebHostOptions {
    return {
      instanceId: 'node1',
      version: '0.1.0',
      redisSettings: fx.config.factory.cluster.redis,
      env: {},
      keys: fx.keys,
      metrics: new Metrics(),
      port: 0,
      bind: '127.0.0.1',
      ready: () => Promise.resolve({ ok: true, checks: { redis: { ok: true } } }),
      ...over,
    };
  }

  it('serves every route on its own Redis connection and closes cleanly', async () => {
    const { logger } = capture();
    const metrics = new Metrics();
    const last = fx.records.get(CERN)?.[0];
    expect(last).toBeDefined();
    if (last !== undefined) metrics.onRecord(last);
    const host = await startWebServer(options({ config: () => fx.config, logger, metrics }));
    const base = `http://127.0.0.1:${host.port}`;
    try {
      expect(host.listening).toBe(true);
      expect(host.port).toBeGreaterThan(0);
      expect(host.redis).not.toBe(fx.redis);
      expect((await call(base, 'GET', '/healthz')).status).toBe(200);
      const ready = await call(base, 'GET', '/readyz');
      expect(JSON.parse(ready.body)).toEqual({ ok: true, checks: { redis: { ok: true } } });
      // the connection connects in the background: the first reads may find it not ready yet
      const cluster = await waitUntil('the API answers', async () => {
        const r = await call(base, 'GET', '/api/v1/cluster');
        return r.status === 200 ? (JSON.parse(r.body) as { queues: Array<{ name: string }> }) : undefined;
      }, { timeoutMs: 5000 });
      expect(cluster.queues.map((x) => x.name)).toContain(CERN);
      expect((await call(base, 'GET', '/metrics')).body).toContain('apf_queue_ready{queue="CERN-ce503"}');
    } finally {
      await host.close();
    }
    expect(host.listening).toBe(false);
    // QUIT was answered; the socket closes right after
    await waitUntil('the web connection ends', () => (host.redis?.status === 'end' ? true : undefined), { timeoutMs: 2000 });
    await expect(request(`${base}/healthz`)).rejects.toThrow();
  });

  it('reads the admin token from web.admin_token_file, follows a rotation, and never logs it', async () => {
    const file = join(dir, 'admin.token');
    writeFileSync(file, 'first-token-abc\n', { mode: 0o600 });
    const { logger, lines } = capture();
    let config = withTokenFile(fx.config, file);
    const host = await startWebServer(options({ config: () => config, logger }));
    const base = `http://127.0.0.1:${host.port}`;
    try {
      await waitUntil('Redis ready', () => (host.redis?.status === 'ready' ? true : undefined), { timeoutMs: 5000 });
      const pause = `/api/v1/queues/${q(CERN)}/pause`;
      expect((await call(base, 'POST', pause)).status).toBe(401);
      expect((await call(base, 'POST', pause, 'first-token-abc')).status).toBe(200);
      expect(await fx.state.isPaused(CERN)).toBe(true);

      writeFileSync(file, 'second-token-defgh\n');
      expect((await call(base, 'POST', `/api/v1/queues/${q(CERN)}/resume`, 'first-token-abc')).status).toBe(403);
      expect((await call(base, 'POST', `/api/v1/queues/${q(CERN)}/resume`, 'second-token-defgh')).status).toBe(200);
      expect(await fx.state.isPaused(CERN)).toBe(false);

      rmSync(file);
      const gone = await call(base, 'POST', pause, 'second-token-defgh');
      expect(gone.status).toBe(403);
      expect(gone.body).toMatch(/disabled/);
      expect(lines.some((l) => /admin actions disabled: cannot read web.admin_token_file \(ENOENT\)/.test(l))).toBe(true);

      // a reload that unsets the key disables admin too
      config = withTokenFile(fx.config, undefined);
      expect((await call(base, 'POST', pause, 'second-token-defgh')).status).toBe(403);
      expect(lines.some((l) => l.includes('web.admin_token_file is not set'))).toBe(true);
      const all = lines.join('\n');
      expect(all).not.toContain('first-token-abc');
      expect(all).not.toContain('second-token-defgh');
    } finally {
      await host.close();
    }
  });

  it('warns about a token file other users can read, and treats an empty one as disabled', async () => {
    const file = join(dir, 'loose.token');
    writeFileSync(file, 'loose-token\n');
    chmodSync(file, 0o644);
    const { logger, lines } = capture();
    const host = await startWebServer(options({ config: () => withTokenFile(fx.config, file), logger }));
    try {
      expect(lines.some((l) => l.includes('readable by other users'))).toBe(true);
      writeFileSync(file, '\n');
      const r = await call(`http://127.0.0.1:${host.port}`, 'POST', '/api/v1/reload', 'loose-token');
      expect(r.status).toBe(403);
      expect(lines.some((l) => l.includes('web.admin_token_file is empty'))).toBe(true);
    } finally {
      await host.close();
    }
  });

  it('logs a failed bind without rejecting, and retries until the port is free', async () => {
    const port = await freePort();
    const squatter: Server = createServer();
    await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
    const { logger, lines } = capture();
    let host: WebHost | undefined;
    try {
      host = await startWebServer(options({ config: () => fx.config, logger, port, retryBindMs: 100 }));
      expect(host.listening).toBe(false);
      expect(host.port).toBe(port);
      expect(lines.some((l) => l.includes('web server cannot listen (the factory keeps running)') && l.includes('EADDRINUSE'))).toBe(true);
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
      const h = host;
      await waitUntil('the retried bind', () => (h.listening ? true : undefined), { timeoutMs: 5000 });
      expect((await call(`http://127.0.0.1:${port}`, 'GET', '/healthz')).status).toBe(200);
    } finally {
      if (squatter.listening) squatter.close();
      await host?.close();
    }
  });
});
