import { describe, expect, it } from 'vitest';
import type { QueueConfig } from '../../../src/config/types.ts';
import { batchViewFor, buildClusterView, sourceTransitions, type ClusterViewOptions, type InstanceLiveness, type SubmittedEntry } from '../../../src/coordination/cluster-view.ts';
import type { SourceRecord } from '../../../src/coordination/records.ts';
import type { BatchJob, BatchQueueInfo } from '../../../src/core/info.ts';
import { schedInput } from '../../../src/core/pipeline.ts';
import { unusableReason } from '../../../src/core/source-view.ts';

const NOW = 1_800_000_000_000;
const MIN = 60_000;
const HOUR = 60 * MIN;

function q(pending: number, running = 0, done = 0, failed = 0): BatchQueueInfo {
  return { pending, running, done, failed };
}

function src(source: string, owner: string | null, at: number, queues: Record<string, BatchQueueInfo>, publisher = owner ?? 'a'): SourceRecord {
  return { source, owner, publisher, at, seq: 1, queues };
}

function inst(id: string, heartbeatAt: number, alive: boolean): InstanceLiveness {
  return { id, heartbeatAt, alive };
}

function sub(source: string, queue: string, n: number, at: number, cycleId = `${queue}:${at}:1`): SubmittedEntry {
  return { source, queue, cycleId, n, at };
}

/** maxage 5 min for every source, grace 2 h. */
const opts = (now = NOW, over: Partial<ClusterViewOptions> = {}): ClusterViewOptions => ({ now, offlineGraceMs: 2 * HOUR, maxAgeMs: () => 5 * MIN, ...over });

