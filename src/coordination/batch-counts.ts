/**
 * The batch counts the cycles work from: per APF queue, the counted sources' snapshot counts summed
 * cluster-wide plus the pilots submitted since ({@link buildBatchCounts}), and from them the batch
 * input of one queue's pipeline ({@link batchViewFor}). The same numbers as the `merged`, `sources`
 * and `totals` of the full cluster view (cluster-view.ts), without its per-queue breakdown by
 * source and reusing the previous call's snapshot sums while the snapshots are unchanged.
 *
 * Also the source classification both builders share ({@link classify}). Pure: data and `now` in,
 * data out; no I/O, no clock.
 */
import type { BatchJob, BatchQueueInfo, BatchSnapshot } from '../core/info.ts';
import type { SourceView } from '../core/source-view.ts';
import type { SourceRecord } from './records.ts';
import type { ClusterTotals, ClusterView, ClusterViewOptions, InstanceLiveness, SourceStatus, SubmittedEntry } from './cluster-view.ts';

/** A source's state at `o.now` and since when (cluster-view.ts describes the four states). */
export function classify(
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

/** The status entry of one source: its record's identity, its state, and what it counts for. */
export function sourceStatus(rec: SourceRecord, st: ReturnType<typeof classify>, counted: boolean, submittedSince: number, queueCount: number): SourceStatus {
  return {
    source: rec.source,
    owner: rec.owner,
    publisher: rec.publisher,
    at: rec.at,
    seq: rec.seq,
    ...st,
    counted,
    submittedSince: counted ? submittedSince : 0,
    queueCount,
  };
}

/** All-zero counts: a queue a source holds only submitted-since pilots of. */
export const ZERO: BatchQueueInfo = Object.freeze({ pending: 0, running: 0, done: 0, failed: 0 });

/** A queue's counts; the shared {@link ZERO} when all four are 0 (idle queues share one object). */
export function countsOf(pending: number, running: number, done: number, failed: number): BatchQueueInfo {
  return pending === 0 && running === 0 && done === 0 && failed === 0 ? ZERO : { pending, running, done, failed };
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
    const info = countsOf(a.pending, a.running, a.done, a.failed);
    merged.set(q, a.recent ? { ...info, recent: { total: a.rt, short: a.rs } } : info);
    totals.pending += a.pending;
    totals.running += a.running;
    totals.done += a.done;
    totals.failed += a.failed;
  }
  return { key, merged, totals, queueCounts };
}

/**
 * The snapshot sums with the submitted-since pilots added to pending, as a read-only map that
 * does not copy the sums: a cycle reads one queue, and a refresh (every second, with thousands of
 * queues submitting) must not rebuild a map of every queue for that. The submitted-since pilots
 * come as one map per source (a few), summed when a queue is read; a queue's entry is made when
 * read; the size and iteration (status, tests) build the whole map once, sorted by queue name like
 * the sums.
 */
class MergedCounts implements ReadonlyMap<string, BatchQueueInfo> {
  readonly #base: ReadonlyMap<string, BatchQueueInfo>;
  readonly #extra: readonly ReadonlyMap<string, number>[];
  #full: ReadonlyMap<string, BatchQueueInfo> | undefined;

  constructor(base: ReadonlyMap<string, BatchQueueInfo>, extra: readonly ReadonlyMap<string, number>[]) {
    this.#base = base;
    this.#extra = extra;
  }

  get size(): number {
    return this.#all().size;
  }

  get(queue: string): BatchQueueInfo | undefined {
    let n: number | undefined;
    for (const m of this.#extra) {
      const k = m.get(queue);
      if (k !== undefined) n = (n ?? 0) + k;
    }
    const base = this.#base.get(queue);
    return n === undefined ? base : { ...(base ?? ZERO), pending: (base?.pending ?? 0) + n };
  }

  has(queue: string): boolean {
    return this.#base.has(queue) || this.#extra.some((m) => m.has(queue));
  }

  #all(): ReadonlyMap<string, BatchQueueInfo> {
    if (this.#full === undefined) {
      const names = [...this.#base.keys()];
      const added = new Set<string>();
      for (const m of this.#extra) for (const q of m.keys()) if (!this.#base.has(q)) added.add(q);
      if (added.size > 0) {
        names.push(...added);
        names.sort(byName);
      }
      this.#full = new Map(names.map((q) => [q, this.get(q) as BatchQueueInfo]));
    }
    return this.#full;
  }

  forEach(fn: (value: BatchQueueInfo, key: string, map: ReadonlyMap<string, BatchQueueInfo>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.#all()) fn.call(thisArg, v, k, this);
  }

  entries(): ReturnType<ReadonlyMap<string, BatchQueueInfo>['entries']> {
    return this.#all().entries();
  }

  keys(): ReturnType<ReadonlyMap<string, BatchQueueInfo>['keys']> {
    return this.#all().keys();
  }

  values(): ReturnType<ReadonlyMap<string, BatchQueueInfo>['values']> {
    return this.#all().values();
  }

  [Symbol.iterator](): ReturnType<ReadonlyMap<string, BatchQueueInfo>['entries']> {
    return this.#all().entries();
  }
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

  // The submitted-since entries of counted sources, on top of the snapshot sums: one map per
  // source, since entries come grouped by source (this loop runs over every entry at every read).
  const extra = new Map<string, { perQueue: Map<string, number>; total: number }>();
  let cur: { perQueue: Map<string, number>; total: number } | undefined;
  let curSource: string | undefined;
  let curAt = 0;
  for (const e of submitted) {
    if (e.source !== curSource) {
      curSource = e.source;
      const rec = bySource.get(e.source);
      if (rec === undefined || !counted(e.source)) cur = undefined;
      else {
        cur = extra.get(e.source);
        if (cur === undefined) extra.set(e.source, (cur = { perQueue: new Map(), total: 0 }));
        curAt = rec.at;
      }
    }
    if (cur === undefined || e.at <= curAt) continue;
    cur.perQueue.set(e.queue, (cur.perQueue.get(e.queue) ?? 0) + e.n);
    cur.total += e.n;
  }
  let submittedSince = 0;
  const maps: Map<string, number>[] = [];
  for (const x of extra.values()) {
    submittedSince += x.total;
    if (x.perQueue.size > 0) maps.push(x.perQueue);
  }
  const merged = maps.length === 0 ? sums.merged : new MergedCounts(sums.merged, maps);
  const statuses = new Map<string, SourceStatus>();
  for (const rec of ordered) {
    const st = states.get(rec.source) as ReturnType<typeof classify>;
    const isCounted = st.state !== 'dropped';
    statuses.set(rec.source, sourceStatus(rec, st, isCounted, extra.get(rec.source)?.total ?? 0, sums.queueCounts.get(rec.source) ?? Object.keys(rec.queues).length));
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
