/**
 * Dispatch against a real redis-server: schedulers fire on their slots with spread offsets, an
 * unchanged reconcile touches nothing, changes and removals apply, a wiped Redis is repaired,
 * overdue schedulers are repaired, run-now is de-duplicated per second.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Dispatcher,
  queueOfJob,
  schedulerId,
  DEFAULT_SPREAD_STEP_MS,
  schedulerOffset,
  slotOf,
  type DispatchOptions,
} from '../../../src/coordination/dispatch.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import { sleep, waitUntil } from '../../helpers/processes.ts';
import { useRedis } from '../../helpers/redis-server.ts';

const server = useRedis();
const cleanups: Array<() => Promise<void> | void> = [];
let prefixSeq = 0;

afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

/** A BullMQ-style connection, as the daemon builds them (RESP2, no retries limit). */
function connection(): Redis {
  const c = new Redis({ host: '127.0.0.1', port: server().port, maxRetriesPerRequest: null, protocol: 2, commandTimeout: 5000 });
  c.on('error', () => undefined);
  cleanups.push(() => c.disconnect());
  return c;
}

/** One processed job. */
interface Run {
  readonly queue: string;
  readonly slot: number;
  readonly jobId: string;
  readonly at: number;
}

/** A dispatcher on a fresh key prefix (one per test). */
function dispatcher(over: Partial<DispatchOptions> = {}): { d: Dispatcher; keys: Keys } {
  const keys = new Keys(over.keys?.prefix ?? `d${++prefixSeq}`);
  const d = new Dispatcher({ connection: connection(), keys, logger: silentLogger(), ...over });
  cleanups.push(() => d.close());
  return { d, keys };
}

/** Starts a worker that records every job it processes. */
function recordingWorker(d: Dispatcher, runs: Run[], concurrency = 20): void {
  d.createWorker(
    (job) => {
      runs.push({ queue: queueOfJob(job), slot: slotOf(job), jobId: job.id ?? '', at: Date.now() });
      return Promise.resolve({ status: 'ok' });
    },
    { concurrency, lockDurationMs: 1000, stalledIntervalMs: 1000, owner: 'test-worker' },
  );
}

function desiredOf(queues: readonly string[], every: number): Map<string, number> {
  return new Map(queues.map((q) => [q, every]));
}

function runsOf(runs: readonly Run[], queue: string): Run[] {
  return runs.filter((r) => r.queue === queue).sort((a, b) => a.slot - b.slot);
}

/** Every run of `queue` is on its own slot, on the offset's phase, one interval after the previous. */
function expectRegularSlots(runs: readonly Run[], queue: string, every: number): void {
  const mine = runsOf(runs, queue);
  const phase = schedulerOffset(queue, every, DEFAULT_SPREAD_STEP_MS) % every;
  for (const [i, r] of mine.entries()) {
    expect(r.slot % every, `${queue} slot phase`).toBe(phase);
    if (i > 0) expect(r.slot - mine[i - 1]!.slot, `${queue} slot step`).toBe(every);
  }
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
}