describe('coordination/cluster-view', () => {
  describe('classification', () => {
    it('a shared source is fresh up to maxage, stale until maxage + grace, then dropped', () => {
      const at = NOW - 5 * MIN;
      const rec = src('condor:s1:cm', null, at, { A: q(3) });
      const states = [NOW, NOW + 1, NOW + 2 * HOUR, NOW + 2 * HOUR + 1].map((now) => buildClusterView([rec], [], [], opts(now)).sources.get('condor:s1:cm'));
      expect(states.map((s) => s?.state)).toEqual(['fresh', 'stale', 'stale', 'dropped']);
      expect(states.map((s) => s?.since)).toEqual([at, at + 5 * MIN, at + 5 * MIN, at + 5 * MIN + 2 * HOUR]);
      expect(states.map((s) => s?.counted)).toEqual([true, true, true, false]);
      expect(states[0]?.ownerLastSeen).toBeNull();
    });

    it('a local source of a live owner is fresh or stale by age, and stays counted however old', () => {
      const instances = [inst('a', NOW - 1000, true)];
      const fresh = buildClusterView([src('condor:local@a', 'a', NOW - MIN, { A: q(1) })], [], instances, opts());
      expect(fresh.sources.get('condor:local@a')).toMatchObject({ state: 'fresh', ageMs: MIN, maxAgeMs: 5 * MIN, counted: true, ownerLastSeen: NOW - 1000 });
      const old = buildClusterView([src('condor:local@a', 'a', NOW - 10 * HOUR, { A: q(1) })], [], instances, opts());
      expect(old.sources.get('condor:local@a')).toMatchObject({ state: 'stale', since: NOW - 10 * HOUR + 5 * MIN, counted: true });
      expect(old.totals.pending).toBe(1);
    });

    it('a local source whose owner stopped heartbeating is offline from its last heartbeat, dropped after the grace', () => {
      const hb = NOW - 30 * MIN;
      const rec = src('condor:local@b', 'b', hb - 20_000, { A: q(7, 2) });
      const dead = [inst('b', hb, false)];
      const offline = buildClusterView([rec], [], dead, opts());
      expect(offline.sources.get('condor:local@b')).toMatchObject({ state: 'offline', since: hb, ownerLastSeen: hb, counted: true });
      expect(offline.queues.get('A')).toMatchObject({ pending: 7, running: 2 });
      // The boundary belongs to offline; a millisecond later it is dropped.
      expect(buildClusterView([rec], [], dead, opts(hb + 2 * HOUR)).sources.get('condor:local@b')?.state).toBe('offline');
      const dropped = buildClusterView([rec], [], dead, opts(hb + 2 * HOUR + 1));
      expect(dropped.sources.get('condor:local@b')).toMatchObject({ state: 'dropped', since: hb + 2 * HOUR, counted: false });
      expect(dropped.queues.get('A')).toMatchObject({ pending: 0, running: 0 });
      expect(dropped.totals).toEqual({ pending: 0, running: 0, done: 0, failed: 0, submittedSince: 0 });
    });

    it('a dead owner makes even a young snapshot offline', () => {
      const v = buildClusterView([src('condor:local@b', 'b', NOW - 10_000, { A: q(1) })], [], [inst('b', NOW - 40_000, false)], opts());
      // The snapshot is newer than the last heartbeat: it is the last sign of life.
      expect(v.sources.get('condor:local@b')).toMatchObject({ state: 'offline', since: NOW - 10_000, ownerLastSeen: NOW - 10_000 });
    });

    it('an owner missing from the registry counts as offline since its snapshot', () => {
      const at = NOW - 3 * HOUR;
      const v = buildClusterView([src('condor:local@gone', 'gone', at, { A: q(4) })], [], [inst('a', NOW, true)], opts());
      expect(v.sources.get('condor:local@gone')).toMatchObject({ state: 'dropped', since: at + 2 * HOUR, ownerLastSeen: at });
      const v2 = buildClusterView([src('condor:local@gone', 'gone', NOW - HOUR, { A: q(4) })], [], [], opts());
      expect(v2.sources.get('condor:local@gone')).toMatchObject({ state: 'offline', since: NOW - HOUR });
      expect(v2.totals.pending).toBe(4);
    });

    it('uses each source its own maxage', () => {
      const recs = [src('condor:fast:cm', null, NOW - 2 * MIN, {}), src('condor:slow:cm', null, NOW - 2 * MIN, {})];
      const v = buildClusterView(recs, [], [], opts(NOW, { maxAgeMs: (s) => (s.source === 'condor:fast:cm' ? MIN : 10 * MIN) }));
      expect(v.sources.get('condor:fast:cm')?.state).toBe('stale');
      expect(v.sources.get('condor:slow:cm')?.state).toBe('fresh');
      expect(v.sources.get('condor:slow:cm')?.maxAgeMs).toBe(10 * MIN);
    });
  });

  describe('sums', () => {
    it('counts a shared schedd once and adds every instance’s local schedd', () => {
      const shared = src('condor:ce01:pool', null, NOW - MIN, { A: q(10, 20, 1, 0), B: q(1, 1) }, 'a');
      const localA = src('condor:local@a', 'a', NOW - MIN, { A: q(2, 3) });
      const localB = src('condor:local@b', 'b', NOW - MIN, { B: q(5, 0, 0, 4) });
      const v = buildClusterView([shared, localA, localB], [], [inst('a', NOW, true), inst('b', NOW, true)], opts());
      expect(v.queues.get('A')).toMatchObject({ pending: 12, running: 23, done: 1, failed: 0, submittedSince: 0 });
      expect(v.queues.get('B')).toMatchObject({ pending: 6, running: 1, done: 0, failed: 4 });
      expect(v.queues.get('A')?.sources.map((s) => s.source)).toEqual(['condor:ce01:pool', 'condor:local@a']);
      expect(v.totals).toEqual({ pending: 18, running: 24, done: 1, failed: 4, submittedSince: 0 });
      expect([...v.sources.keys()]).toEqual(['condor:ce01:pool', 'condor:local@a', 'condor:local@b']);
    });

    it('adds pilots submitted after a snapshot to pending, ignores those the snapshot already holds', () => {
      const at = NOW - 2 * MIN;
      const rec = src('condor:local@a', 'a', at, { A: q(4, 1), B: q(0, 2) });
      const entries = [
        sub('condor:local@a', 'A', 5, at - 1000), // before the snapshot: already in its 4
        sub('condor:local@a', 'A', 5, at), // at the snapshot time: counted by it too
        sub('condor:local@a', 'A', 3, at + 1000),
        sub('condor:local@a', 'A', 2, at + 2000),
        sub('condor:local@a', 'C', 6, at + 3000), // a queue the snapshot does not hold yet
      ];
      const v = buildClusterView([rec], entries, [inst('a', NOW, true)], opts());
      expect(v.queues.get('A')).toMatchObject({ pending: 9, running: 1, submittedSince: 5 });
      expect(v.queues.get('A')?.sources).toEqual([{ source: 'condor:local@a', state: 'fresh', ageMs: 2 * MIN, counts: q(4, 1), submittedSince: 5 }]);
      expect(v.queues.get('C')).toMatchObject({ pending: 6, running: 0, submittedSince: 6 });
      expect(v.queues.get('C')?.sources[0]?.counts).toEqual(q(0));
      expect(v.sources.get('condor:local@a')?.submittedSince).toBe(11);
      expect(v.sources.get('condor:local@a')?.queueCount).toBe(2);
      expect(v.totals).toEqual({ pending: 15, running: 3, done: 0, failed: 0, submittedSince: 11 });
      expect(v.merged.get('C')).toEqual(q(6));
    });

    it('adds submitted pilots per source: a queue in several sources gets each one’s since-snapshot pilots', () => {
      const s1 = src('condor:s1:p', null, NOW - 3 * MIN, { A: q(1) });
      const s2 = src('condor:s2:p', null, NOW - MIN, { A: q(2) });
      // One instant, two sources: only the entry newer than its own source's snapshot counts.
      const t = NOW - 2 * MIN;
      const v = buildClusterView([s1, s2], [sub('condor:s1:p', 'A', 10, t), sub('condor:s2:p', 'A', 100, t)], [], opts());
      expect(v.queues.get('A')).toMatchObject({ pending: 13, submittedSince: 10 });
      expect(v.queues.get('A')?.sources.map((s) => [s.source, s.submittedSince])).toEqual([
        ['condor:s1:p', 10],
        ['condor:s2:p', 0],
      ]);
    });

    it('does not count the submitted pilots of a dropped source, and keeps entries of unknown sources aside', () => {
      const rec = src('condor:local@b', 'b', NOW - 5 * HOUR, { A: q(3) });
      const entries = [sub('condor:local@b', 'A', 4, NOW - 4 * HOUR), sub('condor:nowhere:p', 'A', 9, NOW - MIN)];
      const v = buildClusterView([rec], entries, [inst('b', NOW - 5 * HOUR, false)], opts());
      expect(v.sources.get('condor:local@b')).toMatchObject({ state: 'dropped', submittedSince: 0 });
      expect(v.queues.get('A')).toMatchObject({ pending: 0, submittedSince: 0 });
      expect(v.queues.get('A')?.sources[0]).toMatchObject({ state: 'dropped', submittedSince: 4 });
      expect(v.unattributed).toEqual([entries[1]]);
      expect(v.merged.has('A')).toBe(false);
    });

    it('counts stale and offline sources but not dropped ones', () => {
      const recs = [
        src('condor:fresh:p', null, NOW - MIN, { A: q(1) }),
        src('condor:stale:p', null, NOW - HOUR, { A: q(10) }),
        src('condor:local@off', 'off', NOW - HOUR, { A: q(100) }),
        src('condor:local@gone', 'gone', NOW - 3 * HOUR, { A: q(1000) }),
      ];
      const v = buildClusterView(recs, [], [inst('off', NOW - HOUR, false), inst('gone', NOW - 3 * HOUR, false)], opts());
      expect([...v.sources.values()].map((s) => [s.source, s.state])).toEqual([
        ['condor:fresh:p', 'fresh'],
        ['condor:local@gone', 'dropped'],
        ['condor:local@off', 'offline'],
        ['condor:stale:p', 'stale'],
      ]);
      expect(v.queues.get('A')?.pending).toBe(111);
      expect(v.queues.get('A')?.sources).toHaveLength(4);
    });

    it('sums Throttle’s recent pilots where sources report them', () => {
      const recs = [
        src('condor:s1:p', null, NOW, { A: { ...q(1), recent: { total: 10, short: 2 } } }),
        src('condor:s2:p', null, NOW, { A: { ...q(1), recent: { total: 5, short: 5 } }, B: q(1) }),
      ];
      const v = buildClusterView(recs, [], [], opts());
      expect(v.merged.get('A')).toEqual({ ...q(2), recent: { total: 15, short: 7 } });
      expect(v.merged.get('B')).toEqual(q(1));
      expect(v.merged.get('B')?.recent).toBeUndefined();
    });

    it('is empty without sources', () => {
      const v = buildClusterView([], [], [], opts());
      expect(v.sources.size).toBe(0);
      expect(v.queues.size).toBe(0);
      expect(v.totals).toEqual({ pending: 0, running: 0, done: 0, failed: 0, submittedSince: 0 });
    });
  });

  describe('batchViewFor', () => {
    const own = src('condor:local@a', 'a', NOW - MIN, { A: q(2, 1), B: q(1, 4) });
    const other = src('condor:local@b', 'b', NOW - 20 * MIN, { A: q(10, 10), C: q(3, 3) });
    const live = [inst('a', NOW, true), inst('b', NOW, true)];

    it('is available with the merged cluster counts and the own source’s time and maxage', () => {
      const v = buildClusterView([own, other], [sub('condor:local@a', 'A', 5, NOW - 1000)], live, opts());
      const jobs = new Map<string, readonly BatchJob[]>([['A', [{ id: '1.0', queue: 'A', jobStatus: 1, qdate: 1 }]]]);
      const bv = batchViewFor(v, 'A', 'condor:local@a', { jobs });
      expect(bv.available).toBe(true);
      if (!bv.available) return;
      expect(bv.key).toBe('condor:local@a');
      expect(bv.maxAgeMs).toBe(5 * MIN);
      expect(bv.snapshot.at).toBe(NOW - MIN);
      expect(bv.snapshot.jobs).toBe(jobs);
      expect(Object.fromEntries(bv.snapshot.queues)).toEqual({ A: q(17, 11), B: q(1, 4), C: q(3, 3) });
      expect(unusableReason(bv, NOW, 'batch')).toBeNull();
    });

    it('feeds the pipeline the cluster counts: the queue sees submitted-since pilots, MaxPerFactory the cluster total', () => {
      const v = buildClusterView([own, other], [sub('condor:local@a', 'A', 5, NOW - 1000)], live, opts());
      const queue = { name: 'A', wmsqueue: undefined } as unknown as QueueConfig;
      const input = schedInput({ queue, views: { wms: undefined, batch: batchViewFor(v, 'A', 'condor:local@a') }, maxPerFactory: 100, now: NOW });
      expect(input.batch).toEqual(q(17, 11));
      expect(input.batchTotal).toEqual({ pending: 21, running: 18 });
    });

    it('fails closed when the queue’s own source is missing, stale, offline-and-old or dropped', () => {
      const v = buildClusterView([own, other], [], live, opts());
      expect(batchViewFor(v, 'A', null)).toMatchObject({ available: false, reason: 'queue A has no batch source to submit into' });
      expect(batchViewFor(v, 'A', 'condor:elsewhere:p')).toMatchObject({ available: false, key: 'condor:elsewhere:p' });
      const stale = batchViewFor(v, 'C', 'condor:local@b');
      expect(stale).toEqual({ available: false, key: 'condor:local@b', reason: 'stale: its snapshot is 1200 s old (maxage 300 s)' });
      expect(unusableReason(stale, NOW, 'batch')).toMatch(/^batch source condor:local@b unavailable: stale/);
      const dropped = buildClusterView([src('condor:local@a', 'a', NOW - MIN, {})], [], [inst('a', NOW - 3 * HOUR, false)], opts(NOW, { offlineGraceMs: 0 }));
      expect(batchViewFor(dropped, 'A', 'condor:local@a')).toMatchObject({ available: false, reason: expect.stringMatching(/^dropped/) as unknown });
    });

    it('accepts an own source whose owner looks offline while its data is within maxage', () => {
      const v = buildClusterView([own], [], [inst('a', NOW - 2 * MIN, false)], opts());
      expect(v.sources.get('condor:local@a')?.state).toBe('offline');
      expect(batchViewFor(v, 'A', 'condor:local@a').available).toBe(true);
    });

    it('shares one merged map between the queues of a view', () => {
      const v = buildClusterView([own, other], [], live, opts());
      const a = batchViewFor(v, 'A', 'condor:local@a');
      const b = batchViewFor(v, 'B', 'condor:local@a');
      if (!a.available || !b.available) throw new Error('expected available views');
      expect(a.snapshot.queues).toBe(b.snapshot.queues);
    });
  });

  describe('sourceTransitions', () => {
    it('reports each state change once: new, → offline, → dropped, back to fresh, vanished', () => {
      const rec = src('condor:local@b', 'b', NOW - MIN, { A: q(1) });
      const shared = src('condor:s:p', null, NOW - MIN, { A: q(1) });
      const v0 = buildClusterView([rec, shared], [], [inst('b', NOW, true)], opts());
      expect(sourceTransitions(null, v0)).toEqual([
        { source: 'condor:local@b', from: null, to: 'fresh', since: NOW - MIN, owner: 'b' },
        { source: 'condor:s:p', from: null, to: 'fresh', since: NOW - MIN, owner: null },
      ]);
      // b stops heartbeating at NOW.
      const dead = [inst('b', NOW, false)];
      const t1 = NOW + MIN;
      const v1 = buildClusterView([rec, shared], [], dead, opts(t1));
      expect(sourceTransitions(v0, v1)).toEqual([{ source: 'condor:local@b', from: 'fresh', to: 'offline', since: NOW, owner: 'b' }]);
      const v1b = buildClusterView([rec, shared], [], dead, opts(t1 + MIN, { maxAgeMs: () => HOUR }));
      expect(sourceTransitions(v1, v1b)).toEqual([]);
      const v2 = buildClusterView([rec, shared], [], dead, opts(NOW + 2 * HOUR + 1, { maxAgeMs: () => 3 * HOUR }));
      expect(sourceTransitions(v1b, v2)).toEqual([{ source: 'condor:local@b', from: 'offline', to: 'dropped', since: NOW + 2 * HOUR, owner: 'b' }]);
      // b comes back and publishes again.
      const t3 = NOW + 3 * HOUR;
      const back = { ...rec, at: t3, seq: 2 };
      const sharedNow = { ...shared, at: t3 };
      const v3 = buildClusterView([back, sharedNow], [], [inst('b', t3, true)], opts(t3, { maxAgeMs: () => 3 * HOUR }));
      expect(sourceTransitions(v2, v3)).toEqual([{ source: 'condor:local@b', from: 'dropped', to: 'fresh', since: t3, owner: 'b' }]);
      // b is decommissioned: its source vanishes from Redis.
      const v4 = buildClusterView([sharedNow], [], [], opts(t3 + 1, { maxAgeMs: () => 3 * HOUR }));
      expect(sourceTransitions(v3, v4)).toEqual([{ source: 'condor:local@b', from: 'fresh', to: null, since: t3 + 1, owner: 'b' }]);
    });

    it('shows a decommissioned instance’s pilots leaving the sums at once', () => {
      const recs = [src('condor:local@a', 'a', NOW, { A: q(1) }), src('condor:local@b', 'b', NOW - MIN, { A: q(50) })];
      const before = buildClusterView(recs, [sub('condor:local@b', 'A', 7, NOW)], [inst('a', NOW, true), inst('b', NOW - HOUR, false)], opts());
      expect(before.queues.get('A')?.pending).toBe(58);
      const after = buildClusterView(recs.slice(0, 1), [], [inst('a', NOW, true)], opts());
      expect(after.queues.get('A')?.pending).toBe(1);
      expect(sourceTransitions(before, after).map((t) => [t.source, t.to])).toEqual([['condor:local@b', null]]);
    });
  });
});
