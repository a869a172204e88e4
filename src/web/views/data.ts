/**
 * What the monitor's pages show, read from Redis with the same stores the daemon writes through
 * (collectStatus for instances/queues/sources, QueueState for cycle records, the contribution
 * store for per-queue source shares). Reads only; a page load never writes.
 */
import { ApfError, describeError } from '../../errors.ts';
import type { ApfConfig, QueueConfig } from '../../config/types.ts';
import { buildClusterView, type QueueSourceShare } from '../../coordination/cluster-view.ts';
import { ContributionStore } from '../../coordination/contributions.ts';
import { adminActions, type AdminAction } from '../../coordination/control.ts';
import { InstanceRegistry } from '../../coordination/instances.ts';
import { QueueState } from '../../coordination/queue-state.ts';
import type { CycleRecord } from '../../coordination/records.ts';
import { collectStatus, type InstanceStatus, type QueueStatus, type StatusReport } from '../../core/status.ts';
import type { WebDeps } from '../deps.ts';
import { ACTIVITY_WINDOW_MS, activityBuckets, createdSince, recordsForWindow } from './activity.ts';
import { HOUR_MS, queueRow, type QueueRow } from './queue-columns.ts';

/** apfmon's "recently": pilots created in the last 5 minutes. */
export const RECENTLY_MS = 5 * 60_000;

function queueState(deps: WebDeps, config: ApfConfig): QueueState {
  return new QueueState(deps.redis, deps.keys, { history: config.factory.cluster.history }, deps.now);
}

/**
 * The records of each queue that ended within `windowMs` before `now`, newest first. A queue whose
 * history cannot be read (a corrupt entry) shows none rather than failing the page.
 */
export async function recentRecords(state: QueueState, config: ApfConfig, windowMs: number, now: number): Promise<Map<string, CycleRecord[]>> {
  const kept = config.factory.cluster.history;
  const queues = [...config.queues.values()];
  const lists = await Promise.all(
    queues.map((q) =>
      state.history(q.name, recordsForWindow(q.sleep, windowMs, kept)).then(
        (rs) => rs.filter((r) => r.at >= now - windowMs),
        () => [] as CycleRecord[],
      ),
    ),
  );
  return new Map(queues.map((q, i) => [q.name, lists[i] ?? []]));
}

/** The cluster queue table. */
export interface QueueTableData {
  readonly status: StatusReport;
  /** One row per configured queue, in config order. */
  readonly rows: readonly QueueRow[];
}

/** Reads the cluster queue table (status plus the last hour of cycle records). */
export async function loadQueueTable(deps: WebDeps): Promise<QueueTableData> {
  const config = deps.config();
  const now = deps.now();
  const state = queueState(deps, config);
  const names = [...config.queues.keys()];
  const [status, last, recent] = await Promise.all([
    collectStatus(deps.redis, deps.keys, config, now),
    state.lastMany(names),
    recentRecords(state, config, HOUR_MS, now),
  ]);
  const rows = status.queues.map((q) => queueRow(q, recent.get(q.name) ?? [], last.get(q.name) ?? null, now));
  return { status, rows };
}

/** One instance on the global page. */
export interface InstanceActivity {
  readonly instance: InstanceStatus;
  /** Pilots created per 5-minute bucket over the last 2 h, oldest first. */
  readonly activity: readonly number[];
  /** Pilots created in the last 5 minutes. */
  readonly recently: number;
  /** Cycles it ran in the last 2 h. */
  readonly cycles: number;
}

/** The global page. */
export interface OverviewData {
  readonly status: StatusReport;
  readonly instances: readonly InstanceActivity[];
  /** The whole cluster's activity. */
  readonly activity: readonly number[];
  /** The latest admin actions, newest first. */
  readonly adminLog: readonly AdminAction[];
}

function byInstance(records: Iterable<CycleRecord>): Map<string, CycleRecord[]> {
  const out = new Map<string, CycleRecord[]>();
  for (const r of records) {
    let l = out.get(r.instance);
    if (l === undefined) out.set(r.instance, (l = []));
    l.push(r);
  }
  return out;
}

function activityOf(instance: InstanceStatus, records: readonly CycleRecord[], now: number): InstanceActivity {
  return { instance, activity: activityBuckets(records, now), recently: createdSince(records, now - RECENTLY_MS), cycles: records.length };
}

