/**
 * A Sentinel failover under running instances (redis.sentinels + redis.sentinel.master): the
 * instances follow the new master, the cycles resume, and no acknowledged state is lost — every
 * cycle record committed before the failover is still there afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleRecord } from '../../../src/coordination/records.ts';
import { CLUSTER_HOOK_TIMEOUT_MS, describeConflicts, firstCycleAfter, makeQueues, quantile, slotConflicts, startCluster, type Cluster } from '../../helpers/cluster.ts';
import { waitUntil } from '../../helpers/processes.ts';
import { startSentinelCluster, type SentinelCluster } from '../../helpers/sentinel.ts';

const INSTANCES = ['f1', 'f2'];
const QUEUES = makeQueues(4, 2, [3, 4]);

describe('core/daemon: Sentinel failover', () => {
  let sentinel: SentinelCluster | undefined;
  let c: Cluster;
  let before: CycleRecord[];
  let failedOverAt: number;
  let oldMaster: number;

  beforeAll(async () => {
    sentinel = await startSentinelCluster();
    c = await startCluster({ instances: INSTANCES, queues: QUEUES, redis: { sentinel } });
    await waitUntil(
      'two cycles of every queue',
      async () => {
        const h = await c.histories();
        return QUEUES.every((q) => (h.get(q.name)?.length ?? 0) >= 2) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    before = [...(await c.histories()).values()].flat();
    oldMaster = (await sentinel.currentMaster()).port;
    failedOverAt = Date.now();
    await sentinel.failover();
  }, CLUSTER_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await c?.stop();
    await sentinel?.stop();
  });

  it('moves the master', async () => {
    expect((await sentinel?.currentMaster())?.port).not.toBe(oldMaster);
  });

  it('resumes the cycles of every queue on the new master', async () => {
    const gaps = await waitUntil(
      'a cycle of every queue after the failover',
      async () => {
        const g = firstCycleAfter(await c.histories(), failedOverAt);
        return [...g.values()].every((x) => x !== null) ? g : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 250 },
    );
    const values = [...gaps.values()].map((g) => g?.gapMs ?? Infinity);
    console.info(`[sentinel-failover] first cycle per queue after the failover: max ${quantile(values, 1)} ms, p50 ${quantile(values, 0.5)} ms`);
    const s = await c.status();
    expect(s.instances.filter((i) => i.alive).map((i) => i.id).sort()).toEqual(INSTANCES);
    expect(await c.schedulers()).toBe(QUEUES.length);
  });

  it('keeps every record committed before the failover, and the tokens go on increasing', async () => {
    const after = await c.histories();
    const kept = new Set([...after.values()].flat().map((r) => r.cycleId));
    const lost = before.filter((r) => !kept.has(r.cycleId));
    expect(lost.map((r) => r.cycleId)).toEqual([]);
    for (const q of QUEUES) {
      const rs = after.get(q.name) ?? [];
      for (let i = 1; i < rs.length; i++) expect((rs[i] as CycleRecord).token).toBeGreaterThan((rs[i - 1] as CycleRecord).token);
    }
    const found = slotConflicts([...after.values()].flat(), await c.allPilots());
    expect(found, describeConflicts(found)).toEqual([]);
  });
});
