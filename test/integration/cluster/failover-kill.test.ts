/**
 * SIGKILL of one `apf start` instance in a 3-instance cluster: every queue completes a cycle on a
 * live instance within its interval + 10 s, no (queue, slot) is submitted twice, the dead
 * instance's pilot counts turn offline and are dropped after cluster.offline_grace, and the live
 * instances then submit to replace its pilots.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleRecord } from '../../../src/coordination/records.ts';
import { CLUSTER_HOOK_TIMEOUT_MS, describeConflicts, firstCycleAfter, makeQueues, quantile, slotConflicts, startCluster, type Cluster, type PilotTag } from '../../helpers/cluster.ts';
import { waitUntil } from '../../helpers/processes.ts';

const INSTANCES = ['k1', 'k2', 'k3'];
const QUEUES = makeQueues(12, 3);
const OFFLINE_GRACE_S = 8;

function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const it of items) out[key(it)] = (out[key(it)] ?? 0) + 1;
  return out;
}

describe('core/daemon: SIGKILL of an instance', () => {
  let c: Cluster;
  let victim: string;
  let killedAt: number;
  let pilotsBefore: PilotTag[];
  /** The victim's source in the status: since when offline (its last sign of life) and dropped (the end of the grace). */
  const seen = { offline: null as number | null, dropped: null as number | null };
  let sampler: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    c = await startCluster({ instances: INSTANCES, queues: QUEUES, factory: { 'cluster.offline_grace': OFFLINE_GRACE_S } });
    // Steady state: every queue has its pilots. The victim is the instance holding the most.
    let last: PilotTag[] = [];
    pilotsBefore = await waitUntil(
      'every queue to have its pilots',
      async () => {
        const pilots = (last = await c.allPilots());
        return QUEUES.every((q) => pilots.filter((p) => p.queue === q.name).length === q.activated) ? pilots : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, describe: () => `pilots ${JSON.stringify(countBy(last, (p) => `${p.queue}@${p.schedd}`))}` },
    );
    const held = INSTANCES.map((i) => [i, pilotsBefore.filter((p) => p.schedd === i).length] as const).sort((a, b) => b[1] - a[1]);
    victim = (held[0] as readonly [string, number])[0];
    killedAt = Date.now();
    await c.instance(victim).proc.kill();
    // When the victim's counts turn offline and dropped, sampled from the moment of the kill.
    const source = `condor:local@${victim}`;
    let busy = false;
    sampler = setInterval(() => {
      if (busy) return;
      busy = true;
      void c
        .status()
        .then((st) => {
          const line = st.sources.find((x) => x.source === source);
          if (line?.state === 'offline') seen.offline ??= line.since;
          if (line?.state === 'dropped') seen.dropped ??= line.since;
        })
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, 100);
  }, CLUSTER_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    clearInterval(sampler);
    await c?.stop();
  });

  it('completes a cycle of every queue on a live instance within interval + 10 s', async () => {
    const bound = Math.max(...QUEUES.map((q) => q.sleepS)) * 1000 + 10_000;
    const gaps = await waitUntil(
      'a cycle of every queue after the kill',
      async () => {
        const g = firstCycleAfter(await c.histories(), killedAt, victim);
        return [...g.values()].every((x) => x !== null) ? g : undefined;
      },
      { timeoutMs: bound + 5_000, intervalMs: 250 },
    );
    for (const q of QUEUES) {
      const g = gaps.get(q.name);
      expect(g?.gapMs, `${q.name} (sleep ${q.sleepS} s)`).toBeLessThanOrEqual(q.sleepS * 1000 + 10_000);
      expect(g?.record.instance).not.toBe(victim);
    }
    const values = [...gaps.values()].map((g) => g?.gapMs ?? Infinity);
    console.info(`[failover-kill] victim ${victim}: gap per queue after SIGKILL max ${quantile(values, 1)} ms, p50 ${quantile(values, 0.5)} ms`);
  });

  it("turns the dead instance's counts offline, then drops them after the offline grace", async () => {
    await waitUntil(`the counts of ${victim} to be dropped`, () => (seen.dropped !== null ? true : undefined), {
      timeoutMs: OFFLINE_GRACE_S * 1000 + 20_000,
      intervalMs: 100,
    });
    expect(seen.offline, 'seen offline before dropped').not.toBeNull();
    // Offline since its last sign of life (a heartbeat every 0.5 s, or a poll begun before the kill)…
    expect(seen.offline ?? 0).toBeGreaterThanOrEqual(killedAt - 3_000);
    expect(seen.offline ?? 0).toBeLessThanOrEqual(killedAt);
    // …and dropped exactly the offline grace later.
    expect((seen.dropped ?? 0) - (seen.offline ?? 0)).toBe(OFFLINE_GRACE_S * 1000);
    const inst = (await c.status()).instances.find((i) => i.id === victim);
    expect(inst?.alive).toBe(false);
  });

  it('then replaces its pilots from the live instances, without a (queue, slot) submitted twice', async () => {
    const live = INSTANCES.filter((i) => i !== victim);
    const lost = pilotsBefore.filter((p) => p.schedd === victim).length;
    expect(lost).toBeGreaterThan(0);
    await waitUntil(
      'the cluster-wide pending of every queue back at what the chain asks for',
      async () => {
        const s = await c.status();
        const pilots = (await Promise.all(live.map((i) => c.pilots(i)))).flat();
        const counts = QUEUES.every((q) => s.queues.find((x) => x.name === q.name)?.pending === q.activated);
        return counts && QUEUES.every((q) => pilots.filter((p) => p.queue === q.name).length === q.activated) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    const records: CycleRecord[] = [...(await c.histories()).values()].flat();
    const all = await c.allPilots();
    const found = slotConflicts(records, all);
    expect(found, describeConflicts(found)).toEqual([]);
    // The replacements came after the drop, from the live instances only.
    const before = new Set(pilotsBefore.map((p) => `${p.schedd}/${p.id}`));
    const replaced = all.filter((p) => !before.has(`${p.schedd}/${p.id}`));
    expect(replaced.length, JSON.stringify({ killedAt, seen, replaced: replaced.map((p) => [p.schedd, p.id, p.qdate, p.cycle]) })).toBe(lost);
    expect(replaced.every((p) => live.includes(p.schedd))).toBe(true);
    // QDate has whole seconds: a pilot queued at d + 0.9 s reads d.
    expect(Math.min(...replaced.map((p) => p.qdate * 1000))).toBeGreaterThanOrEqual((seen.dropped ?? 0) - 1_000);
  });
});