describe('coordination/dispatch', () => {
  it('creates one scheduler per queue; each fires on its own slots, first runs spread over the interval', async () => {
    const every = 1000;
    const queues = Array.from({ length: 200 }, (_, i) => `SITE_${i}:queue/${i} x`);
    const { d } = dispatcher();
    const runs: Run[] = [];
    recordingWorker(d, runs, 50);
    const t0 = Date.now();
    const result = await d.reconcile(desiredOf(queues, every));
    const t1 = Date.now();
    expect([...result.added].sort()).toEqual([...queues].sort());
    expect(result.updated.length + result.removed.length + result.repaired.length + result.failed.length).toBe(0);
    expect((await d.counts()).schedulers).toBe(200);

    await waitUntil('two runs of every queue', () => (new Set(runs.map((r) => r.queue)).size === 200 && runs.length >= 450 ? true : undefined), {
      timeoutMs: 10_000,
      describe: () => `${runs.length} runs`,
    });
    const firstRunDelay: number[] = [];
    const lag: number[] = [];
    for (const q of queues) {
      expectRegularSlots(runs, q, every);
      const first = runsOf(runs, q)[0]!;
      // No immediate run at creation: the first slot is the next one on the queue's phase.
      expect(runsOf(runs, q).length).toBeGreaterThanOrEqual(2);
      expect(first.slot).toBeGreaterThan(t0);
      expect(first.slot).toBeLessThanOrEqual(t1 + every);
      firstRunDelay.push(first.at - t0);
      for (const r of runsOf(runs, q)) lag.push(r.at - r.slot);
    }
    // Spread over the interval on the grid: the first runs fall on the steps, about evenly.
    const step = DEFAULT_SPREAD_STEP_MS;
    const buckets = new Array<number>(every / step).fill(0);
    for (const q of queues) {
      const phase = runsOf(runs, q)[0]!.slot % every;
      expect(phase % step, q).toBe(0);
      buckets[phase / step]! += 1;
    }
    console.log(
      `[dispatch] 200 queues, every ${every} ms: first runs per ${step}-ms step ${buckets.join(' ')}; ` +
        `first run after reconcile p50 ${quantile(firstRunDelay, 0.5)} ms, max ${Math.max(...firstRunDelay)} ms; ` +
        `start lag p50 ${quantile(lag, 0.5)} ms, p95 ${quantile(lag, 0.95)} ms, max ${Math.max(...lag)} ms`,
    );
    // Binomial(200, 1/steps) per step: a 4-sigma band above its mean (4 steps: 50 ± 6.1).
    const p = 1 / buckets.length;
    for (const b of buckets) expect(b).toBeLessThanOrEqual(200 * p + 4 * Math.sqrt(200 * p * (1 - p)));
    expect(Math.min(...buckets)).toBeGreaterThan(0);
  });

  it('re-reconciling the same set changes nothing and causes no extra run', async () => {
    const every = 500;
    const queues = Array.from({ length: 20 }, (_, i) => `Q${i}`);
    const { d } = dispatcher();
    const runs: Run[] = [];
    recordingWorker(d, runs);
    await d.reconcile(desiredOf(queues, every));
    await sleep(1200);
    for (let i = 0; i < 3; i++) {
      const again = await d.reconcile(desiredOf(queues, every));
      expect(again).toEqual({ added: [], updated: [], removed: [], repaired: [], failed: [] });
    }
    await sleep(1500);
    // Every slot from the first one up to the cutoff runs exactly once: none lost, none added.
    const cutoff = Date.now() - 300;
    const complete = (q: string): boolean => {
      const mine = runsOf(runs, q).filter((r) => r.slot <= cutoff);
      return mine.length > 0 && mine.length === Math.floor((cutoff - mine[0]!.slot) / every) + 1;
    };
    await waitUntil('every slot up to the cutoff ran', () => (queues.every(complete) ? true : undefined), { timeoutMs: 3000 });
    for (const q of queues) expectRegularSlots(runs, q, every);
    expect(new Set(runs.map((r) => r.jobId)).size).toBe(runs.length);
  });

  it('reads the schedulers in pages while workers move them, and still changes nothing when nothing changed', async () => {
    const every = 300;
    const queues = Array.from({ length: 30 }, (_, i) => `page/${i}`);
    const { d } = dispatcher({ pageSize: 7 });
    const runs: Run[] = [];
    recordingWorker(d, runs);
    expect((await d.reconcile(desiredOf(queues, every))).added).toHaveLength(30);
    for (let i = 0; i < 8; i++) {
      await sleep(150);
      expect(await d.reconcile(desiredOf(queues, every))).toEqual({ added: [], updated: [], removed: [], repaired: [], failed: [] });
    }
    for (const q of queues) expectRegularSlots(runs, q, every);
    expect((await d.counts()).schedulers).toBe(30);
  });

  it('moves the offsets onto a changed grid at the next full reconcile, not at a light one', async () => {
    const every = 60_000;
    const queues = Array.from({ length: 20 }, (_, i) => `grid/${i}`);
    let step = 0;
    const { d, keys } = dispatcher({ spreadStepMs: () => step });
    const bull = new Queue('cycles', { connection: connection(), prefix: keys.bullPrefix });
    cleanups.push(() => bull.close());
    const offsets = async (): Promise<number[]> => Promise.all(queues.map(async (q) => (await bull.getJobScheduler(schedulerId(q)))?.offset ?? -1));
    expect((await d.reconcile(desiredOf(queues, every))).added).toHaveLength(20);
    expect(await offsets()).toEqual(queues.map((q) => schedulerOffset(q, every, 0)));
    step = 5000;
    const moved = queues.filter((q) => schedulerOffset(q, every, 0) !== schedulerOffset(q, every, step));
    expect(moved.length).toBeGreaterThan(15);
    expect(await d.reconcile(desiredOf(queues, every), { full: false })).toEqual({ added: [], updated: [], removed: [], repaired: [], failed: [] });
    expect((await d.reconcile(desiredOf(queues, every))).updated.sort()).toEqual(moved.sort());
    const now = await offsets();
    expect(now).toEqual(queues.map((q) => schedulerOffset(q, every, step)));
    for (const o of now) expect(o % step).toBe(0);
    expect((await d.reconcile(desiredOf(queues, every))).updated).toEqual([]);
  });

  it('makes no change once the signal is aborted', async () => {
    const { d } = dispatcher();
    const ac = new AbortController();
    ac.abort();
    await expect(d.reconcile(desiredOf(['x', 'y'], 1000), { signal: ac.signal })).rejects.toMatchObject({ code: 'APF_ERR_ABORTED' });
    expect((await d.counts()).schedulers).toBe(0);
  });

  it('applies a changed interval and stops a removed queue', async () => {
    const queues = ['keep:a', 'slow/b', 'gone c', 'gone%d'];
    const { d } = dispatcher();
    const runs: Run[] = [];
    recordingWorker(d, runs);
    await d.reconcile(desiredOf(queues, 500));
    await waitUntil('a run of every queue', () => (queues.every((q) => runsOf(runs, q).length > 0) ? true : undefined), { timeoutMs: 3000 });

    const changed = await d.reconcile(new Map([['keep:a', 500], ['slow/b', 1000]]));
    expect(changed.updated).toEqual(['slow/b']);
    expect([...changed.removed].sort()).toEqual(['gone c', 'gone%d']);
    expect(changed.added).toEqual([]);
    const tChange = Date.now();
    expect((await d.counts()).schedulers).toBe(2);
    await sleep(2600);

    const after = (q: string): Run[] => runsOf(runs, q).filter((r) => r.at > tChange + 50);
    expect(after('gone c')).toEqual([]);
    expect(after('gone%d')).toEqual([]);
    const slow = after('slow/b');
    expect(slow.length).toBeGreaterThanOrEqual(2);
    for (const r of slow) expect(r.slot % 1000).toBe(schedulerOffset('slow/b', 1000, DEFAULT_SPREAD_STEP_MS) % 1000);
    for (let i = 1; i < slow.length; i++) expect(slow[i]!.slot - slow[i - 1]!.slot).toBe(1000);
    expect(after('keep:a').length).toBeGreaterThanOrEqual(4);
    expectRegularSlots(runs, 'keep:a', 500);
  });

  it('recreates every scheduler after Redis lost its data (FLUSHALL) and cycles resume', async () => {
    const every = 500;
    const queues = Array.from({ length: 10 }, (_, i) => `flush:${i}`);
    const { d } = dispatcher();
    const runs: Run[] = [];
    recordingWorker(d, runs);
    await d.reconcile(desiredOf(queues, every));
    await waitUntil('a run of every queue', () => (queues.every((q) => runsOf(runs, q).length > 0) ? true : undefined), { timeoutMs: 3000 });

    const control = connection();
    await control.flushall();
    const tFlush = Date.now();
    await sleep(1200);
    // Jobs fetched just before the flush may still finish; no slot after it may run.
    expect(runs.filter((r) => r.slot > tFlush)).toEqual([]);
    expect((await d.counts()).schedulers).toBe(0);

    const repaired = await d.reconcile(desiredOf(queues, every));
    expect([...repaired.added].sort()).toEqual([...queues].sort());
    const tRepair = Date.now();
    await waitUntil('two runs of every queue after the repair', () => (queues.every((q) => runs.filter((r) => r.queue === q && r.at > tRepair).length >= 2) ? true : undefined), {
      timeoutMs: 5000,
    });
    for (const q of queues) expectRegularSlots(runs.filter((r) => r.at > tRepair), q, every);
  });

  it('repairs a scheduler that stopped producing jobs, but not one whose job only waits for a worker', async () => {
    const every = 500;
    const { d, keys } = dispatcher();
    const bull = new Queue('cycles', { connection: connection(), prefix: keys.bullPrefix });
    cleanups.push(() => bull.close());
    await d.reconcile(desiredOf(['stuck', 'backlog'], every));

    // "stuck": the scheduler's next slot is far behind and its pending job vanished (BullMQ #3272-style).
    const raw = connection();
    const repeatKey = `${keys.bullPrefix}:cycles:repeat`;
    const stuckId = schedulerId('stuck');
    const next = Number(await raw.zscore(repeatKey, stuckId));
    await raw.zadd(repeatKey, Date.now() - 5 * every, stuckId);
    expect(await bull.remove(`repeat:${stuckId}:${next}`)).toBe(1);
    // "backlog": no worker runs, its pending job is due and waiting.
    await waitUntil('backlog overdue', async () => (Number(await raw.zscore(repeatKey, 'backlog')) < Date.now() - 2 * every - 50 ? true : undefined), {
      timeoutMs: 3000,
    });
    await bull.promoteJobs();
    const backlogJob = `repeat:backlog:${Number(await raw.zscore(repeatKey, 'backlog'))}`;
    expect(await bull.getJobState(backlogJob)).toBe('waiting');

    const result = await d.reconcile(desiredOf(['stuck', 'backlog'], every));
    expect(result.repaired).toEqual(['stuck']);
    expect(result.added.length + result.updated.length + result.removed.length).toBe(0);
    expect(await bull.getJobState(backlogJob)).toBe('waiting');
    const repairedNext = Number(await raw.zscore(repeatKey, stuckId));
    expect(repairedNext).toBeGreaterThan(Date.now() - every);
    expect(await bull.getJobState(`repeat:${stuckId}:${repairedNext}`)).toBe('delayed');

    // With a worker, the repaired scheduler cycles again.
    const runs: Run[] = [];
    recordingWorker(d, runs);
    await waitUntil('two runs of the repaired queue', () => (runsOf(runs, 'stuck').length >= 2 ? true : undefined), { timeoutMs: 3000 });
    expectRegularSlots(runs, 'stuck', every);
  });

  it('adds one run-now job per queue and second, whose slot and queue read back', async () => {
    let clock = 1_800_000_000_250;
    const { d } = dispatcher({ now: () => clock });
    await d.runNow('ops:queue 1');
    await d.runNow('ops:queue 1');
    clock += 700;
    await d.runNow('ops:queue 1');
    expect((await d.counts()).waiting).toBe(1);
    clock += 100;
    await d.runNow('ops:queue 1');
    await d.runNow('other');
    expect((await d.counts()).waiting).toBe(3);

    const runs: Run[] = [];
    recordingWorker(d, runs);
    await waitUntil('three runs', () => (runs.length === 3 ? true : undefined), { timeoutMs: 3000 });
    await sleep(200);
    expect(runs.map((r) => [r.queue, r.slot]).sort()).toEqual([
      ['ops:queue 1', 1_800_000_000_250],
      ['ops:queue 1', 1_800_000_001_050],
      ['other', 1_800_000_001_050],
    ]);
  });
});
