/**
 * Fenced queue state against a real redis-server: commits and slot records are written only by
 * the current lease holder with the highest token; rejected writes leave nothing behind; reads are
 * pipelined; a whole cycle stays within the Redis command budget.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RedisSettings } from '../../../src/config/types.ts';
import { isApfError } from '../../../src/errors.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import { QueueLeases, type Lease } from '../../../src/coordination/lease.ts';
import { QueueState } from '../../../src/coordination/queue-state.ts';
import type { CycleRecord } from '../../../src/coordination/records.ts';
import { createRedis, waitForRedis } from '../../../src/coordination/redis.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import { redisCall, useRedis } from '../../helpers/redis-server.ts';
import { cycleRecord } from '../../helpers/cycle-record.ts';
import { redisSettings } from '../../helpers/redis-settings.ts';

const keys = new Keys('apfstate');
const NOW = 1_795_634_926_145;

function settings(url: string): RedisSettings {
  return redisSettings({ url });
}

function record(queue: string, lease: { token: number }, over: Partial<CycleRecord> = {}): CycleRecord {
  return cycleRecord({
    queue,
    slot: NOW - 1000,
    token: lease.token,
    startedAt: NOW - 500,
    at: NOW,
    durationMs: 500,
    lagMs: 500,
    outcome: 'submitted',
    n: 2,
    submit: 2,
    msg: 'test',
    inputs: { ready: 10, pending: 0, running: 0, siteStatus: 'online' },
    jobIds: ['11.0', '11.1'],
    ...over,
  });
}

function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('coordination/queue-state', () => {
  const server = useRedis();
  let redis: Redis;
  let leasesA: QueueLeases;
  let leasesB: QueueLeases;
  let state: QueueState;
  const log = silentLogger();

  beforeAll(async () => {
    redis = createRedis(settings(server().url), { role: 'state-test', env: {} });
    await waitForRedis(redis, 5000);
    leasesA = new QueueLeases(redis, keys, 'a', { ttlMs: 5000 }, log);
    leasesB = new QueueLeases(redis, keys, 'b', { ttlMs: 5000 }, log);
    state = new QueueState(redis, keys, { history: 3 }, () => NOW);
  });

  afterAll(async () => {
    await leasesA.close();
    await leasesB.close();
    redis.disconnect();
  });

  beforeEach(async () => {
    await leasesA.close();
    await leasesB.close();
    await redisCall(server(), ['FLUSHALL']);
  });

  /** A's lease is lost (its key deleted as if expired) and B takes the queue. */
  async function handOver(queue: string): Promise<{ a: Lease; b: Lease }> {
    const a = (await leasesA.tryAcquire(queue)) as Lease;
    await redisCall(server(), ['DEL', keys.queueLease(queue)]);
    const b = (await leasesB.tryAcquire(queue)) as Lease;
    expect(b.token).toBeGreaterThan(a.token);
    return { a, b };
  }

  it('a commit by the holder writes last, history, fence and counters', async () => {
    const l = (await leasesA.tryAcquire('Q')) as Lease;
    expect(await state.commit('Q', l, record('Q', l))).toEqual({ ok: true });
    const last = await state.last('Q');
    expect(last?.token).toBe(l.token);
    expect(last?.cycleId).toBe(`Q:${NOW - 1000}:${l.token}`);
    expect((await state.history('Q')).map((r) => r.token)).toEqual([l.token]);
    expect(await state.fence('Q')).toBe(l.token);
    expect(await state.stats('Q')).toEqual({ cycles: 1, submitted: 2 });
  });

  it('a commit asked to release the lease deletes its key; a rejected one leaves the key alone', async () => {
    const l = (await leasesA.tryAcquire('Q')) as Lease;
    const stale = { token: l.token - 1, value: l.value };
    expect(await state.commit('Q', stale, record('Q', stale), { releaseLease: true })).toEqual({ ok: false, reason: 'stale-token' });
    expect(await redisCall(server(), ['GET', keys.queueLease('Q')])).toBe(l.value);
    expect(await state.commit('Q', l, record('Q', l), { releaseLease: true })).toEqual({ ok: true });
    expect(await redisCall(server(), ['EXISTS', keys.queueLease('Q')])).toBe(0);
    expect((await state.last('Q'))?.token).toBe(l.token);
    // the holder ends its lease without Redis; another owner takes the queue at once, with a higher token
    await l.markReleased();
    expect(l.signal.aborted).toBe(true);
    const b = (await leasesB.tryAcquire('Q')) as Lease;
    expect(b.token).toBeGreaterThan(l.token);
  });

  it('a stale token is rejected and nothing is written', async () => {
    const l = (await leasesA.tryAcquire('Q')) as Lease;
    const stale = { token: l.token - 1, value: l.value };
    expect(await state.commit('Q', stale, record('Q', stale))).toEqual({ ok: false, reason: 'stale-token' });
    expect(await state.last('Q')).toBeNull();
    expect(await state.history('Q')).toEqual([]);
    expect(await state.stats('Q')).toEqual({});
    expect(await state.fence('Q')).toBe(l.token);
  });

  it('a commit after another owner took the lease is rejected as lease-lost; the new holder commits', async () => {
    const { a, b } = await handOver('Q');
    expect(await state.commit('Q', a, record('Q', a))).toEqual({ ok: false, reason: 'lease-lost' });
    expect(await state.last('Q')).toBeNull();
    expect(await state.commit('Q', b, record('Q', b))).toEqual({ ok: true });
    expect((await state.last('Q'))?.token).toBe(b.token);
    // Also after B released: the old holder's value no longer matches anything.
    await b.release();
    expect(await state.commit('Q', a, record('Q', a))).toEqual({ ok: false, reason: 'lease-lost' });
    expect((await state.history('Q')).map((r) => r.token)).toEqual([b.token]);
  });

  it('the history is capped, newest first', async () => {
    const l = (await leasesA.tryAcquire('Q')) as Lease;
    for (let i = 1; i <= 5; i++) expect((await state.commit('Q', l, record('Q', l, { n: i }))).ok).toBe(true);
    expect((await state.history('Q')).map((r) => r.n)).toEqual([5, 4, 3]);
    expect((await state.history('Q', 2)).map((r) => r.n)).toEqual([5, 4]);
    expect(await redisCall(server(), ['LLEN', keys.queueHistory('Q')])).toBe(3);
    expect((await state.last('Q'))?.n).toBe(5);
    expect(await state.stats('Q')).toEqual({ cycles: 5, submitted: 10 });
  });

  it('claimSlot twice: the second claim sees the first record', async () => {
    const l = (await leasesA.tryAcquire('Q')) as Lease;
    expect(await state.claimSlot('Q', 1000, l, 'owner-a', 30)).toEqual({ claimed: true });
    const ttl = Number(await redisCall(server(), ['TTL', keys.queueSlot('Q', 1000)]));
    expect(ttl).toBeGreaterThan(25);
    expect(ttl).toBeLessThanOrEqual(30);
    const again = await state.claimSlot('Q', 1000, l, 'owner-a2', 30);
    expect(again).toEqual({ claimed: false, existing: { token: l.token, owner: 'owner-a', phase: 'planned', at: NOW } });
    // A later holder (a stall re-run on another instance) sees the earlier claim too.
    await l.release();
    const b = (await leasesB.tryAcquire('Q')) as Lease;
    const seen = await state.claimSlot('Q', 1000, b, 'owner-b', 30);
    expect(seen.claimed).toBe(false);
    expect('existing' in seen && seen.existing.token).toBe(l.token);
    // Another slot is free.
    expect(await state.claimSlot('Q', 2000, b, 'owner-b', 30)).toEqual({ claimed: true });
  });

  it('claimSlot of a paused queue claims nothing and says so; resumed, the slot is free', async () => {
    await state.setPaused('Q', true, 'test');
    const l = (await leasesA.tryAcquire('Q')) as Lease;
    expect(await state.claimSlot('Q', 1000, l, 'owner-a', 30)).toEqual({ claimed: false, paused: true });
    expect(await state.slot('Q', 1000)).toBeNull();
    // the fence still comes first: a fenced-out holder of a paused queue is told it is fenced
    await l.release();
    const stale = await errorOf(state.claimSlot('Q', 1000, l, 'owner-a', 30));
    expect(isApfError(stale, 'APF_ERR_FENCED')).toBe(true);
    await state.setPaused('Q', false, 'test');
    const b = (await leasesB.tryAcquire('Q')) as Lease;
    expect(await state.claimSlot('Q', 1000, b, 'owner-b', 30)).toEqual({ claimed: true });
  });

  it('claimSlot and markSubmitted by a fenced-out holder throw APF_ERR_FENCED and write nothing', async () => {
    const { a, b } = await handOver('Q');
    const claim = await errorOf(state.claimSlot('Q', 1000, a, 'owner-a', 30));
    expect(isApfError(claim, 'APF_ERR_FENCED')).toBe(true);
    expect((claim as { details: Record<string, unknown> }).details['reason']).toBe('lease-lost');
    expect(await state.slot('Q', 1000)).toBeNull();
    expect(await state.claimSlot('Q', 1000, b, 'owner-b', 30)).toEqual({ claimed: true });
    const mark = await errorOf(state.markSubmitted('Q', 1000, a, 1, ['1.0']));
    expect(isApfError(mark, 'APF_ERR_FENCED')).toBe(true);
    expect((await state.slot('Q', 1000))?.phase).toBe('planned');
    const stale = await errorOf(state.claimSlot('Q', 3000, { token: b.token - 1, value: b.value }, 'owner-b', 30));
    expect((stale as { details: Record<string, unknown> }).details['reason']).toBe('stale-token');
  });

  it('markSubmitted updates the claimed record, keeps its TTL and the exact token', async () => {
    const l = (await leasesA.tryAcquire('Q')) as Lease;
    expect(l.token).toBeGreaterThan(1e15);
    await state.claimSlot('Q', 1000, l, 'owner "a"/1', 60);
    await redisCall(server(), ['EXPIRE', keys.queueSlot('Q', 1000), '50']);
    expect(await state.markSubmitted('Q', 1000, l, 2, ['12.0', '12.1'])).toBe(true);
    expect(await state.slot('Q', 1000)).toEqual({ token: l.token, owner: 'owner "a"/1', phase: 'submitted', at: NOW, n: 2, jobIds: ['12.0', '12.1'] });
    const ttl = Number(await redisCall(server(), ['TTL', keys.queueSlot('Q', 1000)]));
    expect(ttl).toBeGreaterThan(45);
    expect(ttl).toBeLessThanOrEqual(50);
    expect(await state.markSubmitted('Q', 1000, l, 0, [])).toBe(true);
    expect((await state.slot('Q', 1000))?.jobIds).toEqual([]);
    // No record, or one claimed under another token: false, nothing written.
    expect(await state.markSubmitted('Q', 5000, l, 1, ['1.0'])).toBe(false);
    expect(await state.slot('Q', 5000)).toBeNull();
    await l.release();
    const b = (await leasesB.tryAcquire('Q')) as Lease;
    expect(await state.markSubmitted('Q', 1000, b, 9, ['9.0'])).toBe(false);
    expect((await state.slot('Q', 1000))?.n).toBe(0);
  });

  it('pause flags, stats and pipelined reads of many queues', async () => {
    await state.setPaused('Q1', true, 'admin@host');
    expect(await state.isPaused('Q1')).toBe(true);
    expect(await redisCall(server(), ['HGET', keys.queueState('Q1'), 'pausedBy'])).toBe('admin@host');
    expect(await redisCall(server(), ['HGET', keys.queueState('Q1'), 'pausedAt'])).toBe(String(NOW));
    expect(await state.pausedMany(['Q1', 'Q2'])).toEqual(new Map([['Q1', true], ['Q2', false]]));
    await state.setPaused('Q1', false, 'admin@host');
    expect(await state.isPaused('Q1')).toBe(false);

    await state.bumpStat('Q1', 'skippedBusy');
    await state.bumpStat('Q1', 'skippedBusy', 2);
    await state.bumpStat('Q1', 'fenced');
    expect(await state.stats('Q1')).toEqual({ skippedBusy: 3, fenced: 1 });

    const l = (await leasesA.tryAcquire('Q2')) as Lease;
    await state.commit('Q2', l, record('Q2', l));
    const many = await state.lastMany(['Q1', 'Q2']);
    expect(many.get('Q1')).toBeNull();
    expect(many.get('Q2')?.token).toBe(l.token);
    expect(await state.lastMany([])).toEqual(new Map());
  });

  it('a corrupt stored record is an APF_ERR_REDIS error, not an empty state', async () => {
    await redisCall(server(), ['HSET', keys.queueState('Q'), 'last', '{broken']);
    expect(isApfError(await errorOf(state.last('Q')), 'APF_ERR_REDIS')).toBe(true);
  });

  it('a whole cycle (acquire, token, claim, mark, commit, release) stays within 15 Redis commands', async () => {
    // MONITOR sees every command a client sends (and, marked "lua", what the scripts run inside).
    const monitor = await redis.monitor();
    const sent: string[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua') sent.push(String(args[0]).toLowerCase());
    });
    const cycle = async (queue: string): Promise<string[]> => {
      sent.length = 0;
      const l = (await leasesA.tryAcquire(queue)) as Lease;
      expect((await state.claimSlot(queue, 1000, l, 'a', 30)).claimed).toBe(true);
      expect(await state.markSubmitted(queue, 1000, l, 2, ['1.0', '1.1'])).toBe(true);
      expect(await state.commit(queue, l, record(queue, l))).toEqual({ ok: true });
      await l.release();
      // MONITOR output may trail the replies by a moment.
      await new Promise((r) => setTimeout(r, 100));
      return [...sent];
    };
    try {
      // Cold: the scripts must be loaded first (EVALSHA → NOSCRIPT → EVAL).
      await redis.script('FLUSH');
      await new Promise((r) => setTimeout(r, 100));
      const cold = await cycle('cold');
      const warm = await cycle('warm');
      expect(warm).toEqual(['evalsha', 'evalsha', 'evalsha', 'evalsha', 'evalsha', 'evalsha']);
      expect(cold.length).toBeLessThanOrEqual(15);
      expect(cold.filter((c) => c === 'eval')).toHaveLength(6);
    } finally {
      monitor.disconnect();
    }
  });
});
