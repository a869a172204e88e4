/**
 * The cluster's Redis restarted under running instances. Without persistence everything is gone:
 * the instances register again, the reconciler recreates the schedulers, the batch counts come
 * back at the next poll, and cycles resume with HIGHER fencing tokens than before (the fence is
 * seeded with the clock). With AOF the queue state and history survive the restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleRecord } from '../../../src/coordination/records.ts';
import { CLUSTER_HOOK_TIMEOUT_MS, describeConflicts, makeQueues, slotConflicts, startCluster, type Cluster } from '../../helpers/cluster.ts';
import { waitUntil } from '../../helpers/processes.ts';

const INSTANCES = ['r1', 'r2'];
const QUEUES = makeQueues(4, 2, [3, 4]);

/** Waits until every queue has `n` committed cycles; returns the histories. */
async function cycles(c: Cluster, n: number, since = 0): Promise<Map<string, CycleRecord[]>> {
  return waitUntil(
    `${n} cycles of every queue`,
    async () => {
      const h = await c.histories();
      return QUEUES.every((q) => (h.get(q.name) ?? []).filter((r) => r.startedAt >= since).length >= n) ? h : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

const maxToken = (rs: readonly CycleRecord[]): number => Math.max(0, ...rs.map((r) => r.token));

describe('core/daemon: Redis restarted without persistence', () => {
  let c: Cluster;
  let before: Map<string, CycleRecord[]>;
  let restartedAt: number;

  beforeAll(async () => {
    c = await startCluster({ instances: INSTANCES, queues: QUEUES });
    before = await cycles(c, 2);
    restartedAt = Date.now();
    await c.redisServer?.restart({ keepData: false });
  }, CLUSTER_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await c?.stop();
  });

  it('comes back: registrations, schedulers and batch counts', async () => {
    await waitUntil(
      'both instances registered and alive, both sources fresh, every scheduler back',
      async () => {
        const s = await c.status();
        const ok = s.instances.filter((i) => i.alive).length === 2 && s.sources.filter((x) => x.state === 'fresh').length === 2;
        return ok && (await c.schedulers()) === QUEUES.length ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    for (const id of INSTANCES) expect(c.instance(id).proc.running(), `${id} still running`).toBe(true);
  });

  it('resumes the cycles with higher fencing tokens than before the restart', async () => {
    const after = await cycles(c, 2, restartedAt);
    for (const q of QUEUES) {
      const old = before.get(q.name) ?? [];
      const fresh = after.get(q.name) ?? [];
      // the history was wiped: only new records
      expect(fresh.every((r) => r.startedAt >= restartedAt)).toBe(true);
      expect(Math.min(...fresh.map((r) => r.token)), q.name).toBeGreaterThan(maxToken(old));
    }
  });

  it('submits nothing twice across the restart', async () => {
    const pilots = await c.allPilots();
    for (const q of QUEUES) expect(pilots.filter((p) => p.queue === q.name).length, q.name).toBe(q.activated);
    const records = [...before.values(), ...(await c.histories()).values()].flat();
    const found = slotConflicts(records, pilots);
    expect(found, describeConflicts(found)).toEqual([]);
  });
});

describe('core/daemon: Redis restarted with AOF', () => {
  let c: Cluster;
  let before: Map<string, CycleRecord[]>;
  let restartedAt: number;

  beforeAll(async () => {
    c = await startCluster({ instances: INSTANCES, queues: QUEUES, redis: { aof: true } });
    before = await cycles(c, 2);
    restartedAt = Date.now();
    await c.redisServer?.restart({ keepData: true });
  }, CLUSTER_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await c?.stop();
  });

  it('keeps the queue state and history, and the cycles go on from there', async () => {
    const after = await cycles(c, 1, restartedAt);
    for (const q of QUEUES) {
      const kept = new Set((after.get(q.name) ?? []).map((r) => r.cycleId));
      for (const r of before.get(q.name) ?? []) expect(kept.has(r.cycleId), `${q.name}: ${r.cycleId} kept`).toBe(true);
      const fresh = (after.get(q.name) ?? []).filter((r) => r.startedAt >= restartedAt);
      expect(Math.min(...fresh.map((r) => r.token))).toBeGreaterThan(maxToken(before.get(q.name) ?? []));
    }
    const s = await c.status();
    expect(s.instances.filter((i) => i.alive).length).toBe(2);
    for (const q of s.queues) expect(q.lastCycle?.at ?? 0).toBeGreaterThanOrEqual(restartedAt);
  });
});
