/**
 * The Redis test harness against real redis-server processes: start/stop by PID, parallel servers,
 * AOF restarts and crashes, passwords, stalls, and the errors a broken setup produces.
 */
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/free-port.ts';
import { isPidAlive, sleep } from '../../helpers/processes.ts';
import { redisCall, startRedis, useRedis, type RedisServerHandle } from '../../helpers/redis-server.ts';

const servers: RedisServerHandle[] = [];
const clients: Redis[] = [];

/** Starts a server that afterEach stops. */
async function server(opts?: Parameters<typeof startRedis>[0]): Promise<RedisServerHandle> {
  const h = await startRedis(opts);
  servers.push(h);
  return h;
}

/** A client that fails fast instead of retrying forever; disconnected in afterEach. */
function client(target: string | RedisOptions): Redis {
  const base: RedisOptions = { maxRetriesPerRequest: 1, retryStrategy: () => null, lazyConnect: false };
  const c = typeof target === 'string' ? new Redis(target, base) : new Redis({ ...base, ...target });
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

/** `INFO server` field. */
async function infoField(c: Redis, field: string): Promise<string | undefined> {
  const info = await c.info('server');
  return new RegExp(`^${field}:(.*)\\r?$`, 'm').exec(info)?.[1]?.trim();
}

describe('test/helpers/redis-server', () => {
  it('starts a real redis-server on a free loopback port and stops it by PID', async () => {
    const h = await server();
    expect(h.kind).toBe('process');
    expect(h.host).toBe('127.0.0.1');
    expect(h.port).not.toBe(6379);
    expect(h.url).toBe(`redis://127.0.0.1:${h.port}`);
    const pid = h.pid as number;
    expect(isPidAlive(pid)).toBe(true);

    const c = client(h.url);
    expect(await c.set('k', 'v')).toBe('OK');
    // The handle's PID is the process that serves this port.
    expect(await infoField(c, 'process_id')).toBe(String(pid));
    expect(await infoField(c, 'tcp_port')).toBe(String(h.port));
    expect(existsSync(`${h.dir}/redis.log`)).toBe(true);

    c.disconnect();
    await h.stop();
    expect(h.pid).toBeUndefined();
    expect(isPidAlive(pid)).toBe(false);
    await expect(redisCall(h, ['PING'], 300)).rejects.toThrow(/ECONNREFUSED|closed/);
  });

  it('runs two servers in parallel on different ports with separate data', async () => {
    const [a, b] = await Promise.all([server(), server()]);
    expect(a.port).not.toBe(b.port);
    expect(a.pid).not.toBe(b.pid);
    expect(a.dir).not.toBe(b.dir);
    const ca = client(a.url);
    const cb = client(b.url);
    await ca.set('who', 'a');
    await cb.set('who', 'b');
    expect(await ca.get('who')).toBe('a');
    expect(await cb.get('who')).toBe('b');
  });

  it('keeps data across a restart with AOF, loses it without AOF or with keepData: false', async () => {
    const [aof, plain] = await Promise.all([server({ aof: true }), server()]);
    await redisCall(aof, ['SET', 'k', 'kept']);
    await redisCall(aof, ['RPUSH', 'l', 'a', 'b', 'c']);
    await redisCall(plain, ['SET', 'k', 'kept']);
    const [aofPid, plainPid] = [aof.pid, plain.pid];

    await Promise.all([aof.restart(), plain.restart()]);
    expect(aof.pid).not.toBe(aofPid);
    expect(plain.pid).not.toBe(plainPid);
    expect(await redisCall(aof, ['GET', 'k'])).toBe('kept');
    expect(await redisCall(aof, ['LRANGE', 'l', 0, -1])).toEqual(['a', 'b', 'c']);
    expect(await redisCall(plain, ['GET', 'k'])).toBeNull();

    await aof.restart({ keepData: false });
    expect(await redisCall(aof, ['GET', 'k'])).toBeNull();
  });

  it('keeps a key written 1.2 s before a SIGKILL when AOF is on (appendfsync everysec)', async () => {
    const h = await server({ aof: true });
    await redisCall(h, ['SET', 'survivor', 'yes']);
    await sleep(1200);
    const pid = h.pid as number;
    await h.kill();
    expect(isPidAlive(pid)).toBe(false);
    await expect(redisCall(h, ['PING'], 300)).rejects.toThrow();

    await h.restart();
    expect(await redisCall(h, ['GET', 'survivor'])).toBe('yes');
  });

  it('starts a new server on an earlier one\'s dir and port', async () => {
    const first = await startRedis({ aof: true });
    await redisCall(first, ['SET', 'k', 'from-first']);
    await first.stop();
    const second = await server({ aof: true, dir: first.dir, port: first.port });
    expect(second.port).toBe(first.port);
    expect(await redisCall(second, ['GET', 'k'])).toBe('from-first');
  });

  it('requires the password when one is set, and puts it in the URL', async () => {
    const h = await server({ password: 'p@ss word' });
    expect(h.url).toBe(`redis://:p%40ss%20word@127.0.0.1:${h.port}`);
    expect(await client(h.url).ping()).toBe('PONG');
    await expect(client({ host: h.host, port: h.port }).get('k')).rejects.toThrow(/NOAUTH/);
    await expect(client({ host: h.host, port: h.port, password: 'wrong' }).get('k')).rejects.toThrow(/WRONGPASS|invalid/);
    // The handle carries the password, so control calls and pause() authenticate.
    expect(h.password).toBe('p@ss word');
    expect(await redisCall(h, ['PING'])).toBe('PONG');
    await h.pause(10);
  });

  it('pause() stalls every client for the given time', async () => {
    const h = await server();
    const c = client(h.url);
    expect(await c.ping()).toBe('PONG');
    await h.pause(600);
    const t0 = performance.now();
    expect(await c.set('k', 'v')).toBe('OK');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(450);
    // And it ends: the next command is fast again.
    const t1 = performance.now();
    await c.ping();
    expect(performance.now() - t1).toBeLessThan(200);
  });

  it('names the install command when redis-server is missing', async () => {
    await expect(startRedis({ bin: 'redis-server-not-installed-here' })).rejects.toMatchObject({
      code: 'APF_ERR_COMMAND_FAILED',
      message: expect.stringContaining('apt-get install -y redis-server') as unknown,
    });
  });

  it('quotes the server\'s output when it cannot start', async () => {
    const err: unknown = await startRedis({ args: ['--no-such-directive', 'x'] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'APF_ERR_COMMAND_FAILED' });
    expect((err as Error).message).toMatch(/exited during start/);
    expect((err as Error).message).toMatch(/no-such-directive/);
  });

  it('reports a taken port (given explicitly) with the log tail', async () => {
    const port = await freePort();
    // A foreign listener that accepts and hangs up, the way an unrelated service on the port would.
    const blocker: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const err: unknown = await startRedis({ port }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'APF_ERR_COMMAND_FAILED', details: { port, portInUse: true } });
      expect((err as Error).message).toMatch(/address already in use/i);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  describe('useRedis', () => {
    let seen: RedisServerHandle | undefined;
    let pid: number | undefined;
    let getter: (() => RedisServerHandle) | undefined;
    let beforeStart: unknown;

    describe('inside the suite', () => {
      const redis = useRedis({ aof: true });
      getter = redis;
      try {
        redis(); // at collection time, before beforeAll ran
      } catch (err) {
        beforeStart = err;
      }
      it('gives the started server to the tests', async () => {
        seen = redis();
        pid = seen.pid;
        expect(await redisCall(seen, ['PING'])).toBe('PONG');
        expect(redis()).toBe(seen);
      });
    });

    it('stopped the server and removed its temp dir after the suite', () => {
      expect(seen).toBeDefined();
      expect(isPidAlive(pid as number)).toBe(false);
      expect(existsSync((seen as RedisServerHandle).dir)).toBe(false);
    });

    it('refuses to give a handle before the suite started or after it ended', () => {
      expect(beforeStart).toMatchObject({ code: 'APF_ERR_USAGE' });
      expect(getter).toThrow(/only between beforeAll and afterAll/);
    });
  });
});
