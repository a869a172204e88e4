/**
 * The cluster-wide batch picture, computed from what Redis holds (pure: data and `now` in, data
 * out; no I/O, no clock).
 *
 * Every batch source (a schedd) is published by whoever polls it. A reader classifies each source
 * by the age of its snapshot and the liveness of its owner (coordination.md §3.4):
 * - `fresh`: age ≤ the source's maxage — counted;
 * - `stale`: older than maxage while its owner is alive (or for a shared schedd) — still counted
 *   (its pilots most likely still exist) and flagged;
 * - `offline`: the owner instance stopped heartbeating — its pilots outlive the process, so it is
 *   still counted for `offlineGraceMs` after the owner was last seen;
 * - `dropped`: offline (or, for a shared schedd, stale) for longer than the grace — not counted,
 *   so the live instances take up the slack.
 *
 * Pilots submitted into a source after its snapshot was taken are added to pending, so the next
 * cycle sees them before the next poll (otherwise the same demand would be answered twice).
 */
import type { BatchQueueInfo } from '../core/info.ts';
import type { SourceRecord } from './records.ts';
import { classify, sourceStatus, ZERO } from './batch-counts.ts';

export { batchViewFor, buildBatchCounts, type BatchCounts, type BatchViewForOptions, type SnapshotSums } from './batch-counts.ts';

/** How a batch source is treated by the cluster view. */
export type SourceState = 'fresh' | 'stale' | 'offline' | 'dropped';

/** Pilots submitted into a batch source by one cycle (one member of the source's submitted zset). */
export interface SubmittedEntry {
  /** The batch source the pilots were submitted into. */
  readonly source: string;
  /** APF queue. */
  readonly queue: string;
  /** The submitting cycle's id (`<queue>:<slot>:<token>`). */
  readonly cycleId: string;
  /** Number of pilots. */
  readonly n: number;
  /** Submission time (epoch ms). */
  readonly at: number;
}

/** What the view needs to know about an instance (a subset of the registry's list()). */
export interface InstanceLiveness {
  readonly id: string;
  /** Last heartbeat (epoch ms). */
  readonly heartbeatAt: number;
  /** Heartbeat age within the registry's `deadAfterMs`. */
  readonly alive: boolean;
}

/** Options of {@link buildClusterView}. */
export interface ClusterViewOptions {
  /** Decision time (epoch ms). */
  readonly now: number;
  /** How long the pilots of a silent owner (or of an unpolled shared schedd) keep being counted, ms. */
  readonly offlineGraceMs: number;
  /** Staleness limit of a source, ms (its batch status plugin's `maxage`). */
  readonly maxAgeMs: (source: SourceRecord) => number;
}

/** One source as the view sees it (what `apf status` shows and the daemon logs on transitions). */
export interface SourceStatus {
  readonly source: string;
  /** Owning instance (local schedd), or null for a shared schedd. */
  readonly owner: string | null;
  readonly publisher: string;
  /** Snapshot time (epoch ms) and sequence number. */
  readonly at: number;
  readonly seq: number;
  /** `now − at`, ms. */
  readonly ageMs: number;
  readonly maxAgeMs: number;
  readonly state: SourceState;
  /**
   * Since when the source is in `state` (epoch ms): `at` for fresh, `at + maxage` for stale, the
   * owner's last sign of life for offline, and the end of the grace for dropped.
   */
  readonly since: number;
  /** The owner's last sign of life (heartbeat, or the snapshot when newer); null for a shared schedd. */
  readonly ownerLastSeen: number | null;
  /** True when its counts enter the sums (every state but dropped). */
  readonly counted: boolean;
  /** Pilots submitted into it after its snapshot. */
  readonly submittedSince: number;
  /** Number of APF queues in its snapshot. */
  readonly queueCount: number;
}

/** One source's share of one queue. */
export interface QueueSourceShare {
  readonly source: string;
  readonly state: SourceState;
  readonly ageMs: number;
  /** The source's snapshot counts for the queue (zeros when the queue only has submitted-since pilots). */
  readonly counts: BatchQueueInfo;
  /** Pilots of the queue submitted into the source after its snapshot. */
  readonly submittedSince: number;
}

/** Cluster-wide counts of one APF queue. */
export interface ClusterQueueView {
  readonly queue: string;
  /** Snapshot pending summed over the counted sources, plus {@link ClusterQueueView.submittedSince}. */
  readonly pending: number;
  readonly running: number;
  readonly done: number;
  readonly failed: number;
  /** Pilots submitted after the snapshots of the counted sources (included in `pending`). */
  readonly submittedSince: number;
  /** Every source that holds the queue, counted or not (dropped ones say so). */
  readonly sources: readonly QueueSourceShare[];
}

/** Sums over every queue (MaxPerFactory sees the cluster total). */
export interface ClusterTotals {
  readonly pending: number;
  readonly running: number;
  readonly done: number;
  readonly failed: number;
  readonly submittedSince: number;
}

/** The cluster-wide batch picture at one moment. */
export interface ClusterView {
  /** The `now` it was computed for (epoch ms). */
  readonly now: number;
  /** Every known source by id. */
  readonly sources: ReadonlyMap<string, SourceStatus>;
  /** Per APF queue (queues that appear only in dropped sources are listed with zero counts). */
  readonly queues: ReadonlyMap<string, ClusterQueueView>;
  readonly totals: ClusterTotals;
  /**
   * Per APF queue, the counted sums as {@link BatchQueueInfo} (pending includes the submitted-since
   * pilots): the queue map of every batch snapshot {@link batchViewFor} hands out, built once.
   */
  readonly merged: ReadonlyMap<string, BatchQueueInfo>;
  /** Submitted entries of sources without a snapshot record: shown, not counted. */
  readonly unattributed: readonly SubmittedEntry[];
}

