/**
 * The reconciler against a real redis-server: one holder at a time, no duplicate schedulers or
 * double runs with two instances, a lost lease stops reconciling until it is won again, takeover
 * when the holder stops, and self-repair after Redis lost its data.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { Dispatcher, queueOfJob, slotOf, type ReconcileResult } from '../../../src/coordination/dispatch.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import { startReconciler, type Reconciler } from '../../../src/coordination/reconciler.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import { sleep, waitUntil } from '../../helpers/processes.ts';
import { useRedis } from '../../helpers/redis-server.ts';

const server = useRedis();
const cleanups: Array<() => Promise<void> | void> = [];
let prefixSeq = 0;

afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

const INTERVAL_MS = 300;

/** `bullmq`: a worker-style connection; `lease`: a fail-fast one as the daemon gives the reconciler; `control`: the test's own. */
function client(kind: 'bullmq' | 'lease' | 'control'): Redis {
  const c = new Redis({
    host: '127.0.0.1',
    port: server().port,
    protocol: 2,
    commandTimeout: 2000,
    ...(kind === 'bullmq' ? { maxRetriesPerRequest: null } : kind === 'lease' ? { maxRetriesPerRequest: 1, enableOfflineQueue: false } : {}),
  });
  c.on('error', () => undefined);
  cleanups.push(() => c.disconnect());
  return c;
}

/** One processed job. */
interface Run {
  readonly queue: string;
  readonly slot: number;
  readonly owner: string;
}

/** One simulated instance: its own connections, dispatcher, worker and reconciler. */
interface Instance {
  readonly owner: string;
  readonly reconciler: Reconciler;
  readonly dispatcher: Dispatcher;
  /** How often this instance's reconciler called `reconcile`. */
  calls(): number;
}

function instance(keys: Keys, owner: string, desired: () => ReadonlyMap<string, number>, runs?: Run[]): Instance {
  const dispatcher = new Dispatcher({ connection: client('bullmq'), keys, logger: silentLogger() });
  cleanups.push(() => dispatcher.close());
  if (runs !== undefined) {
    dispatcher.createWorker(
      (job) => {
        runs.push({ queue: queueOfJob(job), slot: slotOf(job), owner });
        return Promise.resolve({ status: 'ok' });
      },
      { concurrency: 10, lockDurationMs: 1000, stalledIntervalMs: 1000, owner },
    );
  }
  let calls = 0;
  const counted = {
    reconcile: (d: ReadonlyMap<string, number>, o?: { signal?: AbortSignal }): Promise<ReconcileResult> => {
      calls++;
      return dispatcher.reconcile(d, o);
    },
  };
  const reconciler = startReconciler({ dispatcher: counted, redis: client('lease'), keys, owner, intervalMs: INTERVAL_MS, desired, logger: silentLogger() });
  cleanups.push(() => reconciler.stop());
  return { owner, reconciler, dispatcher, calls: () => calls };
}

function queuesEvery(names: readonly string[], every: number): Map<string, number> {
  return new Map(names.map((q) => [q, every]));
}

async function schedulerIds(d: Dispatcher): Promise<number> {
  return (await d.counts()).schedulers;
}

