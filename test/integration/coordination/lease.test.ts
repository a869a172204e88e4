/**
 * The per-queue lease against a real redis-server: mutual exclusion, strictly increasing fencing
 * tokens (also across processes and after Redis lost its data), renewal, loss detection, and
 * self-fencing on the local deadline while Redis is unreachable (a paused TCP proxy).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { RedisSettings } from '../../../src/config/types.ts';
import { isApfError } from '../../../src/errors.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import { QueueLeases, type Lease, type LeaseOptions } from '../../../src/coordination/lease.ts';
import { createRedis, waitForRedis } from '../../../src/coordination/redis.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import { sleep, waitUntil } from '../../helpers/processes.ts';
import { redisCall, useRedis } from '../../helpers/redis-server.ts';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.ts';
import { redisSettings } from '../../helpers/redis-settings.ts';

const keys = new Keys('apflease');
const log = silentLogger();
const LEASE_MODULE = fileURLToPath(new URL('../../../src/coordination/lease.ts', import.meta.url));
const KEYS_MODULE = fileURLToPath(new URL('../../../src/coordination/keys.ts', import.meta.url));
const REDIS_MODULE = fileURLToPath(new URL('../../../src/coordination/redis.ts', import.meta.url));
const LOGGER_MODULE = fileURLToPath(new URL('../../../src/logging/logger.ts', import.meta.url));

function settings(url: string, commandTimeoutMs = 1000): RedisSettings {
  return redisSettings({ url, commandTimeoutMs });
}

describe('coordination/lease', () => {
  const server = useRedis();
  const clients: Redis[] = [];
  const managers: QueueLeases[] = [];
  const proxies: TcpProxy[] = [];

  async function client(url = server().url, commandTimeoutMs = 1000): Promise<Redis> {
    const c = createRedis(settings(url, commandTimeoutMs), { role: 'lease-test', env: {} });
    clients.push(c);
    await waitForRedis(c, 5000);
    return c;
  }

  async function leases(owner: string, opts: LeaseOptions = { ttlMs: 1500 }, redis?: Redis, now?: () => number): Promise<QueueLeases> {
    const m = new QueueLeases(redis ?? (await client()), keys, owner, opts, log, now);
    managers.push(m);
    return m;
  }

  afterEach(async () => {
    for (const p of proxies.splice(0)) p.mode('pass');
    await Promise.all(managers.splice(0).map((m) => m.close()));
    for (const c of clients.splice(0)) c.disconnect();
    for (const p of proxies.splice(0)) await p.close();
    await redisCall(server(), ['FLUSHALL']);
  });

  it('two owners racing for one queue: exactly one gets it, every time', async () => {
    const a = await leases('a');
    const b = await leases('b');
    for (let i = 0; i < 25; i++) {
      const [la, lb] = await Promise.all([a.tryAcquire(`race-${i}`), b.tryAcquire(`race-${i}`)]);
      expect([la, lb].filter((l) => l !== null)).toHaveLength(1);
      const winner = (la ?? lb) as Lease;
      expect(await redisCall(server(), ['GET', keys.queueLease(`race-${i}`)])).toBe(winner.value);
      // The loser stays out until the winner releases.
      const loser = la === null ? a : b;
      expect(await loser.tryAcquire(`race-${i}`)).toBeNull();
      await winner.release();
      expect(await loser.tryAcquire(`race-${i}`)).not.toBeNull();
    }
  });

  it('tokens strictly increase across release and re-acquire, by one owner and by several', async () => {
    const a = await leases('a');
    const b = await leases('b');
    const tokens: number[] = [];
    const before = Date.now() * 1000;
    for (let i = 0; i < 12; i++) {
      const l = (await (i % 3 === 0 ? b : a).tryAcquire('Q')) as Lease;
      tokens.push(l.token);
      expect(Number(await redisCall(server(), ['HGET', keys.queueState('Q'), 'fence']))).toBe(l.token);
      expect(Number(await redisCall(server(), ['GET', keys.queueFence('Q')]))).toBe(l.token);
      await l.release();
    }
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as number);
    // Time-seeded: never below the clock in microsecond units at the first acquisition.
    expect(tokens[0]).toBeGreaterThanOrEqual(before);
    expect(tokens.every((t) => Number.isSafeInteger(t))).toBe(true);
  });

  it('tokens strictly increase across separate processes', async () => {
    const a = await leases('in-process');
    /** Acquires and releases once in a fresh Node process; resolves with its token. */
    const inChild = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const script = `
          import { QueueLeases } from ${JSON.stringify(LEASE_MODULE)};
          import { Keys } from ${JSON.stringify(KEYS_MODULE)};
          import { createRedis, waitForRedis } from ${JSON.stringify(REDIS_MODULE)};
          import { silentLogger } from ${JSON.stringify(LOGGER_MODULE)};
          const redis = createRedis(${JSON.stringify(settings(server().url))}, { role: 'child', env: {} });
          await waitForRedis(redis, 5000);
          const leases = new QueueLeases(redis, new Keys('apflease'), 'child:' + process.pid, { ttlMs: 1500 }, silentLogger());
          const lease = await leases.tryAcquire('Q');
          console.log(JSON.stringify({ token: lease.token }));
          await lease.release();
          redis.disconnect();
        `;
        execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 }, (err, stdout, stderr) => {
          if (err !== null) reject(new Error(`child failed: ${err.message}\n${stderr}`));
          else resolve((JSON.parse(stdout.trim()) as { token: number }).token);
        });
      });
    const tokens: number[] = [];
    for (let i = 0; i < 3; i++) {
      const l = (await a.tryAcquire('Q')) as Lease;
      tokens.push(l.token);
      await l.release();
      tokens.push(await inChild());
    }
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1] as number);
  });

  it('after FLUSHALL (Redis lost its data) the next token is still above every earlier one', async () => {
    // A frozen clock lets the counter run ahead of its seed, the worst case for a wipe.
    let clock = 1_795_000_000_000;
    const a = await leases('a', { ttlMs: 1500 }, undefined, () => clock);
    const issued: number[] = [];
    for (let i = 0; i < 40; i++) {
      const l = (await a.tryAcquire('Q')) as Lease;
      issued.push(l.token);
      await l.release();
    }
    expect(issued[39]).toBe(clock * 1000 + 39);
    // A zombie still holds the last token when Redis loses everything.
    await redisCall(server(), ['FLUSHALL']);
    clock += 1;
    const after = (await a.tryAcquire('Q')) as Lease;
    expect(after.token).toBeGreaterThan(Math.max(...issued));
    await after.release();

    // With the real clock too.
    const b = await leases('b');
    const before = (await b.tryAcquire('R')) as Lease;
    await before.release();
    await redisCall(server(), ['FLUSHALL']);
    await sleep(2);
    const again = (await b.tryAcquire('R')) as Lease;
    expect(again.token).toBeGreaterThan(before.token);
  });

  it('renewal keeps a lease alive well past its TTL', async () => {
    const a = await leases('a', { ttlMs: 600 });
    const b = await leases('b', { ttlMs: 600 });
    const l = (await a.tryAcquire('Q')) as Lease;
    for (let i = 0; i < 8; i++) {
      await sleep(250);
      expect(await b.tryAcquire('Q')).toBeNull();
    }
    // 2 s = more than three TTLs later.
    expect(l.signal.aborted).toBe(false);
    expect(() => l.assertValid()).not.toThrow();
    expect(l.remainingMs()).toBeGreaterThan(0);
    expect(await redisCall(server(), ['GET', keys.queueLease('Q')])).toBe(l.value);
    expect(Number(await redisCall(server(), ['PTTL', keys.queueLease('Q')]))).toBeGreaterThan(0);
    await l.release();
    expect(await redisCall(server(), ['EXISTS', keys.queueLease('Q')])).toBe(0);
    expect(l.signal.aborted).toBe(true);
    expect(isApfError(l.signal.reason, 'APF_ERR_LEASE_LOST')).toBe(true);
  });

  it('a lease whose key was deleted or overwritten aborts at the next renew', async () => {
    const a = await leases('a', { ttlMs: 3000, renewEveryMs: 150 });
    for (const tamper of [['DEL', keys.queueLease('Q')], ['SET', keys.queueLease('Q'), 'someone-else', 'PX', '3000']] as const) {
      const l = (await a.tryAcquire('Q')) as Lease;
      const t0 = performance.now();
      await redisCall(server(), [...tamper]);
      await waitUntil('the lease to abort', () => (l.signal.aborted ? true : undefined), { timeoutMs: 2000, intervalMs: 10 });
      // Prompt: one renew period (plus the round trip), far before the local deadline.
      expect(performance.now() - t0).toBeLessThan(600);
      const reason: unknown = l.signal.reason;
      expect(isApfError(reason, 'APF_ERR_LEASE_LOST')).toBe(true);
      expect((reason as { details: Record<string, unknown> }).details['reason']).toBe('lost');
      expect(() => l.assertValid()).toThrow(/no longer valid/);
      // Releasing a lost lease never deletes the new holder's key.
      await l.release();
      if (tamper[0] === 'SET') expect(await redisCall(server(), ['GET', keys.queueLease('Q')])).toBe('someone-else');
      await redisCall(server(), ['DEL', keys.queueLease('Q')]);
    }
  });

  it('cut off from Redis, a lease aborts by its local deadline without Redis, before Redis expires the key', async () => {
    const proxy = await startTcpProxy({ host: server().host, port: server().port });
    proxies.push(proxy);
    const viaProxy = await client(proxy.url(), 200);
    const opts = { ttlMs: 1500, renewEveryMs: 300 };
    const a = await leases('partitioned', opts, viaProxy);
    const t0 = performance.now();
    const l = (await a.tryAcquire('Q')) as Lease;
    proxy.mode('pause');
    const validity = a.timings.validityMs;
    await waitUntil('the lease to abort', () => (l.signal.aborted ? performance.now() : undefined), { timeoutMs: 5000, intervalMs: 5 });
    const abortedAfter = performance.now() - t0;
    // Renewals were sent but never answered, so the deadline set at acquire applies.
    expect(abortedAfter).toBeGreaterThanOrEqual(validity - 5);
    expect(abortedAfter).toBeLessThan(validity + 300);
    expect((l.signal.reason as { details: Record<string, unknown> }).details['reason']).toBe('deadline');
    let caught: unknown;
    try {
      l.assertValid();
    } catch (err) {
      caught = err;
    }
    expect(isApfError(caught, 'APF_ERR_LEASE_LOST')).toBe(true);
    expect(l.remainingMs()).toBe(0);
    // Self-fencing happened while Redis still held the key: nobody else could have taken it yet.
    expect(await redisCall(server(), ['GET', keys.queueLease('Q')])).toBe(l.value);
    expect(Number(await redisCall(server(), ['PTTL', keys.queueLease('Q')]))).toBeGreaterThan(0);
    // Once the key expires another owner gets the queue, with a higher token.
    const b = await leases('b');
    const next = await waitUntil('the key to expire', async () => (await b.tryAcquire('Q')) ?? undefined, { timeoutMs: 3000, intervalMs: 50 });
    expect(next.token).toBeGreaterThan(l.token);
    await next.release();
  });

  it('assertValid throws once the deadline passed even before the timer fires', async () => {
    const a = await leases('a', { ttlMs: 600 });
    const l = (await a.tryAcquire('Q')) as Lease;
    expect(() => l.assertValid()).not.toThrow();
    // Block the event loop past the deadline: no timer or renew can run meanwhile.
    const until = performance.now() + a.timings.validityMs + 20;
    while (performance.now() < until) {
      // busy wait
    }
    expect(() => l.assertValid()).toThrow(/no longer valid/);
    expect(l.signal.aborted).toBe(true);
  });

  it('tryAcquire rejects with APF_ERR_REDIS when Redis cannot be reached', async () => {
    const proxy = await startTcpProxy({ host: server().host, port: server().port });
    proxies.push(proxy);
    const viaProxy = await client(proxy.url(), 200);
    const a = await leases('a', { ttlMs: 1500 }, viaProxy);
    proxy.mode('pause');
    const t0 = performance.now();
    let caught: unknown;
    try {
      await a.tryAcquire('Q');
    } catch (err) {
      caught = err;
    }
    expect(isApfError(caught, 'APF_ERR_REDIS')).toBe(true);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(a.held).toBe(0);
  });

  it('markReleased ends a lease without touching Redis (its key was deleted by the commit)', async () => {
    const a = await leases('a');
    const l = (await a.tryAcquire('Q')) as Lease;
    expect(a.held).toBe(1);
    await l.markReleased();
    expect(a.held).toBe(0);
    expect(l.signal.aborted).toBe(true);
    expect(() => l.assertValid()).toThrow(/no longer valid/);
    // no round trip: the key (which the commit would have deleted) is still there
    expect(await redisCall(server(), ['GET', keys.queueLease('Q')])).toBe(l.value);
    // a later release() is the same end: it does not delete the key either
    await l.release();
    expect(await redisCall(server(), ['GET', keys.queueLease('Q')])).toBe(l.value);
  });

  it('close() releases every held lease', async () => {
    const a = await leases('a');
    const held = await Promise.all(['Q1', 'Q2', 'Q3'].map((q) => a.tryAcquire(q)));
    expect(a.held).toBe(3);
    await a.close();
    expect(a.held).toBe(0);
    for (const q of ['Q1', 'Q2', 'Q3']) expect(await redisCall(server(), ['EXISTS', keys.queueLease(q)])).toBe(0);
    expect(held.every((l) => l?.signal.aborted)).toBe(true);
  });
});