/** Mutable accumulator of one queue. */
interface QueueAcc {
  pending: number;
  running: number;
  done: number;
  failed: number;
  submittedSince: number;
  recentTotal: number;
  recentShort: number;
  hasRecent: boolean;
  readonly sources: QueueSourceShare[];
}

function acc(map: Map<string, QueueAcc>, queue: string): QueueAcc {
  let a = map.get(queue);
  if (a === undefined) {
    a = { pending: 0, running: 0, done: 0, failed: 0, submittedSince: 0, recentTotal: 0, recentShort: 0, hasRecent: false, sources: [] };
    map.set(queue, a);
  }
  return a;
}

/**
 * Classifies every source and sums the counted ones per queue and over all queues.
 *
 * @param sources - every published source (ContributionStore.readAll).
 * @param submitted - submitted entries; only those newer than their source's snapshot count.
 * @param instances - the registry's instances with their liveness.
 */
export function buildClusterView(
  sources: readonly SourceRecord[],
  submitted: readonly SubmittedEntry[],
  instances: readonly InstanceLiveness[],
  o: ClusterViewOptions,
): ClusterView {
  const alive = new Map(instances.map((i) => [i.id, i]));
  const bySource = new Map(sources.map((s) => [s.source, s]));
  const states = new Map<string, ReturnType<typeof classify>>();
  for (const s of bySource.values()) states.set(s.source, classify(s, alive, o));

  // Submitted-since per (source, queue); entries at or before the snapshot are already in it.
  const since = new Map<string, Map<string, number>>();
  const unattributed: SubmittedEntry[] = [];
  for (const e of submitted) {
    const rec = bySource.get(e.source);
    if (rec === undefined) {
      unattributed.push(e);
      continue;
    }
    if (e.at <= rec.at) continue;
    let perQueue = since.get(e.source);
    if (perQueue === undefined) since.set(e.source, (perQueue = new Map<string, number>()));
    perQueue.set(e.queue, (perQueue.get(e.queue) ?? 0) + e.n);
  }

  const queues = new Map<string, QueueAcc>();
  const statuses = new Map<string, SourceStatus>();
  for (const rec of [...bySource.values()].sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0))) {
    const st = states.get(rec.source) as ReturnType<typeof classify>;
    const counted = st.state !== 'dropped';
    const sub = since.get(rec.source) ?? new Map<string, number>();
    let submittedSince = 0;
    const names = new Set([...Object.keys(rec.queues), ...sub.keys()]);
    for (const q of names) {
      const counts = Object.hasOwn(rec.queues, q) ? (rec.queues[q] as BatchQueueInfo) : ZERO;
      const extra = sub.get(q) ?? 0;
      submittedSince += extra;
      const a = acc(queues, q);
      a.sources.push({ source: rec.source, state: st.state, ageMs: st.ageMs, counts, submittedSince: extra });
      if (!counted) continue;
      a.pending += counts.pending + extra;
      a.running += counts.running;
      a.done += counts.done;
      a.failed += counts.failed;
      a.submittedSince += extra;
      if (counts.recent !== undefined) {
        a.hasRecent = true;
        a.recentTotal += counts.recent.total;
        a.recentShort += counts.recent.short;
      }
    }
    statuses.set(rec.source, sourceStatus(rec, st, counted, submittedSince, Object.keys(rec.queues).length));
  }

  const out = new Map<string, ClusterQueueView>();
  const merged = new Map<string, BatchQueueInfo>();
  const totals = { pending: 0, running: 0, done: 0, failed: 0, submittedSince: 0 };
  for (const [q, a] of [...queues].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    out.set(q, { queue: q, pending: a.pending, running: a.running, done: a.done, failed: a.failed, submittedSince: a.submittedSince, sources: a.sources });
    const info: BatchQueueInfo = { pending: a.pending, running: a.running, done: a.done, failed: a.failed };
    // Only queues some counted source holds enter the merged map (the others read as zeros anyway).
    if (a.sources.some((s) => s.state !== 'dropped')) {
      merged.set(q, a.hasRecent ? { ...info, recent: { total: a.recentTotal, short: a.recentShort } } : info);
    }
    totals.pending += a.pending;
    totals.running += a.running;
    totals.done += a.done;
    totals.failed += a.failed;
    totals.submittedSince += a.submittedSince;
  }
  return { now: o.now, sources: statuses, queues: out, totals, merged, unattributed };
}

/** A change of a source's state between two views. */
export interface SourceTransition {
  readonly source: string;
  /** Previous state; null when the source is new. */
  readonly from: SourceState | null;
  /** New state; null when the source vanished (decommissioned). */
  readonly to: SourceState | null;
  /** Since when the new state holds (epoch ms); for a vanished source, the time of the view that misses it. */
  readonly since: number;
  readonly owner: string | null;
}

/**
 * The state changes between the previous view (null at start) and the next one, sorted by source,
 * so the daemon logs each transition (→ offline, → dropped, back to fresh…) exactly once.
 */
export function sourceTransitions(prev: Pick<ClusterView, 'sources'> | null, next: Pick<ClusterView, 'sources' | 'now'>): SourceTransition[] {
  const out: SourceTransition[] = [];
  for (const s of next.sources.values()) {
    const before = prev?.sources.get(s.source);
    if (before?.state !== s.state) out.push({ source: s.source, from: before?.state ?? null, to: s.state, since: s.since, owner: s.owner });
  }
  if (prev !== null) {
    for (const s of prev.sources.values()) {
      if (!next.sources.has(s.source)) out.push({ source: s.source, from: s.state, to: null, since: next.now, owner: s.owner });
    }
  }
  return out.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0));
}
