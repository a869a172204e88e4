/**
 * The pure half of dispatch: scheduler ids, offsets, slots and the reconcile plan (no Redis).
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CYCLE_JOB_NAME,
  planLightReconcile,
  planReconcile,
  queueOfJob,
  queueOfScheduler,
  runNowJobId,
  schedulerId,
  DEFAULT_SPREAD_STEP_MS,
  schedulerOffset,
  slotOf,
  type SchedulerView,
} from '../../../src/coordination/dispatch.ts';
import { isApfError } from '../../../src/errors.ts';

const NASTY = [
  'CERN-PROD',
  'a:b',
  '::',
  ':',
  'ANALY_BNL/SHORT queue',
  ' leading and trailing ',
  '100%',
  '%3A',
  '%25',
  '%253A',
  'a%3Ab',
  'a:%:b:%%::',
  'Ωμέγα-日本-ü-🚀',
  'tab\tand\nnewline',
  '12345',
  'repeat:x:123',
];

/** The default grid of the offsets (`cluster.spread_step`). */
const STEP = DEFAULT_SPREAD_STEP_MS;

/** A scheduler as BullMQ would list it, matching `queue` at `every` unless overridden. */
function view(queue: string, every: number, over: Partial<SchedulerView> = {}): SchedulerView {
  return { id: schedulerId(queue), name: CYCLE_JOB_NAME, every, pattern: undefined, offset: schedulerOffset(queue, every, STEP), next: 1_000_000, queue, ...over };
}

