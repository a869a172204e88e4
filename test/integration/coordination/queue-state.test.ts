/**
 * Fenced queue state against a real redis-server: commits and slot records are written only by
 * the current lease holder with the highest token (the slot claim by the token script, lease.ts); rejected writes leave nothing behind; reads are
 * pipelined; a whole cycle stays within the Redis command budget.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RedisSettings } from '../../../src/config/types.ts';
import { isApfError } from '../../../src/errors.ts';
import { ContributionStore } from '../../../src/coordination/contributions.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import { QueueLeases, type ClaimedLease, type Lease } from '../../../src/coordination/lease.ts';
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

  const claimOf = (leases: QueueLeases, queue: string, slot: number, owner: string, ttlS = 30): Promise<ClaimedLease> =>
    leases.tryAcquireAndClaim(queue, { slot, owner, ttlS }) as Promise<ClaimedLease>;

  it('the token script claims the slot; a later holder of the same slot sees the first record', async () => {
    const before = Date.now();
    const l = await claimOf(leasesA, 'Q', 1000, 'owner-a');
    expect(l.claim).toEqual({ claimed: true });
    const first = await state.slot('Q', 1000);
    expect(first).toMatchObject({ token: l.token, owner: 'owner-a', phase: 'planned' });
    expect(first?.at).toBeGreaterThanOrEqual(before);
    expect(first?.at).toBeLessThanOrEqual(Date.now());
    const ttl = Number(await redisCall(server(), ['TTL', keys.queueSlot('Q', 1000)]));
    expect(ttl).toBeGreaterThan(25);
    expect(ttl).toBeLessThanOrEqual(30);
    await l.release();
    // A later holder (a stall re-run here or on another instance) sees the earlier claim, unchanged.
    const again = await claimOf(leasesA, 'Q', 1000, 'owner-a2');
    expect(again.token).toBeGreaterThan(l.token);
    expect(again.claim).toEqual({ claimed: false, existing: first });
    await again.release();
    const b = await claimOf(leasesB, 'Q', 1000, 'owner-b');
    expect('existing' in b.claim && b.claim.existing.token).toBe(l.token);
    await b.release();
    // Another slot is free.
    expect((await claimOf(leasesB, 'Q', 2000, 'owner-b')).claim).toEqual({ claimed: true });
  });

  it('a paused queue: the lease gets its token but no slot is claimed; resumed, the slot is free', async () => {
    await state.setPaused('Q', true, 'test');
    const l = await claimOf(leasesA, 'Q', 1000, 'owner-a');
    expect(l.claim).toEqual({ claimed: false, paused: true });
    expect(await state.fence('Q')).toBe(l.token);
    expect(await state.slot('Q', 1000)).toBeNull();
    await l.release();
    await state.setPaused('Q', false, 'test');
    expect((await claimOf(leasesB, 'Q', 1000, 'owner-b')).claim).toEqual({ claimed: true });
  });

  it('a slot record that is not one is an APF_ERR_REDIS error and the lease is given back', async () => {
    await redisCall(server(), ['SET', keys.queueSlot('Q', 1000), '{"token":"x"}']);
    const err = await errorOf(claimOf(leasesA, 'Q', 1000, 'owner-a'));
    expect(isApfError(err, 'APF_ERR_REDIS')).toBe(true);
    expect(String((err as Error).message)).toContain(keys.queueSlot('Q', 1000));
    expect(leasesA.held).toBe(0);
    expect(await redisCall(server(), ['EXISTS', keys.queueLease('Q')])).toBe(0);
  });

  it('the commit marks the claimed slot submitted, keeps its TTL and the exact token', async () => {
    const l = await claimOf(leasesA, 'Q', 1000, 'owner "a"/1', 60);
    expect(l.token).toBeGreaterThan(1e15);
    await redisCall(server(), ['EXPIRE', keys.queueSlot('Q', 1000), '50']);
    expect(await state.commit('Q', l, record('Q', l, { slot: 1000, jobIds: ['12.0', '12.1'] }))).toEqual({ ok: true });
    expect(await state.slot('Q', 1000)).toEqual({ token: l.token, owner: 'owner "a"/1', phase: 'submitted', at: NOW, n: 2, jobIds: ['12.0', '12.1'] });
    const ttl = Number(await redisCall(server(), ['TTL', keys.queueSlot('Q', 1000)]));
    expect(ttl).toBeGreaterThan(45);
    expect(ttl).toBeLessThanOrEqual(50);
    await l.release();
    // Nothing submitted: the claim stays as it was.
    const m = await claimOf(leasesA, 'Q', 2000, 'owner-a');
    expect(await state.commit('Q', m, record('Q', m, { slot: 2000, outcome: 'nothing', n: 0, submit: 0, jobIds: [] }))).toEqual({ ok: true });
    expect((await state.slot('Q', 2000))?.phase).toBe('planned');
    // A slot without a record is not created by the commit.
    expect(await state.commit('Q', m, record('Q', m, { slot: 5000 }))).toEqual({ ok: true });
    expect(await state.slot('Q', 5000)).toBeNull();
  });

  it('the commit leaves a slot claimed under another token alone, and a fenced-out commit marks nothing', async () => {
    const a = await claimOf(leasesA, 'Q', 1000, 'owner-a');
    await redisCall(server(), ['DEL', keys.queueLease('Q')]);
    const b = await claimOf(leasesB, 'Q', 1000, 'owner-b');
    expect('existing' in b.claim && b.claim.existing.token).toBe(a.token);
    // B holds the lease and commits a cycle of that slot (as a runner never would: the slot is A's).
    expect(await state.commit('Q', b, record('Q', b, { slot: 1000, jobIds: ['9.0'] }))).toEqual({ ok: true });
    expect(await state.slot('Q', 1000)).toMatchObject({ token: a.token, owner: 'owner-a', phase: 'planned' });
    // A lost its lease: its commit is rejected and marks nothing.
    expect(await state.commit('Q', a, record('Q', a, { slot: 1000, jobIds: ['1.0'] }))).toEqual({ ok: false, reason: 'lease-lost' });
    expect(await state.slot('Q', 1000)).toMatchObject({ token: a.token, phase: 'planned' });
  });

  it('the commit records its pilots in the batch source, before the fence and only when given', async () => {
    const src = 'condor:local@a';
    const store = new ContributionStore(redis, keys);
    await store.publish({ source: src, owner: 'a', publisher: 'a', at: NOW - 1000, queues: {} });
    const entries = async (): Promise<unknown[]> => (await store.readAll(true)).submitted.map((e) => ({ ...e }));
    const a = await claimOf(leasesA, 'Q', 1000, 'owner-a');
    // No pilots: the source's zset is not touched.
    expect(await state.commit('Q', a, record('Q', a, { slot: 1000, outcome: 'nothing', n: 0, submit: 0, jobIds: [] }))).toEqual({ ok: true });
    expect(await redisCall(server(), ['EXISTS', keys.sourceSubmitted(src)])).toBe(0);
    expect(await entries()).toEqual([]);
    // Pilots: the submitted-pilots entry of the batch source, with the zset's expiry (a day).
    const rec = record('Q', a, { slot: 1000 });
    expect(await state.commit('Q', a, rec, { pilots: { source: src, n: 2, at: NOW - 10 } })).toEqual({ ok: true });
    expect(await entries()).toEqual([{ source: src, queue: 'Q', cycleId: rec.cycleId, n: 2, at: NOW - 10 }]);
    const pttl = Number(await redisCall(server(), ['PTTL', keys.sourceSubmitted(src)]));
    expect(pttl).toBeGreaterThan(86_000_000);
    expect(pttl).toBeLessThanOrEqual(86_400_000);
    // Fenced out (B took the queue): rejected, and its pilots are counted all the same.
    await redisCall(server(), ['DEL', keys.queueLease('Q')]);
    const b = await claimOf(leasesB, 'Q', 2000, 'owner-b');
    const late = record('Q', a, { slot: 1000, jobIds: ['13.0'] });
    expect(await state.commit('Q', a, late, { pilots: { source: src, n: 1, at: NOW - 5 } })).toEqual({ ok: false, reason: 'lease-lost' });
    expect(await entries()).toEqual([
      { source: src, queue: 'Q', cycleId: rec.cycleId, n: 2, at: NOW - 10 },
      { source: src, queue: 'Q', cycleId: late.cycleId, n: 1, at: NOW - 5 },
    ]);
    expect((await state.last('Q'))?.token).toBe(a.token);
    // Pilots that cannot be recorded: refused before anything is written.
    const bad = await errorOf(state.commit('Q', b, record('Q', b, { slot: 2000 }), { pilots: { source: 'condor:x\ty', n: 1, at: NOW } }));
    expect(isApfError(bad, 'APF_ERR_USAGE')).toBe(true);
    expect((await state.last('Q'))?.token).toBe(a.token);
    expect(isApfError(await errorOf(state.commit('Q', b, record('Q', b), { pilots: { source: src, n: 0, at: NOW } })), 'APF_ERR_USAGE')).toBe(true);
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

  it('a whole cycle (acquire, token with the claim, commit with the pilots, the mark and the release) sends three commands', async () => {
    // MONITOR sees every command a client sends (and, marked "lua", what the scripts run inside).
    const monitor = await redis.monitor();
    const sent: string[] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source !== 'lua') sent.push(String(args[0]).toLowerCase());
    });
    const cycle = async (queue: string): Promise<string[]> => {
      sent.length = 0;
      const l = await claimOf(leasesA, queue, 1000, 'a');
      expect(l.claim.claimed).toBe(true);
      const pilots = { source: 'condor:local@a', n: 2, at: NOW };
      expect(await state.commit(queue, l, record(queue, l, { slot: 1000 }), { releaseLease: true, pilots })).toEqual({ ok: true });
      await l.markReleased();
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
      expect(warm).toEqual(['evalsha', 'evalsha', 'evalsha']);
      expect((await state.slot('warm', 1000))?.phase).toBe('submitted');
      expect(await redisCall(server(), ['ZCARD', keys.sourceSubmitted('condor:local@a')])).toBe(2);
      expect(cold.length).toBeLessThanOrEqual(6);
      expect(cold.filter((c) => c === 'eval')).toHaveLength(3);
    } finally {
      monitor.disconnect();
    }
  });
});
