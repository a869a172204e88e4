/**
 * The hand-over between two holders of a queue against a real redis-server: the cluster batch
 * counts an instance caches must not hide the pilots the previous holder submitted a moment ago.
 * The lease tells the new holder when the queue's last cycle was committed; with that, the counts
 * are read afresh instead of from the cache.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContributionStore } from '../../../src/coordination/contributions.ts';
import { InstanceRegistry } from '../../../src/coordination/instances.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import { QueueLeases } from '../../../src/coordination/lease.ts';
import { QueueState } from '../../../src/coordination/queue-state.ts';
import type { CycleRecord } from '../../../src/coordination/records.ts';
import { ClusterBatch } from '../../../src/core/cluster-batch.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import { useRedis } from '../../helpers/redis-server.ts';
import { addSubmitted } from '../../helpers/submitted.ts';

const keys = new Keys('apfcb');
const log = silentLogger();
const SOURCE = 'condor:local@a';

describe('core/cluster-batch', () => {
  const server = useRedis();
  let redis: Redis;
  let other: Redis;

  beforeAll(async () => {
    redis = new Redis({ host: '127.0.0.1', port: server().port, protocol: 2, commandTimeout: 2000 });
    other = new Redis({ host: '127.0.0.1', port: server().port, protocol: 2, commandTimeout: 2000 });
    const registry = new InstanceRegistry(redis, keys, { deadAfterMs: 60_000 });
    await registry.register({ id: 'a', owner: 'a:1:1', host: 'h', pid: 1, version: 'v', configHash: 'x', startedAt: Date.now(), lastCycleAt: null, state: 'active', webPort: null });
    await new ContributionStore(redis, keys).publish({ source: SOURCE, owner: 'a', publisher: 'a', at: Date.now() - 100, queues: { Q: { pending: 0, running: 0, done: 0, failed: 0 } } });
  });

  afterAll(() => {
    redis.disconnect();
    other.disconnect();
  });

  it('reads the counts afresh when asked for a read that began after a moment, not from its cache', async () => {
    const cluster = new ClusterBatch({
      contributions: new ContributionStore(redis, keys),
      registry: new InstanceRegistry(redis, keys, { deadAfterMs: 60_000 }),
      logger: log,
      offlineGraceMs: 60_000,
      maxAgeMs: () => 60_000,
      // A long cache: only `notBefore` can make it read again.
      cacheMs: 60_000,
    });
    const pending = async (notBefore?: number): Promise<number | undefined> => {
      const v = await cluster.queueView('Q', SOURCE, new Map(), notBefore);
      return v.available ? v.snapshot.queues.get('Q')?.pending : undefined;
    };
    expect(await pending()).toBe(0);
    // Another instance submits 3 pilots of Q (after this instance's read).
    await addSubmitted(other, keys, SOURCE, 'Q', 'Q:1:1', 3, Date.now());
    expect(await pending(), 'the cache still answers').toBe(0);
    expect(await pending(Date.now()), 'a read after the submission').toBe(3);
    expect(await pending(), 'and that read is the new cache').toBe(3);
  });

  it('after Redis lost its data, still counts the pilots of a source whose owner has not published again', async () => {
    const k = new Keys('apfcbloss');
    const registry = new InstanceRegistry(redis, k, { deadAfterMs: 60_000 });
    for (const id of ['a', 'b']) {
      await registry.register({ id, owner: `${id}:1:1`, host: 'h', pid: 1, version: 'v', configHash: 'x', startedAt: Date.now(), lastCycleAt: null, state: 'active', webPort: null });
    }
    const own = 'condor:local@a';
    const theirs = 'condor:local@b';
    const publish = (source: string, owner: string, pending: number): Promise<unknown> =>
      new ContributionStore(other, k).publish({ source, owner, publisher: owner, at: Date.now(), queues: { Q: { pending, running: 0, done: 0, failed: 0 } } });
    await publish(own, 'a', 1);
    await publish(theirs, 'b', 2);
    const records: Array<{ msg: string; sources?: string[] }> = [];
    const logger = silentLogger();
    logger.warn = ((o: { sources?: string[] }, msg: string) => void records.push({ msg, ...o })) as typeof logger.warn;
    const cluster = new ClusterBatch({ contributions: new ContributionStore(redis, k), registry, logger, offlineGraceMs: 60_000, maxAgeMs: () => 60_000, cacheMs: 0 });
    const pending = async (): Promise<number | undefined> => {
      const v = await cluster.queueView('Q', own, new Map());
      return v.available ? v.snapshot.queues.get('Q')?.pending : undefined;
    };
    expect(await pending()).toBe(3);
    // Redis restarted without persistence: all of this cluster's keys are gone
    await redis.del(...(await redis.keys('apfcbloss:*')));
    await registry.register({ id: 'a', owner: 'a:1:1', host: 'h', pid: 1, version: 'v', configHash: 'x', startedAt: Date.now(), lastCycleAt: null, state: 'active', webPort: null });
    await publish(own, 'a', 1);
    // b's two pilots still exist in its schedd: they count until b publishes again
    expect(await pending()).toBe(3);
    expect(records.filter((r) => r.msg.startsWith('Redis lost'))).toEqual([expect.objectContaining({ sources: [theirs] })]);
    await publish(theirs, 'b', 5);
    expect(await pending()).toBe(6);
  });

  it('hands the next lease holder the end time of the last committed cycle', async () => {
    const state = new QueueState(redis, keys, { history: 10 });
    const a = new QueueLeases(redis, keys, 'a:1:1', { ttlMs: 5000 }, log);
    const b = new QueueLeases(other, keys, 'b:1:1', { ttlMs: 5000 }, log);
    const first = await a.tryAcquire('H');
    expect(first?.lastCommitAt).toBe(0);
    const at = Date.now();
    const record = { queue: 'H', slot: 1, token: first?.token ?? 0, cycleId: `H:1:${first?.token}`, instance: 'a', at, jobIds: [], outcome: 'nothing' } as unknown as CycleRecord;
    expect(await state.commit('H', { token: first?.token ?? 0, value: first?.value ?? '' }, record)).toEqual({ ok: true });
    await first?.release();
    const second = await b.tryAcquire('H');
    expect(second?.lastCommitAt).toBe(at);
    expect(second?.token).toBeGreaterThan(first?.token ?? Infinity);
    await second?.release();
    await a.close();
    await b.close();
  });
});
