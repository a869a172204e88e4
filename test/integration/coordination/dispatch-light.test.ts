/**
 * The light reconcile against a real redis-server: one ZRANGE instead of a read per scheduler,
 * still adding missing schedulers, removing unknown ones and repairing overdue ones, but leaving
 * option changes to the full reconcile; the reconciler's choice between the two; and the
 * watchdog's repair of a scheduler left without a next job by a worker killed after taking it.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { Dispatcher, schedulerId, type ReconcileOptions, type ReconcileResult } from '../../../src/coordination/dispatch.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import { FULL_RECONCILE_EVERY, startReconciler } from '../../../src/coordination/reconciler.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import { sleep, waitUntil } from '../../helpers/processes.ts';
import { useRedis } from '../../helpers/redis-server.ts';

const server = useRedis();
const cleanups: Array<() => Promise<void> | void> = [];
let prefixSeq = 0;

afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

function client(extra: Record<string, unknown> = {}): Redis {
  const c = new Redis({ host: '127.0.0.1', port: server().port, protocol: 2, commandTimeout: 5000, ...extra });
  c.on('error', () => undefined);
  cleanups.push(() => c.disconnect());
  return c;
}

function dispatcher(): { d: Dispatcher; keys: Keys } {
  const keys = new Keys(`light${++prefixSeq}`);
  const d = new Dispatcher({ connection: client({ maxRetriesPerRequest: null }), keys, logger: silentLogger() });
  cleanups.push(() => d.close());
  return { d, keys };
}

/** Calls per command between two INFO commandstats. */
async function commandCalls(c: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await c.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (m !== null) out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

const EVERY = 60_000;
const desired = (queues: readonly string[], every = EVERY): Map<string, number> => new Map(queues.map((q) => [q, every]));
const empty = (r: ReconcileResult): boolean => r.added.length + r.updated.length + r.removed.length + r.repaired.length + r.failed.length === 0;

describe('coordination/dispatch', () => {
  it('a light reconcile lists the schedulers with one ZRANGE, whatever their number', async () => {
    const { d } = dispatcher();
    const queues = Array.from({ length: 300 }, (_, i) => `Q_${i}:x`);
    expect((await d.reconcile(desired(queues))).added).toHaveLength(300);
    const stats = client();
    const before = await commandCalls(stats);
    const light = await d.reconcile(desired(queues), { full: false });
    const after = await commandCalls(stats);
    expect(empty(light)).toBe(true);
    const used = [...after].filter(([cmd, n]) => n !== (before.get(cmd) ?? 0)).map(([cmd]) => cmd).sort();
    expect(used).toEqual(['info', 'zrange']);
    expect((after.get('zrange') ?? 0) - (before.get('zrange') ?? 0)).toBe(1);
    // the full one reads every scheduler
    const fullBefore = await commandCalls(stats);
    expect(empty(await d.reconcile(desired(queues)))).toBe(true);
    const fullAfter = await commandCalls(stats);
    expect((fullAfter.get('hgetall') ?? 0) - (fullBefore.get('hgetall') ?? 0)).toBeGreaterThanOrEqual(300);
  });

  it('a light reconcile adds missing schedulers and removes unknown ones, but leaves option changes to a full one', async () => {
    const { d, keys } = dispatcher();
    await d.reconcile(desired(['keep', 'gone:1', 'slower']));
    const light = await d.reconcile(new Map([['keep', EVERY], ['new/1', EVERY], ['slower', 2 * EVERY]]), { full: false });
    expect(light).toEqual({ added: ['new/1'], updated: [], removed: ['gone:1'], repaired: [], failed: [] });
    const full = await d.reconcile(new Map([['keep', EVERY], ['new/1', EVERY], ['slower', 2 * EVERY]]));
    expect(full).toEqual({ added: [], updated: ['slower'], removed: [], repaired: [], failed: [] });
    const q = new Queue('cycles', { connection: client({ maxRetriesPerRequest: null }), prefix: keys.bullPrefix });
    cleanups.push(() => q.close());
    expect((await q.getJobScheduler(schedulerId('slower')))?.every).toBe(2 * EVERY);
  });

  it('a light reconcile repairs a scheduler whose next slot is long overdue', async () => {
    const { d, keys } = dispatcher();
    const every = 1000;
    await d.reconcile(desired(['stuck'], every));
    const raw = client();
    const q = new Queue('cycles', { connection: client({ maxRetriesPerRequest: null }), prefix: keys.bullPrefix });
    cleanups.push(() => q.close());
    const repeatKey = `${keys.bullPrefix}:cycles:repeat`;
    const next = Number(await raw.zscore(repeatKey, schedulerId('stuck')));
    // A scheduler that stopped producing: its pending job vanished and its next slot lies far behind.
    await raw.zadd(repeatKey, Date.now() - 10 * every, schedulerId('stuck'));
    expect(await q.remove(`repeat:${schedulerId('stuck')}:${next}`)).toBe(1);
    const light = await d.reconcile(desired(['stuck'], every), { full: false });
    expect(light.repaired).toEqual(['stuck']);
    expect(Number(await raw.zscore(repeatKey, schedulerId('stuck')))).toBeGreaterThan(Date.now() - every);
  });

  it('the reconciler reconciles in full at start, on runOnce and every FULL_RECONCILE_EVERY intervals, lightly otherwise', async () => {
    const calls: Array<boolean | undefined> = [];
    const fake = {
      reconcile(_desired: ReadonlyMap<string, number>, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
        calls.push(opts.full);
        return Promise.resolve({ added: [], updated: [], removed: [], repaired: [], failed: [] });
      },
      repairStuck: (): Promise<string[]> => Promise.resolve([]),
    };
    const r = startReconciler({
      dispatcher: fake,
      redis: client({ maxRetriesPerRequest: 1, enableOfflineQueue: false }),
      keys: new Keys(`light${++prefixSeq}`),
      owner: 'o1',
      intervalMs: 40,
      desired: () => new Map([['a', 1000]]),
      logger: silentLogger(),
    });
    cleanups.push(() => r.stop());
    const periodic = FULL_RECONCILE_EVERY + 2;
    await waitUntil('periodic reconciles', () => (calls.length >= periodic ? true : undefined), { timeoutMs: 10_000, intervalMs: 10 });
    expect(calls[0]).toBe(true);
    expect(calls.slice(1, FULL_RECONCILE_EVERY)).toEqual(Array(FULL_RECONCILE_EVERY - 1).fill(false));
    expect(calls[FULL_RECONCILE_EVERY]).toBe(true);
    const n = calls.length;
    await r.runOnce();
    expect(calls.slice(n).includes(true)).toBe(true);
  });

  /** The state a worker killed between taking a scheduler's job and scheduling the next one leaves. */
  async function takenByDeadWorker(keys: Keys, queue: string, every: number): Promise<number> {
    const raw = client();
    const repeatKey = `${keys.bullPrefix}:cycles:repeat`;
    const slot = Number(await raw.zscore(repeatKey, schedulerId(queue)));
    const q = new Queue('cycles', { connection: client({ maxRetriesPerRequest: null }), prefix: keys.bullPrefix });
    cleanups.push(() => q.close());
    await waitUntil('the slot is due', () => (Date.now() > slot ? true : undefined), { timeoutMs: every + 2000, intervalMs: 20 });
    await q.promoteJobs();
    // A manual worker takes the job (and, like any worker, schedules the next slot at once) …
    const w = new Worker('cycles', null, { connection: client({ maxRetriesPerRequest: null }), prefix: keys.bullPrefix, autorun: false });
    cleanups.push(() => w.close(true));
    const job = await w.getNextJob('dead-worker-token', { block: false });
    expect(job?.id).toBe(`repeat:${schedulerId(queue)}:${slot}`);
    // … which the dead worker never got to do: put the scheduler back on the taken slot.
    const next = Number(await raw.zscore(repeatKey, schedulerId(queue)));
    await raw.zadd(repeatKey, slot, schedulerId(queue));
    expect(await q.remove(`repeat:${schedulerId(queue)}:${next}`)).toBe(1);
    expect(await q.getJobState(`repeat:${schedulerId(queue)}:${slot}`)).toBe('active');
    return slot;
  }

  it('repairStuck gives a scheduler whose job a dead worker took its next slot back, at once', async () => {
    const { d, keys } = dispatcher();
    const every = 1500;
    await d.reconcile(desired(['taken', 'healthy'], 60_000));
    await d.reconcile(desired(['taken'], every)); // only 'taken' runs soon; 'healthy' stays due in a minute
    const slot = await takenByDeadWorker(keys, 'taken', every);
    await sleep(150);
    const raw = client();
    const repeatKey = `${keys.bullPrefix}:cycles:repeat`;
    expect(await d.repairStuck(desired(['taken', 'healthy'], every), { stuckAfterMs: 100 })).toEqual(['taken']);
    const next = Number(await raw.zscore(repeatKey, schedulerId('taken')));
    expect(next).toBeGreaterThan(slot);
    expect(next).toBeGreaterThan(Date.now() - every);
    const q = new Queue('cycles', { connection: client({ maxRetriesPerRequest: null }), prefix: keys.bullPrefix });
    cleanups.push(() => q.close());
    expect(await q.getJobState(`repeat:${schedulerId('taken')}:${next}`)).toBe('delayed');
    // nothing left to repair: one ZRANGEBYSCORE, nothing else
    const stats = client();
    const before = await commandCalls(stats);
    expect(await d.repairStuck(desired(['taken'], every), { stuckAfterMs: 100 })).toEqual([]);
    const after = await commandCalls(stats);
    const used = [...after].filter(([cmd, n]) => n !== (before.get(cmd) ?? 0)).map(([cmd]) => cmd).sort();
    expect(used).toEqual(['info', 'zrangebyscore']);
  });

  it('repairStuck leaves alone a late job that only waits for a free worker, and queues not desired', async () => {
    const { d, keys } = dispatcher();
    const every = 1000;
    await d.reconcile(desired(['backlog', 'unwanted'], every));
    const raw = client();
    const repeatKey = `${keys.bullPrefix}:cycles:repeat`;
    const slot = Number(await raw.zscore(repeatKey, 'backlog'));
    const unwanted = Number(await raw.zscore(repeatKey, 'unwanted'));
    await waitUntil('both slots are well past', () => (Date.now() > Math.max(slot, unwanted) + 300 ? true : undefined), { timeoutMs: 3000, intervalMs: 20 });
    const q = new Queue('cycles', { connection: client({ maxRetriesPerRequest: null }), prefix: keys.bullPrefix });
    cleanups.push(() => q.close());
    await q.promoteJobs();
    expect(await q.getJobState(`repeat:backlog:${slot}`)).toBe('waiting');
    expect(await d.repairStuck(desired(['backlog'], every), { stuckAfterMs: 100 })).toEqual([]);
    expect(Number(await raw.zscore(repeatKey, 'backlog'))).toBe(slot);
    expect(Number(await raw.zscore(repeatKey, 'unwanted'))).toBe(unwanted);
  });
});
