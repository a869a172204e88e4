/**
 * The instance registry against a real redis-server: registration, replacement by a new process
 * with the same id, heartbeats with patches, liveness by heartbeat age on an injected clock,
 * state changes from other processes, deregistration and removal.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { InstanceRegistry } from '../../../src/coordination/instances.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import type { InstanceRecord } from '../../../src/coordination/records.ts';
import { isApfError } from '../../../src/errors.ts';
import { freePort } from '../../helpers/free-port.ts';
import { useRedis } from '../../helpers/redis-server.ts';

const server = useRedis();
const clients: Redis[] = [];
let prefixSeq = 0;

afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

/** A connection like the daemon's normal clients (one per simulated process). */
async function client(port?: number): Promise<Redis> {
  const c = new Redis({
    host: '127.0.0.1',
    port: port ?? server().port,
    protocol: 2,
    commandTimeout: 5000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  c.on('error', () => undefined);
  clients.push(c);
  if (port === undefined) await c.connect();
  return c;
}

const T0 = 1_800_000_000_000;

function registration(id: string, owner: string, over: Partial<InstanceRecord> = {}): Omit<InstanceRecord, 'heartbeatAt'> {
  return { id, owner, host: `${id}.example.org`, pid: 100, version: '0.1.0', configHash: 'h1', startedAt: T0, lastCycleAt: null, state: 'active', webPort: null, ...over };
}

/** A registry on its own connection with a settable clock. */
async function proc(keys: Keys, clock: { now: number }): Promise<InstanceRegistry> {
  return new InstanceRegistry(await client(), keys, { deadAfterMs: 30_000 }, () => clock.now);
}

describe('coordination/instances', () => {
  it('registers, reads back and lists an instance as alive', async () => {
    const keys = new Keys(`i${++prefixSeq}`);
    const clock = { now: T0 };
    const reg = await proc(keys, clock);
    await reg.register(registration('a', 'a:100:1', { webPort: 8080 }));
    expect(await reg.get('a')).toEqual({ ...registration('a', 'a:100:1', { webPort: 8080 }), heartbeatAt: T0 });
    expect(await reg.get('nobody')).toBeNull();
    expect(await reg.list()).toEqual([{ ...registration('a', 'a:100:1', { webPort: 8080 }), heartbeatAt: T0, heartbeatAgeMs: 0, alive: true }]);
  });

  it('lets a new process with the same id take over; the old one learns it is replaced', async () => {
    const keys = new Keys(`i${++prefixSeq}`);
    const clock = { now: T0 };
    const first = await proc(keys, clock);
    const second = await proc(keys, clock);
    await first.register(registration('a', 'a:100:1', { configHash: 'old', webPort: 8080 }));
    clock.now = T0 + 5000;
    await second.register(registration('a', 'a:200:2', { pid: 200, configHash: 'new' }));
    clock.now = T0 + 7000;
    expect(await first.heartbeat('a', 'a:100:1', { state: 'stopping' })).toBe('replaced');
    // The refused heartbeat wrote nothing, and the old process's fields did not survive.
    expect(await second.get('a')).toEqual({ ...registration('a', 'a:200:2', { pid: 200, configHash: 'new' }), heartbeatAt: T0 + 5000 });
    expect(await second.heartbeat('a', 'a:200:2')).toBe('ok');
    // The old process's clean shutdown must not remove the newcomer.
    await first.deregister('a', 'a:100:1');
    expect((await second.get('a'))?.owner).toBe('a:200:2');
    await second.deregister('a', 'a:200:2');
    expect(await second.get('a')).toBeNull();
    expect(await second.list()).toEqual([]);
  });

  it('updates the heartbeat and its patch in one call', async () => {
    const keys = new Keys(`i${++prefixSeq}`);
    const clock = { now: T0 };
    const reg = await proc(keys, clock);
    await reg.register(registration('a', 'o'));
    clock.now = T0 + 10_000;
    expect(await reg.heartbeat('a', 'o', { lastCycleAt: T0 + 9000, configHash: 'h2' })).toBe('ok');
    expect(await reg.get('a')).toMatchObject({ heartbeatAt: T0 + 10_000, lastCycleAt: T0 + 9000, configHash: 'h2', state: 'active' });
    clock.now = T0 + 20_000;
    expect(await reg.heartbeat('a', 'o', { state: 'draining', lastCycleAt: null })).toBe('ok');
    expect(await reg.get('a')).toMatchObject({ heartbeatAt: T0 + 20_000, lastCycleAt: null, configHash: 'h2', state: 'draining' });
    const c = await client();
    expect(await c.zscore(keys.instances, 'a')).toBe(String(T0 + 20_000));
  });

  it('tells alive from dead by heartbeat age on the caller’s clock', async () => {
    const keys = new Keys(`i${++prefixSeq}`);
    const clock = { now: T0 };
    const reg = await proc(keys, clock);
    await reg.register(registration('a', 'oa'));
    await reg.register(registration('b', 'ob'));
    clock.now = T0 + 20_000;
    await reg.heartbeat('a', 'oa');
    clock.now = T0 + 30_000;
    expect((await reg.list()).map((i) => [i.id, i.heartbeatAgeMs, i.alive])).toEqual([
      ['a', 10_000, true],
      ['b', 30_000, true],
    ]);
    clock.now = T0 + 30_001;
    expect((await reg.list()).map((i) => [i.id, i.heartbeatAgeMs, i.alive])).toEqual([
      ['a', 10_001, true],
      ['b', 30_001, false],
    ]);
    // A clock behind the heartbeat (skew) reads as age 0, not negative.
    clock.now = T0;
    expect((await reg.list()).find((i) => i.id === 'a')?.heartbeatAgeMs).toBe(0);
  });

  it('changes an instance’s state from any process, and refuses unknown instances and states', async () => {
    const keys = new Keys(`i${++prefixSeq}`);
    const clock = { now: T0 };
    const daemon = await proc(keys, clock);
    const admin = await proc(keys, clock);
    await daemon.register(registration('a', 'o'));
    expect(await admin.setState('a', 'frozen')).toBe(true);
    expect((await daemon.get('a'))?.state).toBe('frozen');
    expect(await admin.setState('a', 'active')).toBe(true);
    expect((await daemon.get('a'))?.state).toBe('active');
    expect(await admin.setState('ghost', 'draining')).toBe(false);
    const c = await client();
    expect(await c.exists(keys.instance('ghost'))).toBe(0);
    await expect(admin.setState('a', 'asleep' as never)).rejects.toMatchObject({ code: 'APF_ERR_USAGE' });
  });

  it('removes (decommissions) an instance whoever owns it; its heartbeat then says replaced', async () => {
    const keys = new Keys(`i${++prefixSeq}`);
    const clock = { now: T0 };
    const daemon = await proc(keys, clock);
    const admin = await proc(keys, clock);
    await daemon.register(registration('a', 'o'));
    await daemon.register(registration('b', 'ob'));
    await admin.remove('a');
    expect((await admin.list()).map((i) => i.id)).toEqual(['b']);
    expect(await daemon.heartbeat('a', 'o')).toBe('replaced');
    // The refused heartbeat did not bring the registration back.
    const c = await client();
    expect(await c.exists(keys.instance('a'))).toBe(0);
    expect(await c.zscore(keys.instances, 'a')).toBeNull();
  });

  it('lists only readable registrations and fails with APF_ERR_REDIS when Redis is gone', async () => {
    const keys = new Keys(`i${++prefixSeq}`);
    const clock = { now: T0 };
    const reg = await proc(keys, clock);
    await reg.register(registration('a', 'o'));
    const c = await client();
    await c.zadd(keys.instances, T0, 'half');
    await c.hset(keys.instance('half'), 'state', 'frozen');
    expect((await reg.list()).map((i) => i.id)).toEqual(['a']);
    const down = new InstanceRegistry(await client(await freePort()), keys, { deadAfterMs: 30_000 });
    const err = await down.list().catch((e: unknown) => e);
    expect(isApfError(err, 'APF_ERR_REDIS')).toBe(true);
    await expect(down.heartbeat('a', 'o')).rejects.toMatchObject({ code: 'APF_ERR_REDIS' });
    await expect(down.register(registration('a', 'o'))).rejects.toMatchObject({ code: 'APF_ERR_REDIS' });
  });
});
