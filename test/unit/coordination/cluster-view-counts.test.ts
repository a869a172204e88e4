import { describe, expect, it } from 'vitest';
import {
  batchViewFor,
  buildBatchCounts,
  buildClusterView,
  type BatchCounts,
  type ClusterViewOptions,
  type InstanceLiveness,
  type SubmittedEntry,
} from '../../../src/coordination/cluster-view.ts';
import type { SourceRecord } from '../../../src/coordination/records.ts';
import type { BatchQueueInfo } from '../../../src/core/info.ts';
import { rng } from '../../helpers/rng.ts';

const NOW = 1_800_000_000_000;
const MIN = 60_000;
const HOUR = 60 * MIN;
const opts = (now = NOW): ClusterViewOptions => ({ now, offlineGraceMs: 2 * HOUR, maxAgeMs: () => 5 * MIN });


interface Case {
  sources: SourceRecord[];
  submitted: SubmittedEntry[];
  instances: InstanceLiveness[];
}

/**
 * A random cluster: shared and local sources (fresh, stale, offline, dropped), queues held by
 * several sources, some with Throttle's `recent`, submitted entries before and after their
 * snapshot, for queues absent from it, and for sources nobody published.
 */
function randomCase(seed: number): Case {
  const r = rng(seed);
  const int = (n: number): number => Math.floor(r() * n);
  const queueNames = Array.from({ length: 12 }, (_, i) => `Q${i}`);
  const instances: InstanceLiveness[] = ['a', 'b', 'c'].map((id) => {
    const alive = r() < 0.6;
    return { id, alive, heartbeatAt: alive ? NOW - int(20_000) : NOW - int(3 * HOUR) };
  });
  const sources: SourceRecord[] = [];
  for (let s = 0; s < 1 + int(5); s++) {
    const owner = r() < 0.5 ? null : (['a', 'b', 'c', 'gone'][int(4)] as string);
    const source = owner === null ? `condor:s${s}:pool` : `condor:local@${owner}`;
    const queues: Record<string, BatchQueueInfo> = {};
    for (const q of queueNames) {
      if (r() < 0.5) continue;
      const info = { pending: int(9), running: int(30), done: int(4), failed: int(3) };
      queues[q] = r() < 0.3 ? { ...info, recent: { total: int(10), short: int(3) } } : info;
    }
    const ages = [int(4 * MIN), 5 * MIN + int(HOUR), 3 * HOUR + int(HOUR)];
    sources.push({ source, owner, publisher: owner ?? 'a', at: NOW - (ages[int(3)] as number), seq: 1 + int(50), queues });
  }
  const ids = [...sources.map((s) => s.source), 'condor:never:published'];
  const submitted: SubmittedEntry[] = [];
  for (let i = 0; i < int(25); i++) {
    const source = ids[int(ids.length)] as string;
    const at = (sources.find((s) => s.source === source)?.at ?? NOW - HOUR) + int(2 * MIN) - MIN;
    const queue = r() < 0.8 ? (queueNames[int(12)] as string) : `ONLY_SUBMITTED_${int(3)}`;
    submitted.push({ source, queue, cycleId: `${queue}:${at}:${i}`, n: 1 + int(5), at });
  }
  return { sources, submitted, instances };
}

/**
 * The counts with `merged` read through its map interface: get/has/size for every queue (what a
 * cycle uses), then copied into a plain Map by iterating it (what status and these comparisons use).
 */
function plain(counts: BatchCounts, want: ReadonlyMap<string, BatchQueueInfo>): BatchCounts {
  for (const [q, info] of want) {
    expect(counts.merged.get(q), q).toEqual(info);
    expect(counts.merged.has(q), q).toBe(true);
  }
  expect(counts.merged.get('NO_SUCH_QUEUE')).toBeUndefined();
  expect(counts.merged.has('NO_SUCH_QUEUE')).toBe(false);
  expect(counts.merged.size).toBe(want.size);
  return { ...counts, merged: new Map(counts.merged) };
}

/** What buildBatchCounts must equal: buildClusterView's own answers for the cycles. */
function expected(c: Case, o: ClusterViewOptions) {
  const v = buildClusterView(c.sources, c.submitted, c.instances, o);
  return { now: v.now, sources: v.sources, merged: v.merged, totals: v.totals };
}

