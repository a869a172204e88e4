/**
 * The partition proxy between a real ioredis client and a real redis-server: pass, pause (black
 * hole that holds bytes, then heals without desynchronising the client) and reset (reconnect).
 */
import { connect } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitUntil } from '../../helpers/processes.ts';
import { redisCall, useRedis } from '../../helpers/redis-server.ts';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.ts';

describe('test/helpers/tcp-proxy', () => {
  const redis = useRedis();
  let proxy: TcpProxy;
  const clients: Redis[] = [];

  /** An ioredis client through the proxy with a short command timeout and quick reconnects. */
  function viaProxy(extra: RedisOptions = {}): Redis {
    const c = new Redis({ host: '127.0.0.1', port: proxy.port, commandTimeout: 300, retryStrategy: () => 50, ...extra });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  }

  /** A client that bypasses the proxy. */
  function direct(): Redis {
    const c = new Redis(redis().url);
    clients.push(c);
    return c;
  }

  beforeEach(async () => {
    proxy = await startTcpProxy({ host: redis().host, port: redis().port });
    await redisCall(redis(), ['FLUSHALL']);
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await proxy.close();
  });

  it('forwards a Redis client to the target', async () => {
    expect(proxy.port).not.toBe(redis().port);
    expect(proxy.url()).toBe(`redis://127.0.0.1:${proxy.port}`);
    expect(proxy.url('tcp')).toBe(`tcp://127.0.0.1:${proxy.port}`);
    const c = new Redis(proxy.url());
    clients.push(c);
    expect(await c.set('k', 'through-proxy')).toBe('OK');
    expect(await direct().get('k')).toBe('through-proxy');
    expect(proxy.connections).toBe(1);
  });

  it('pause black-holes the connection without dropping bytes; pass heals the same client in sync', async () => {
    const c = viaProxy();
    let reconnects = 0;
    c.on('reconnecting', () => reconnects++);
    expect(await c.set('k', 'before')).toBe('OK');
    const id = await c.call('CLIENT', 'ID');

    proxy.mode('pause');
    await expect(c.set('k', 'during')).rejects.toThrow(/timed out/i);
    await expect(c.get('k')).rejects.toThrow(/timed out/i);
    // Redis never saw the SET, a direct client is unaffected, and the socket is held, not reset.
    expect(await direct().get('k')).toBe('before');
    expect(proxy.connections).toBe(1);
    expect(c.status).toBe('ready');

    proxy.mode('pass');
    // The held SET and GET are delivered after the heal; their late replies are matched to the
    // timed-out commands, so the next reply is this command's own.
    expect(await c.get('k')).toBe('during');
    expect(await c.incr('n')).toBe(1);
    expect(await c.call('CLIENT', 'ID')).toBe(id);
    expect(reconnects).toBe(0);
  });

  it('pause also holds connections opened during the partition until pass', async () => {
    /** Clients Redis has (counting the one asking). */
    const clientsOnRedis = async (): Promise<number> =>
      Number(/connected_clients:(\d+)/.exec(String(await redisCall(redis(), ['INFO', 'clients'])))?.[1]);
    proxy.mode('pause');
    const c = viaProxy({ connectTimeout: 5000, commandTimeout: 5000 });
    await waitUntil('the new connection to reach the proxy', () => (proxy.connections === 1 ? true : undefined), { timeoutMs: 2000 });
    const before = await clientsOnRedis();
    const reply = c.ping();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Nothing was forwarded: no upstream connection was opened.
    expect(await clientsOnRedis()).toBe(before);
    proxy.mode('pass');
    expect(await reply).toBe('PONG');
    expect(await clientsOnRedis()).toBe(before + 1);
  });

  it('reset drops every connection and refuses new ones until pass; the client then reconnects', async () => {
    const c = viaProxy();
    let reconnects = 0;
    c.on('reconnecting', () => reconnects++);
    expect(await c.set('k', 'v')).toBe('OK');
    const id = await c.call('CLIENT', 'ID');

    proxy.mode('reset');
    await waitUntil('the client to notice the reset', () => (c.status !== 'ready' ? true : undefined), { timeoutMs: 2000, intervalMs: 10 });
    expect(proxy.connections).toBe(0);
    // A raw connection is reset at once instead of being forwarded.
    const refused = await new Promise<string>((resolve) => {
      const s = connect(proxy.port, '127.0.0.1');
      s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      s.on('close', () => resolve('closed'));
    });
    expect(['ECONNRESET', 'closed']).toContain(refused);
    expect(proxy.connections).toBe(0);

    proxy.mode('pass');
    expect(await c.get('k')).toBe('v');
    expect(await c.call('CLIENT', 'ID')).not.toBe(id);
    expect(reconnects).toBeGreaterThanOrEqual(1);
    expect(proxy.connections).toBe(1);
  });

  it('close() ends every proxied connection', async () => {
    const c = viaProxy({ retryStrategy: () => null });
    expect(await c.ping()).toBe('PONG');
    const closed = new Promise<void>((resolve) => c.once('end', () => resolve()));
    await proxy.close();
    await closed;
    expect(proxy.connections).toBe(0);
    proxy = await startTcpProxy({ host: redis().host, port: redis().port }); // for afterEach
  });
});
