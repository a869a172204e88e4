/**
 * One instance cut off from Redis by a loopback TCP proxy (mode `pause`: a black hole): it stops
 * submitting by itself when its leases' local deadlines pass, the other instances carry its queues
 * on, and once the proxy passes traffic again it rejoins — heartbeats resume and it takes cycles
 * again — without a (queue, slot) submitted twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleRecord } from '../../../src/coordination/records.ts';
import { CLUSTER_HOOK_TIMEOUT_MS, childProcesses, describeConflicts, firstCycleAfter, makeQueues, quantile, slotConflicts, startCluster, type Cluster, type QueueSpec } from '../../helpers/cluster.ts';
import { sleep, waitUntil } from '../../helpers/processes.ts';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.ts';

const INSTANCES = ['p1', 'p2', 'p3'];
const CUT = 'p3';
/** Ready queues, and one that submits a pilot every cycle (so the cut instance holds a lease while it submits). */
const QUEUES: QueueSpec[] = [...makeQueues(5, 2, [3, 4]), { name: 'QF', sleepS: 3, activated: 0, extra: ['schedplugin = Fixed', 'sched.fixed.pilotspercycle = 1'] }];
const PARTITION_MS = 10_000;
const LEASE_TTL_MS = 2500;

describe('core/daemon: an instance cut off from Redis', () => {
  const proxies = new Map<string, TcpProxy>();
  let c: Cluster;
  let cutAt: number;
  let healedAt: number;
  let during: Map<string, CycleRecord[]>;

  beforeAll(async () => {
    c = await startCluster({ instances: [], queues: QUEUES, factory: { 'cluster.offline_grace': 120, 'cluster.lease_ttl': LEASE_TTL_MS / 1000 } });
    // Every instance reaches Redis through its own proxy (the same path length for all: BullMQ
    // hands a job to whichever worker asks first); only p3's will be cut.
    for (const id of INSTANCES) proxies.set(id, await startTcpProxy({ host: '127.0.0.1', port: c.redisServer?.port ?? 0 }));
    await Promise.all(INSTANCES.map((id) => c.startInstance(id, { redisUrl: proxies.get(id)?.url() ?? '' })));
    const p = proxies.get(CUT) as TcpProxy;
    const p3 = c.instance(CUT);
    // p3's condor_submit takes 5 s: it holds a lease while it submits.
    await p3.submitFault({ mode: 'slow', delayMs: 5000 });
    await waitUntil('p3 to be submitting', () => childProcesses(p3.proc.pid).find((x) => x.cmdline.includes('condor_submit')), { timeoutMs: 60_000, intervalMs: 20 });
    await sleep(300);
    p.mode('pause');
    cutAt = Date.now();
    await sleep(PARTITION_MS);
    during = await c.histories();
    p.mode('pass');
    healedAt = Date.now();
    await p3.submitFault(undefined);
  }, CLUSTER_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await c?.stop();
    for (const p of proxies.values()) await p.close();
  });

  it('stops submitting by itself once its leases\' local deadlines pass', async () => {
    const lost = c
      .instance(CUT)
      .logs()
      .filter((r) => r.msg.startsWith('lease lost') && Date.parse(r.time) >= cutAt);
    expect(lost.length, 'a lease held at the cut ended on its local deadline').toBeGreaterThan(0);
    expect(lost.every((r) => r['reason'] === 'deadline')).toBe(true);
    const fenceMs = lost.map((r) => Date.parse(r.time) - cutAt);
    // validity = ttl × 0.99 − ttl/5 after the last successful renew, which is at most ttl/3 old
    expect(Math.max(...fenceMs)).toBeLessThan(LEASE_TTL_MS + 1000);
    console.info(`[partition] ${CUT} self-fenced ${fenceMs.join(', ')} ms after the cut (lease ttl ${LEASE_TTL_MS} ms)`);
    // No pilot of the cut instance was queued after its deadline (+1 s: QDate has whole seconds).
    const late = (await c.pilots(CUT)).filter((p) => p.qdate * 1000 > cutAt + LEASE_TTL_MS + 1000 && p.qdate * 1000 < healedAt);
    expect(late.map((p) => `${p.id} ${p.cycle}`)).toEqual([]);
  });

  it('leaves its queues to the others, which carry on during the cut', () => {
    const gaps = firstCycleAfter(during, cutAt + LEASE_TTL_MS, CUT);
    for (const q of QUEUES) {
      const g = gaps.get(q.name);
      expect(g, `${q.name} cycled elsewhere during the cut`).not.toBeNull();
      expect(g?.record.at).toBeLessThan(healedAt);
    }
    const fromCut = [...during.values()].flat().filter((r) => r.instance === CUT && r.at > cutAt + LEASE_TTL_MS);
    expect(fromCut.map((r) => r.cycleId)).toEqual([]);
    const values = [...gaps.values()].map((g) => g?.gapMs ?? Infinity);
    console.info(`[partition] others' first cycle per queue after the lease TTL: max ${quantile(values, 1)} ms, p50 ${quantile(values, 0.5)} ms`);
  });

  it('rejoins after the heal: heartbeats resume and it takes cycles again, with no slot run twice', async () => {
    await waitUntil(
      `${CUT} alive again`,
      async () => ((await c.status()).instances.find((i) => i.id === CUT)?.alive === true ? true : undefined),
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    const back = await waitUntil(
      `${CUT} to commit cycles again`,
      async () => {
        const rs = [...(await c.histories()).values()].flat().filter((r) => r.instance === CUT && r.startedAt > healedAt);
        return rs.length >= 2 ? rs : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 250 },
    );
    expect(back.length).toBeGreaterThanOrEqual(2);
    // one warning for the whole cut (the rest at debug level), and one record when it heals
    const beats = c
      .instance(CUT)
      .logs()
      .filter((r) => r.msg.startsWith('heartbeat') && Date.parse(r.time) >= cutAt);
    expect(beats.filter((r) => r.msg.startsWith('heartbeat failed') && Date.parse(r.time) < healedAt)).toHaveLength(1);
    const restored = beats.find((r) => r.msg === 'heartbeat restored');
    expect(Date.parse(restored?.time ?? '')).toBeGreaterThanOrEqual(healedAt);
    expect(restored?.['failures']).toBeGreaterThanOrEqual(2);
    const records = [...(await c.histories()).values()].flat();
    const found = slotConflicts(records, await c.allPilots());
    expect(found, describeConflicts(found)).toEqual([]);
    for (const q of QUEUES) {
      const rs = records.filter((r) => r.queue === q.name);
      for (let i = 1; i < rs.length; i++) expect((rs[i] as CycleRecord).token).toBeGreaterThan((rs[i - 1] as CycleRecord).token);
    }
  });
});