describe('coordination/reconciler', () => {
  it('holds the lease, creates the schedulers, applies a reload at once and releases the lease on stop', async () => {
    const keys = new Keys(`r${++prefixSeq}`);
    let desired = queuesEvery(['a', 'b:c', 'd e'], 1000);
    const one = instance(keys, 'owner-1', () => desired);
    const raw = client('control');
    await waitUntil('three schedulers', async () => ((await schedulerIds(one.dispatcher)) === 3 ? true : undefined), { timeoutMs: 3000 });
    expect(one.reconciler.holding()).toBe(true);
    expect(await raw.get(keys.reconcilerLease)).toBe('owner-1');
    const ttl = await raw.pttl(keys.reconcilerLease);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3 * INTERVAL_MS);

    desired = queuesEvery(['a', 'new'], 1000);
    const result = await one.reconciler.runOnce();
    expect(result?.added).toEqual(['new']);
    expect([...(result?.removed ?? [])].sort()).toEqual(['b:c', 'd e']);
    expect(await schedulerIds(one.dispatcher)).toBe(2);

    // The lease outlives many TTLs while held.
    await sleep(4 * INTERVAL_MS * 3);
    expect(await raw.get(keys.reconcilerLease)).toBe('owner-1');

    await one.reconciler.stop();
    expect(one.reconciler.holding()).toBe(false);
    expect(await raw.get(keys.reconcilerLease)).toBeNull();
    expect(await one.reconciler.runOnce()).toBeNull();
  });

  it('with two instances only one reconciles: no duplicate schedulers, no double runs; the other takes over when it stops', async () => {
    const keys = new Keys(`r${++prefixSeq}`);
    const names = Array.from({ length: 10 }, (_, i) => `pair:${i}`);
    let desired = queuesEvery(names, 500);
    const runs: Run[] = [];
    const [x, y] = [instance(keys, 'owner-x', () => desired, runs), instance(keys, 'owner-y', () => desired, runs)];
    await waitUntil('ten schedulers', async () => ((await schedulerIds(x.dispatcher)) === 10 ? true : undefined), { timeoutMs: 3000 });
    await sleep(3000);

    const holders = [x, y].filter((i) => i.reconciler.holding());
    expect(holders).toHaveLength(1);
    const [holder, other] = holders[0] === x ? [x, y] : [y, x];
    expect(await client('control').get(keys.reconcilerLease)).toBe(holder.owner);
    expect(other.calls()).toBe(0);
    expect(holder.calls()).toBeGreaterThanOrEqual(5);
    expect(await other.reconciler.runOnce()).toBeNull();
    expect(await schedulerIds(x.dispatcher)).toBe(10);

    // Both workers took jobs, and no (queue, slot) ran twice.
    const slots = runs.map((r) => `${r.queue}@${r.slot}`);
    expect(new Set(slots).size).toBe(slots.length);
    expect(new Set(runs.map((r) => r.owner)).size).toBe(2);
    for (const q of names) {
      const mine = runs.filter((r) => r.queue === q).map((r) => r.slot).sort((a, b) => a - b);
      expect(mine.length).toBeGreaterThanOrEqual(5);
      for (let i = 1; i < mine.length; i++) expect(mine[i]! - mine[i - 1]!).toBe(500);
    }

    // The holder stops (releases): the other one wins within an interval and applies a change.
    await holder.reconciler.stop();
    desired = queuesEvery(names.slice(0, 4), 500);
    await waitUntil('the other instance holds the lease', () => (other.reconciler.holding() ? true : undefined), { timeoutMs: 3 * INTERVAL_MS });
    await waitUntil('the change applied', async () => ((await schedulerIds(x.dispatcher)) === 4 ? true : undefined), { timeoutMs: 3 * INTERVAL_MS });
  });

  it('stops reconciling when the lease is lost, until it wins it again', async () => {
    const keys = new Keys(`r${++prefixSeq}`);
    let desired = queuesEvery(['l1', 'l2'], 1000);
    const one = instance(keys, 'owner-1', () => desired);
    const raw = client('control');
    await waitUntil('two schedulers', async () => ((await schedulerIds(one.dispatcher)) === 2 ? true : undefined), { timeoutMs: 3000 });

    // Another instance holds the lease now (this one's expired and was taken over).
    await raw.set(keys.reconcilerLease, 'intruder', 'PX', 60_000);
    await waitUntil('the lease is seen lost', () => (one.reconciler.holding() ? undefined : true), { timeoutMs: 3 * INTERVAL_MS });
    const callsAtLoss = one.calls();
    desired = queuesEvery(['l1', 'l2', 'l3'], 1000);
    await sleep(4 * INTERVAL_MS);
    expect(one.calls()).toBe(callsAtLoss);
    expect(await schedulerIds(one.dispatcher)).toBe(2);
    expect(await raw.get(keys.reconcilerLease)).toBe('intruder');

    await raw.del(keys.reconcilerLease);
    await waitUntil('the lease won again and the change applied', async () => ((await schedulerIds(one.dispatcher)) === 3 ? true : undefined), {
      timeoutMs: 3 * INTERVAL_MS,
    });
    expect(one.reconciler.holding()).toBe(true);
    expect(await raw.get(keys.reconcilerLease)).toBe('owner-1');
  });

  it('recreates the schedulers by itself after Redis lost its data, and cycles resume', async () => {
    const keys = new Keys(`r${++prefixSeq}`);
    const names = ['wipe:1', 'wipe:2', 'wipe:3'];
    const runs: Run[] = [];
    const one = instance(keys, 'owner-1', () => queuesEvery(names, 500), runs);
    await waitUntil('runs of every queue', () => (names.every((q) => runs.some((r) => r.queue === q)) ? true : undefined), { timeoutMs: 3000 });

    await client('control').flushall();
    const tFlush = Date.now();
    await waitUntil('two runs of every queue after the wipe', () => (names.every((q) => runs.filter((r) => r.queue === q && r.slot > tFlush).length >= 2) ? true : undefined), {
      timeoutMs: 5000,
    });
    expect(await schedulerIds(one.dispatcher)).toBe(3);
    expect(await client('control').get(keys.reconcilerLease)).toBe('owner-1');
  });
});