describe('coordination/dispatch', () => {
  describe('schedulerId / queueOfScheduler', () => {
    it('round-trips nasty names and never produces a colon', () => {
      for (const name of NASTY) {
        const id = schedulerId(name);
        expect(id).not.toContain(':');
        expect(queueOfScheduler(id)).toBe(name);
      }
    });

    it('is injective: distinct names give distinct ids', () => {
      const ids = new Set(NASTY.map(schedulerId));
      expect(ids.size).toBe(NASTY.length);
    });

    it('keeps plain names readable', () => {
      expect(schedulerId('BNL_ATLAS_1-ucore')).toBe('BNL_ATLAS_1-ucore');
      expect(schedulerId('a:b%c')).toBe('a%3Ab%25c');
    });

    it('rejects an empty name and ids it cannot have produced', () => {
      expect(() => schedulerId('')).toThrow(expect.objectContaining({ code: 'APF_ERR_CONFIG_INVALID' }));
      for (const bad of ['', 'a:b', '100%', '%41', 'x%3', '%']) {
        let err: unknown;
        try {
          queueOfScheduler(bad);
        } catch (e) {
          err = e;
        }
        expect(isApfError(err, 'APF_ERR_CONFIG_INVALID'), bad).toBe(true);
      }
    });
  });

  describe('schedulerOffset', () => {
    it('is stable, inside (0, every], and depends on the name and the interval', () => {
      for (const name of NASTY) {
        const o = schedulerOffset(name, 360_000, 0);
        expect(schedulerOffset(name, 360_000, 0)).toBe(o);
        expect(o).toBeGreaterThan(0);
        expect(o).toBeLessThanOrEqual(360_000);
        expect(Number.isInteger(o)).toBe(true);
      }
      const offsets = new Set(NASTY.map((n) => schedulerOffset(n, 360_000, 0)));
      expect(offsets.size).toBeGreaterThan(NASTY.length - 2);
    });

    it('spreads many queues evenly over the interval, on the grid too', () => {
      const every = 360_000;
      for (const step of [0, STEP, 10_000]) {
        const buckets = new Array<number>(10).fill(0);
        const n = 5000;
        for (let i = 0; i < n; i++) {
          const o = schedulerOffset(`SITE_${i}-queue`, every, step) % every;
          buckets[Math.floor((o / every) * 10)]! += 1;
        }
        // Uniform: 500 per bucket; a 4-sigma band is about ±85.
        for (const b of buckets) {
          expect(b, `step ${step}`).toBeGreaterThan(400);
          expect(b, `step ${step}`).toBeLessThan(600);
        }
      }
    });

    it('without a grid (step 0 or 1) is the first 48 bits of the SHA-256 of the name mod the interval, as it was before the grid', () => {
      for (const name of [...NASTY, ...Array.from({ length: 200 }, (_, i) => `BENCH_${i}-ce.example.org`)]) {
        for (const every of [60_000, 360_000, 7]) {
          const r = createHash('sha256').update(name, 'utf8').digest().readUIntBE(0, 6) % every;
          expect(schedulerOffset(name, every, 0), name).toBe(r === 0 ? every : r);
          expect(schedulerOffset(name, every, 1), name).toBe(r === 0 ? every : r);
        }
      }
    });

    it('on a grid is that offset rounded down to a multiple of the step; one phase when the step is the interval or more', () => {
      const phases = new Set<number>();
      for (let i = 0; i < 2000; i++) {
        const name = `BENCH_${i}-ce.example.org`;
        const free = schedulerOffset(name, 60_000, 0) % 60_000;
        const o = schedulerOffset(name, 60_000, STEP);
        expect(o % STEP, name).toBe(0);
        expect(o % 60_000, name).toBe(free - (free % STEP));
        phases.add(o);
        expect(schedulerOffset(name, 60_000, 60_000)).toBe(60_000);
        expect(schedulerOffset(name, 200, STEP)).toBe(200);
      }
      // 2,000 queues on the steps of a minute (120 of 500 ms): every step used
      expect(phases.size).toBe(60_000 / STEP);
    });

    it('maps a zero remainder to the full interval (BullMQ reads offset 0 as "none")', () => {
      expect(schedulerOffset('anything', 1, 0)).toBe(1);
      for (let i = 0; i < 50; i++) expect(schedulerOffset(`q${i}`, 2, 0)).toBeOneOf([1, 2]);
    });

    it('rejects unusable intervals', () => {
      for (const every of [0, -5, 1.5, Number.NaN]) {
        expect(() => schedulerOffset('q', every, STEP)).toThrow(expect.objectContaining({ code: 'APF_ERR_CONFIG_INVALID' }));
      }
      for (const step of [-1, 2.5, Number.NaN]) {
        expect(() => schedulerOffset('q', 60_000, step)).toThrow(expect.objectContaining({ code: 'APF_ERR_CONFIG_INVALID' }));
      }
    });
  });

  describe('slotOf / queueOfJob', () => {
    it('reads a scheduler job slot from its id, even when the scheduler id looks like a slot', () => {
      expect(slotOf({ id: 'repeat:CERN-PROD:1795640075014', data: { queue: 'CERN-PROD' } })).toBe(1795640075014);
      const id = schedulerId('repeat:x:123');
      expect(slotOf({ id: `repeat:${id}:1700000000500`, data: { queue: 'repeat:x:123' } })).toBe(1700000000500);
    });

    it('prefers the id over data.slot and falls back to data.slot for one-off jobs', () => {
      expect(slotOf({ id: 'repeat:q:2000', data: { queue: 'q', slot: 1000 } })).toBe(2000);
      expect(slotOf({ id: runNowJobId('q', 1_700_000_000_123), data: { queue: 'q', slot: 1_700_000_000_123 } })).toBe(1_700_000_000_123);
    });

    it('fails for a job that carries no slot', () => {
      for (const job of [{ id: 'other', data: { queue: 'q' } }, { id: 'repeat:q:abc', data: {} }, { id: undefined, data: { slot: '12' } }]) {
        expect(() => slotOf(job as never)).toThrow(expect.objectContaining({ code: 'APF_ERR_REDIS' }));
      }
    });

    it('names the queue from the scheduler id, else from data.queue', () => {
      expect(queueOfJob({ id: 'repeat:a%3Ab:1', data: { queue: 'stale' }, repeatJobKey: 'a%3Ab' })).toBe('a:b');
      expect(queueOfJob({ id: 'run-now-x-1', data: { queue: 'x y' }, repeatJobKey: undefined })).toBe('x y');
      expect(() => queueOfJob({ id: 'j', data: {}, repeatJobKey: undefined })).toThrow(expect.objectContaining({ code: 'APF_ERR_REDIS' }));
    });
  });

  describe('runNowJobId', () => {
    it('is the same within one second, differs across seconds, and is a valid BullMQ custom id', () => {
      const t = 1_700_000_000_000;
      expect(runNowJobId('a:b', t)).toBe(runNowJobId('a:b', t + 999));
      expect(runNowJobId('a:b', t)).not.toBe(runNowJobId('a:b', t + 1000));
      expect(runNowJobId('a:b', t)).not.toBe(runNowJobId('a%3Ab', t));
      for (const q of NASTY) {
        const id = runNowJobId(q, t);
        expect(id).not.toContain(':');
        expect(id).not.toMatch(/^\d+$/);
      }
    });
  });

  describe('planReconcile', () => {
    const now = 10_000_000;

    it('adds missing, removes undesired and foreign, leaves matching untouched', () => {
      const desired = new Map([
        ['keep', 1000],
        ['new:one', 2000],
      ]);
      const plan = planReconcile(desired, [view('keep', 1000, { next: now + 10 }), view('gone', 1000), { ...view('x', 1000), id: 'bad%id' }], now, STEP);
      expect(plan.add).toEqual([['new:one', 2000]]);
      expect(plan.update).toEqual([]);
      expect(plan.remove).toEqual([schedulerId('gone'), 'bad%id']);
      expect(plan.overdue).toEqual([]);
      expect(plan.invalid).toEqual([]);
    });

    it('updates a scheduler whose interval, offset, name, template or kind differs', () => {
      const desired = new Map(['a', 'b', 'c', 'd', 'e', 'f'].map((q) => [q, 1000] as const));
      const plan = planReconcile(
        desired,
        [
          view('a', 500),
          view('b', 1000, { offset: (schedulerOffset('b', 1000, STEP) % 1000) + 1 }),
          view('c', 1000, { name: 'other' }),
          view('d', 1000, { queue: 'not-d' }),
          view('e', 1000, { pattern: '* * * * *' }),
          view('f', 1000, { next: now }),
        ],
        now,
        STEP,
      );
      expect(plan.update.map(([q]) => q)).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(plan.update[0]).toEqual(['a', 1000]);
      expect(plan.add).toEqual([]);
      expect(plan.remove).toEqual([]);
    });

    it('flags a matching scheduler as overdue only past 2 intervals', () => {
      const desired = new Map([
        ['late', 1000],
        ['edge', 1000],
        ['fine', 1000],
      ]);
      const plan = planReconcile(
        desired,
        [view('late', 1000, { next: now - 2001 }), view('edge', 1000, { next: now - 2000 }), view('fine', 1000, { next: now - 500 })],
        now,
        STEP,
      );
      expect(plan.overdue).toEqual([['late', 1000, now - 2001]]);
    });

    it('sets aside desired entries with an unusable interval', () => {
      const plan = planReconcile(
        new Map([
          ['zero', 0],
          ['frac', 1.5],
          ['ok', 1000],
        ]),
        [view('zero', 1000)],
        now,
        STEP,
      );
      expect(plan.invalid).toEqual(['zero', 'frac']);
      expect(plan.add).toEqual([['ok', 1000]]);
      // A configured queue with a bad interval keeps its scheduler rather than losing it.
      expect(plan.remove).toEqual([]);
    });
  });

  describe('planLightReconcile', () => {
    const now = 10_000_000;
    const slots = (entries: ReadonlyArray<readonly [string, number]>): Map<string, number> => new Map(entries.map(([q, next]) => [q.startsWith('raw:') ? q.slice(4) : schedulerId(q), next]));

    it('adds missing, removes undesired and foreign ids, repairs only past 2 intervals, never updates', () => {
      const desired = new Map([
        ['keep', 1000],
        ['a:b', 1000],
        ['late', 1000],
        ['edge', 1000],
        ['new', 2000],
        ['zero', 0],
      ]);
      const plan = planLightReconcile(
        desired,
        slots([['keep', now + 10], ['a:b', now], ['late', now - 2001], ['edge', now - 2000], ['gone', now], ['raw:bad%id', now], ['zero', now]]),
        now,
      );
      expect(plan.add).toEqual([['new', 2000]]);
      expect(plan.update).toEqual([]);
      expect(plan.remove).toEqual([schedulerId('gone'), 'bad%id']);
      expect(plan.overdue).toEqual([['late', 1000, now - 2001]]);
      // a configured queue with a bad interval keeps its scheduler
      expect(plan.invalid).toEqual(['zero']);
    });

    it('decides what planReconcile decides when every scheduler matches its options', () => {
      const desired = new Map([['x', 1000], ['y:1', 1000], ['z', 3000], ['w', 1000]]);
      const views = [view('x', 1000, { next: now }), view('y:1', 1000, { next: now - 5000 }), view('z', 3000, { next: now - 6001 }), view('old', 1000)];
      const full = planReconcile(desired, views, now, STEP);
      const light = planLightReconcile(desired, new Map(views.map((v) => [v.id, v.next ?? 0])), now);
      expect(light).toEqual(full);
    });
  });
});
