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
import type { BatchJob, BatchQueueInfo, BatchSnapshot } from '../core/info.ts';
import type { SourceView } from '../core/source-view.ts';
import type { SourceRecord } from './records.ts';

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

function classify(
  rec: SourceRecord,
  alive: ReadonlyMap<string, InstanceLiveness>,
  o: ClusterViewOptions,
): Pick<SourceStatus, 'ageMs' | 'maxAgeMs' | 'state' | 'since' | 'ownerLastSeen'> {
  const ageMs = o.now - rec.at;
  const maxAgeMs = o.maxAgeMs(rec);
  if (rec.owner === null) {
    // A shared schedd has no owner to watch: it is stale once past maxage, and dropped once it
    // has been stale for the grace (nobody polls it any more, so nobody submits into it either).
    if (ageMs <= maxAgeMs) return { ageMs, maxAgeMs, state: 'fresh', since: rec.at, ownerLastSeen: null };
    const dropAt = rec.at + maxAgeMs + o.offlineGraceMs;
    if (o.now > dropAt) return { ageMs, maxAgeMs, state: 'dropped', since: dropAt, ownerLastSeen: null };
    return { ageMs, maxAgeMs, state: 'stale', since: rec.at + maxAgeMs, ownerLastSeen: null };
  }
  const inst = alive.get(rec.owner);
  // Publishing proves the owner was alive at `at`, so a snapshot newer than the last heartbeat
  // (or an owner missing from the registry) still tells when it was last seen.
  const ownerLastSeen = Math.max(inst?.heartbeatAt ?? rec.at, rec.at);
  if (inst?.alive === true) {
    if (ageMs <= maxAgeMs) return { ageMs, maxAgeMs, state: 'fresh', since: rec.at, ownerLastSeen };
    return { ageMs, maxAgeMs, state: 'stale', since: rec.at + maxAgeMs, ownerLastSeen };
  }
  const dropAt = ownerLastSeen + o.offlineGraceMs;
  if (o.now > dropAt) return { ageMs, maxAgeMs, state: 'dropped', since: dropAt, ownerLastSeen };
  return { ageMs, maxAgeMs, state: 'offline', since: ownerLastSeen, ownerLastSeen };
}

function acc(map: Map<string, QueueAcc>, queue: string): QueueAcc {
  let a = map.get(queue);
  if (a === undefined) {
    a = { pending: 0, running: 0, done: 0, failed: 0, submittedSince: 0, recentTotal: 0, recentShort: 0, hasRecent: false, sources: [] };
    map.set(queue, a);
  }
  return a;
}

const ZERO: BatchQueueInfo = Object.freeze({ pending: 0, running: 0, done: 0, failed: 0 });

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
    statuses.set(rec.source, {
      source: rec.source,
      owner: rec.owner,
      publisher: rec.publisher,
      at: rec.at,
      seq: rec.seq,
      ...st,
      counted,
      submittedSince: counted ? submittedSince : 0,
      queueCount: Object.keys(rec.queues).length,
    });
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

/** The part of a {@link ClusterView} the cycles work from ({@link batchViewFor}): no per-queue breakdown by source. */
export type BatchCounts = Pick<ClusterView, 'now' | 'sources' | 'merged' | 'totals'>;

/**
 * The sums of the counted sources' snapshots alone, kept from one {@link buildBatchCounts} call
 * to the next: reused as long as every source still has the same snapshot (`at`, `seq`) and the
 * same counted state, so a read of the cluster costs what changed since the last one (the
 * submitted entries), not every queue of every source.
 */