describe('coordination/cluster-view', () => {
  describe('buildBatchCounts', () => {
    it('equals buildClusterView’s sources, merged counts (in order) and totals on 300 random clusters', () => {
      for (let seed = 1; seed <= 300; seed++) {
        const c = randomCase(seed);
        const { counts } = buildBatchCounts(c.sources, c.submitted, c.instances, opts());
        const want = expected(c, opts());
        expect(plain(counts, want.merged), `seed ${seed}`).toEqual(want);
        expect([...counts.merged.keys()], `seed ${seed}`).toEqual([...want.merged.keys()]);
        expect([...counts.sources.keys()], `seed ${seed}`).toEqual([...want.sources.keys()]);
      }
    });

    it('reuses the snapshot sums while the snapshots and their counted states stay the same', () => {
      const c = randomCase(7);
      const first = buildBatchCounts(c.sources, [], c.instances, opts());
      // new submissions and a later time that changes no source's counted state: same sums object
      const more: SubmittedEntry[] = c.sources.map((s, i) => ({ source: s.source, queue: 'Q1', cycleId: `Q1:${i}`, n: 2, at: s.at + 1 }));
      const second = buildBatchCounts(c.sources, more, c.instances, opts(NOW + 1000), first.sums);
      expect(second.sums).toBe(first.sums);
      const want2 = expected({ ...c, submitted: more }, opts(NOW + 1000));
      expect(plain(second.counts, want2.merged)).toEqual(want2);
      // a republished source (new seq) is summed again
      const republished = c.sources.map((s, i) => (i === 0 ? { ...s, seq: s.seq + 1, at: s.at + 1, queues: { Q1: { pending: 100, running: 0, done: 0, failed: 0 } } } : s));
      const third = buildBatchCounts(republished, more, c.instances, opts(NOW + 1000), first.sums);
      expect(third.sums).not.toBe(first.sums);
      const want3 = expected({ ...c, sources: republished, submitted: more }, opts(NOW + 1000));
      expect(plain(third.counts, want3.merged)).toEqual(want3);
    });

    it('sums again when a source stops being counted (its owner offline past the grace)', () => {
      const rec: SourceRecord = { source: 'condor:local@b', owner: 'b', publisher: 'b', at: NOW - MIN, seq: 3, queues: { A: { pending: 4, running: 1, done: 0, failed: 0 } } };
      const dead: InstanceLiveness[] = [{ id: 'b', alive: false, heartbeatAt: NOW - MIN }];
      const before = buildBatchCounts([rec], [], dead, opts());
      expect(before.counts.merged.get('A')).toEqual({ pending: 4, running: 1, done: 0, failed: 0 });
      const later = opts(NOW + 2 * HOUR + 1);
      const after = buildBatchCounts([rec], [], dead, later, before.sums);
      expect(after.sums).not.toBe(before.sums);
      expect(after.counts.merged.size).toBe(0);
      expect(after.counts).toEqual(expected({ sources: [rec], submitted: [], instances: dead }, later));
    });

    it('shares one frozen zero among the idle queues of the sums', () => {
      const z = { pending: 0, running: 0, done: 0, failed: 0 };
      const recs: SourceRecord[] = [
        { source: 'condor:s1:pool', owner: null, publisher: 'a', at: NOW - MIN, seq: 1, queues: { A: z, B: z, C: { ...z, running: 1 } } },
        { source: 'condor:s2:pool', owner: null, publisher: 'a', at: NOW - MIN, seq: 1, queues: { B: { ...z }, C: { ...z }, D: { ...z, recent: { total: 0, short: 0 } } } },
      ];
      const { counts } = buildBatchCounts(recs, [], [], opts());
      expect(counts.merged.get('A')).toBe(counts.merged.get('B'));
      expect(Object.isFrozen(counts.merged.get('A'))).toBe(true);
      expect(counts.merged.get('C')).toEqual({ ...z, running: 1 });
      expect(counts.merged.get('D')).toEqual({ ...z, recent: { total: 0, short: 0 } });
      expect(plain(counts, expected({ sources: recs, submitted: [], instances: [] }, opts()).merged).merged.size).toBe(4);
    });

    it('feeds batchViewFor exactly as a full view does', () => {
      const c = randomCase(42);
      const own = c.sources[0]?.source ?? null;
      const full = buildClusterView(c.sources, c.submitted, c.instances, opts());
      const { counts } = buildBatchCounts(c.sources, c.submitted, c.instances, opts());
      expect(batchViewFor(counts, 'Q3', own)).toEqual(batchViewFor(full, 'Q3', own));
      expect(batchViewFor(counts, 'Q3', 'condor:unknown')).toEqual(batchViewFor(full, 'Q3', 'condor:unknown'));
    });
  });
});