/** Reads the global page: every instance with its activity from the queues' cycle histories. */
export async function loadOverview(deps: WebDeps): Promise<OverviewData> {
  const config = deps.config();
  const now = deps.now();
  const [status, recent, adminLog] = await Promise.all([
    collectStatus(deps.redis, deps.keys, config, now),
    recentRecords(queueState(deps, config), config, ACTIVITY_WINDOW_MS, now),
    adminActions(deps.redis, deps.keys, 10),
  ]);
  const all = [...recent.values()].flat();
  const mine = byInstance(all);
  return {
    status,
    instances: status.instances.map((i) => activityOf(i, mine.get(i.id) ?? [], now)),
    activity: activityBuckets(all, now),
    adminLog,
  };
}

/** The factory / instance page. */
export interface InstanceData {
  readonly status: StatusReport;
  readonly entry: InstanceActivity;
  /** Queues whose last cycle ran on it. */
  readonly queues: readonly QueueRow[];
}

/** Reads one instance's page; null when no such instance is registered. */
export async function loadInstance(deps: WebDeps, id: string): Promise<InstanceData | null> {
  const config = deps.config();
  const now = deps.now();
  const state = queueState(deps, config);
  const names = [...config.queues.keys()];
  const [status, recent, last] = await Promise.all([
    collectStatus(deps.redis, deps.keys, config, now),
    recentRecords(state, config, ACTIVITY_WINDOW_MS, now),
    state.lastMany(names),
  ]);
  const instance = status.instances.find((i) => i.id === id);
  if (instance === undefined) return null;
  const records = [...recent.values()].flat().filter((r) => r.instance === id);
  const queues = status.queues
    .filter((q) => last.get(q.name)?.instance === id)
    .map((q) => queueRow(q, (recent.get(q.name) ?? []).filter((r) => r.at >= now - HOUR_MS), last.get(q.name) ?? null, now));
  return { status, entry: activityOf(instance, records, now), queues };
}

/** The queue page. */
export interface QueueDetail {
  readonly queue: QueueConfig;
  readonly status: QueueStatus;
  readonly row: QueueRow;
  /** Stored cycle records, newest first. */
  readonly history: readonly CycleRecord[];
  /** The queue's share of every batch source that holds it (state, age, counts). */
  readonly sources: readonly QueueSourceShare[];
  /** Cycle counters (`cycles`, `submitted`, skips, `fenced`). */
  readonly stats: Readonly<Record<string, number>>;
  /** Who paused it and when (when paused). */
  readonly pausedBy: string | null;
  readonly pausedAt: number | null;
  readonly instances: readonly InstanceStatus[];
}

/** Reads one queue's page; null when the configuration has no such queue. */
export async function loadQueueDetail(deps: WebDeps, name: string): Promise<QueueDetail | null> {
  const config = deps.config();
  const queue = config.queues.get(name);
  if (queue === undefined) return null;
  const now = deps.now();
  const c = config.factory.cluster;
  const state = queueState(deps, config);
  const [status, history, contributions, instances, stats, pause] = await Promise.all([
    collectStatus(deps.redis, deps.keys, config, now),
    state.history(name).catch(() => [] as CycleRecord[]),
    new ContributionStore(deps.redis, deps.keys).readAll(),
    new InstanceRegistry(deps.redis, deps.keys, { deadAfterMs: c.deadAfterMs }, () => now).list(),
    state.stats(name),
    deps.redis.hmget(deps.keys.queueState(name), 'pausedBy', 'pausedAt').catch((err: unknown) => {
      throw new ApfError('APF_ERR_REDIS', `queue ${name}: read pause details: ${describeError(err)}`, { cause: err });
    }),
  ]);
  const qs = status.queues.find((q) => q.name === name) as QueueStatus;
  // The same staleness limit collectStatus applies: the largest configured batch maxage.
  const maxAges = [...config.queues.values()].map((q) => q.batchstatus.options['maxage']).filter((m): m is number => typeof m === 'number');
  const view = buildClusterView(contributions.sources, contributions.submitted, instances, {
    now,
    offlineGraceMs: c.offlineGraceMs,
    maxAgeMs: () => Math.max(360_000, ...maxAges.map((m) => m * 1000)),
  });
  const [pausedBy, pausedAt] = pause;
  return {
    queue,
    status: qs,
    row: queueRow(qs, history, history[0] ?? null, now),
    history,
    sources: view.queues.get(name)?.sources ?? [],
    stats,
    pausedBy: qs.paused ? (pausedBy ?? null) : null,
    pausedAt: qs.paused && pausedAt !== null && pausedAt !== undefined ? Number(pausedAt) : null,
    instances: status.instances,
  };
}