export interface SnapshotSums {
  /** Identity of the inputs: each source's id, `at`, `seq` and whether it is counted. */
  readonly key: string;
  /** Per queue held by a counted snapshot, sorted by queue name: the counts summed over those snapshots. */
  readonly merged: ReadonlyMap<string, BatchQueueInfo>;
  readonly totals: { readonly pending: number; readonly running: number; readonly done: number; readonly failed: number };
  /** Number of queues in each source's snapshot. */
  readonly queueCounts: ReadonlyMap<string, number>;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function snapshotSums(ordered: readonly SourceRecord[], counted: (source: string) => boolean, key: string): SnapshotSums {
  const accs = new Map<string, { pending: number; running: number; done: number; failed: number; rt: number; rs: number; recent: boolean }>();
  const queueCounts = new Map<string, number>();
  for (const rec of ordered) {
    const names = Object.keys(rec.queues);
    queueCounts.set(rec.source, names.length);
    if (!counted(rec.source)) continue;
    for (const q of names) {
      const c = rec.queues[q] as BatchQueueInfo;
      let a = accs.get(q);
      if (a === undefined) accs.set(q, (a = { pending: 0, running: 0, done: 0, failed: 0, rt: 0, rs: 0, recent: false }));
      a.pending += c.pending;
      a.running += c.running;
      a.done += c.done;
      a.failed += c.failed;
      if (c.recent !== undefined) {
        a.recent = true;
        a.rt += c.recent.total;
        a.rs += c.recent.short;
      }
    }
  }
  const merged = new Map<string, BatchQueueInfo>();
  const totals = { pending: 0, running: 0, done: 0, failed: 0 };
  for (const q of [...accs.keys()].sort(byName)) {
    const a = accs.get(q) as NonNullable<ReturnType<typeof accs.get>>;
    const info: BatchQueueInfo = { pending: a.pending, running: a.running, done: a.done, failed: a.failed };
    merged.set(q, a.recent ? { ...info, recent: { total: a.rt, short: a.rs } } : info);
    totals.pending += a.pending;
    totals.running += a.running;
    totals.done += a.done;
    totals.failed += a.failed;
  }
  return { key, merged, totals, queueCounts };
}

/**
 * What {@link buildClusterView} computes for the cycles — `sources`, `merged` and `totals`, equal
 * to its — without the per-queue breakdown by source, and reusing the snapshot sums of the
 * previous call (`prev`) when the snapshots and their counted states are unchanged: then only the
 * submitted entries are gone through, not every queue of every source.
 *
 * Snapshots are identified by source, `at` and `seq` (every publish changes both; records read by
 * ContributionStore.readAll qualify): two records with the same three must have the same counts.
 */
export function buildBatchCounts(
  sources: readonly SourceRecord[],
  submitted: readonly SubmittedEntry[],
  instances: readonly InstanceLiveness[],
  o: ClusterViewOptions,
  prev?: SnapshotSums,
): { counts: BatchCounts; sums: SnapshotSums } {
  const alive = new Map(instances.map((i) => [i.id, i]));
  const bySource = new Map(sources.map((s) => [s.source, s]));
  const ordered = [...bySource.values()].sort((a, b) => byName(a.source, b.source));
  const states = new Map(ordered.map((rec) => [rec.source, classify(rec, alive, o)]));
  const counted = (source: string): boolean => states.get(source)?.state !== 'dropped';
  const key = ordered.map((r) => `${r.source}\t${r.at}\t${r.seq}\t${counted(r.source) ? 1 : 0}`).join('\n');
  const sums = prev?.key === key ? prev : snapshotSums(ordered, counted, key);

  // The submitted-since entries of counted sources, on top of the snapshot sums.
  const extra = new Map<string, number>();
  const perSource = new Map<string, number>();
  for (const e of submitted) {
    const rec = bySource.get(e.source);
    if (rec === undefined || e.at <= rec.at || !counted(e.source)) continue;
    extra.set(e.queue, (extra.get(e.queue) ?? 0) + e.n);
    perSource.set(e.source, (perSource.get(e.source) ?? 0) + e.n);
  }
  let merged: Map<string, BatchQueueInfo> | ReadonlyMap<string, BatchQueueInfo> = sums.merged;
  let submittedSince = 0;
  if (extra.size > 0) {
    const m = new Map(sums.merged);
    let added = false;
    for (const [q, n] of extra) {
      submittedSince += n;
      const base = m.get(q);
      if (base === undefined) added = true;
      m.set(q, { ...(base ?? ZERO), pending: (base?.pending ?? 0) + n });
    }
    merged = added ? new Map([...m].sort(([x], [y]) => byName(x, y))) : m;
  }
  const statuses = new Map<string, SourceStatus>();
  for (const rec of ordered) {
    const st = states.get(rec.source) as ReturnType<typeof classify>;
    const isCounted = st.state !== 'dropped';
    statuses.set(rec.source, {
      source: rec.source,
      owner: rec.owner,
      publisher: rec.publisher,
      at: rec.at,
      seq: rec.seq,
      ...st,
      counted: isCounted,
      submittedSince: isCounted ? (perSource.get(rec.source) ?? 0) : 0,
      queueCount: sums.queueCounts.get(rec.source) ?? Object.keys(rec.queues).length,
    });
  }
  const totals: ClusterTotals = { ...sums.totals, pending: sums.totals.pending + submittedSince, submittedSince };
  return { counts: { now: o.now, sources: statuses, merged, totals }, sums };
}

/** Options of {@link batchViewFor}. */
export interface BatchViewForOptions {
  /**
   * The pilots of this instance's own polls, per queue (only the local poll sees job ids, and a
   * retire can only remove pilots it can see). @defaultValue none: retire finds no pilots
   */
  readonly jobs?: ReadonlyMap<string, readonly BatchJob[]>;
}

const NO_JOBS: ReadonlyMap<string, readonly BatchJob[]> = new Map();

/**
 * The pipeline's batch input for one queue in a cluster.
 *
 * Fails closed: unavailable when the queue has no batch source to submit into (`ownSource` null),
 * when that source was never published, or when its snapshot is older than its maxage (or
 * dropped). Otherwise available with the merged cluster-wide counts of every counted source —
 * the submitted-since pilots already added to pending, so the pipeline must NOT also be given a
 * `BatchAdjust` (src/core/pipeline.ts) — and `at` = the own source's snapshot time, so the gate
 * judges the queue by its own target's age.
 *
 * The returned snapshot shares the view's merged map: build the view once per round, not per queue.
 */
export function batchViewFor(view: BatchCounts, queue: string, ownSource: string | null, opts: BatchViewForOptions = {}): SourceView<BatchSnapshot> {
  if (ownSource === null) return { available: false, key: 'cluster', reason: `queue ${queue} has no batch source to submit into` };
  const own = view.sources.get(ownSource);
  if (own === undefined) return { available: false, key: ownSource, reason: `no snapshot of this batch source has been published (queue ${queue})` };
  if (own.state === 'dropped' || own.ageMs > own.maxAgeMs) {
    return {
      available: false,
      key: ownSource,
      reason: `${own.state}: its snapshot is ${Math.round(own.ageMs / 1000)} s old (maxage ${Math.round(own.maxAgeMs / 1000)} s)`,
    };
  }
  return {
    available: true,
    key: ownSource,
    maxAgeMs: own.maxAgeMs,
    snapshot: {
      at: own.at,
      queues: view.merged,
      jobs: opts.jobs ?? NO_JOBS,
      total: { pending: view.totals.pending, running: view.totals.running },
    },
  };
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
