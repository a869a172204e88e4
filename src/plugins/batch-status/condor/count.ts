/**
 * Turning parsed condor_q / condor_history ads into the batch snapshot of APF queues: per-queue
 * counts through `CONDORBATCHSTATUS-JOBSTATUS2INFO`, the pilots still in the queue (for retire),
 * the last hour's done/failed from history, and Throttle's recent-pilot window.
 */
import { ApfError } from '../../../errors.ts';
import type { BatchJob, BatchQueueInfo, RecentPilots } from '../../../core/info.ts';
import type { JobAd, ParsedValue } from './classad.ts';

/** Attributes asked of condor_q (`-attributes`), in the spelling the counting code reads. */
export const QUEUE_ATTRIBUTES = [
  'ClusterId',
  'ProcId',
  'JobStatus',
  'MATCH_APF_QUEUE',
  'QDate',
  'EnteredCurrentStatus',
  'APF_FACTORY',
] as const;

/** Attributes asked of condor_history. */
export const HISTORY_ATTRIBUTES = [
  'ClusterId',
  'ProcId',
  'JobStatus',
  'MATCH_APF_QUEUE',
  'ExitCode',
  'EnteredCurrentStatus',
  'JobStartDate',
  'RemoteWallClockTime',
] as const;

/** Throttle's window for one queue (`sched.throttle.interval` / `.maxtime`), in seconds. */
export interface ThrottleWindow {
  /** Pilots started within this many seconds count. @defaultValue 3600 */
  readonly interval: number;
  /** A pilot whose wall-clock time is below this many seconds is short. @defaultValue 10 */
  readonly maxtime: number;
}

/** Throttle's defaults (APF 2.4.7+). */
export const DEFAULT_THROTTLE: ThrottleWindow = Object.freeze({ interval: 3600, maxtime: 10 });

/** Finished pilots count as done/failed for this long after they entered their final status (s). */
export const FINISHED_WINDOW_S = 3600;

/** What {@link countPilots} needs. */
export interface CountInput {
  /** condor_q ads (projected on {@link QUEUE_ATTRIBUTES}). */
  readonly queueAds: readonly JobAd[];
  /** condor_history ads (projected on {@link HISTORY_ATTRIBUTES}); undefined when history is off. */
  readonly historyAds: readonly JobAd[] | undefined;
  /** JobStatus (as text) → APF state: `pending`, `running`, `done` or `failed`. */
  readonly mapping: ReadonlyMap<string, string>;
  /** Current time, epoch seconds. */
  readonly nowS: number;
  /** The configured queues of this source with their Throttle window (others use the default). */
  readonly configured: ReadonlyMap<string, ThrottleWindow>;
}

/** What {@link countPilots} produced. */
export interface CountResult {
  /** Per APF queue: configured queues always, other queues when they have pilots or history. */
  readonly queues: Map<string, BatchQueueInfo>;
  /** Per APF queue, the pilots in condor_q (any status), in output order. */
  readonly jobs: Map<string, BatchJob[]>;
  /** JobStatus values the mapping does not place (ignored with a warning, as in APF): status → jobs. */
  readonly unmapped: Map<string, number>;
}

interface Tally {
  pending: number;
  running: number;
  done: number;
  failed: number;
  recentTotal: number;
  recentShort: number;
}

/**
 * Counts the pilots. Every configured queue gets an entry (zeros when it has no pilots); a queue
 * seen on the schedd but not configured is still counted under its MATCH_APF_QUEUE name.
 * @throws ApfError `APF_ERR_BATCH_OUTPUT` when an ad lacks the queue name, status or id.
 */
export function countPilots(input: CountInput): CountResult {
  const tallies = new Map<string, Tally>();
  const jobs = new Map<string, BatchJob[]>();
  const unmapped = new Map<string, number>();
  const tally = (q: string): Tally => {
    let t = tallies.get(q);
    if (t === undefined) {
      t = { pending: 0, running: 0, done: 0, failed: 0, recentTotal: 0, recentShort: 0 };
      tallies.set(q, t);
    }
    return t;
  };
  for (const q of input.configured.keys()) {
    tally(q);
    jobs.set(q, []);
  }

  // Per-job work is kept small: 100k pilots are counted on every fetch. Statuses are mapped once
  // per distinct value, and the pilots of a cluster (consecutive, same queue) reuse one lookup.
  const stateOf = new Map<number, string | undefined>();
  let lastQueue: string | undefined;
  let lastTally: Tally | undefined;
  let lastJobs: BatchJob[] | undefined;
  for (const ad of input.queueAds) {
    const queue = str(ad, 'MATCH_APF_QUEUE', 'condor_q');
    const status = int(ad, 'JobStatus', 'condor_q');
    const id = `${int(ad, 'ClusterId', 'condor_q')}.${int(ad, 'ProcId', 'condor_q')}`;
    const qdate = ad['QDate'];
    if (queue !== lastQueue || lastTally === undefined || lastJobs === undefined) {
      lastQueue = queue;
      lastTally = tally(queue);
      lastJobs = jobs.get(queue);
      if (lastJobs === undefined) jobs.set(queue, (lastJobs = []));
    }
    let state = stateOf.get(status);
    if (state === undefined && !stateOf.has(status)) {
      state = input.mapping.get(String(status));
      stateOf.set(status, state);
    }
    if (state === 'pending' || state === 'running' || state === 'done' || state === 'failed') lastTally[state]++;
    else unmapped.set(String(status), (unmapped.get(String(status)) ?? 0) + 1);
    lastJobs.push({ id, queue, jobStatus: status, qdate: typeof qdate === 'number' ? qdate : 0 });
  }

  if (input.historyAds !== undefined) {
    for (const ad of input.historyAds) {
      const queue = str(ad, 'MATCH_APF_QUEUE', 'condor_history');
      const status = int(ad, 'JobStatus', 'condor_history');
      const t = tally(queue);
      const entered = num(ad['EnteredCurrentStatus']);
      if (entered !== undefined && entered > input.nowS - FINISHED_WINDOW_S) {
        const exit = ad['ExitCode'];
        const cleanExit = exit === undefined || exit === null || exit === 0;
        if (status === 3 || (status === 4 && !cleanExit)) t.failed++;
        else if (status === 4) t.done++;
      }
      const window = input.configured.get(queue) ?? DEFAULT_THROTTLE;
      const started = num(ad['JobStartDate']);
      if (started !== undefined && started > input.nowS - window.interval) {
        t.recentTotal++;
        // A started pilot without a wall-clock time is counted short: the cautious reading.
        if ((num(ad['RemoteWallClockTime']) ?? 0) < window.maxtime) t.recentShort++;
      }
    }
  }

  const queues = new Map<string, BatchQueueInfo>();
  for (const [q, t] of tallies) {
    const recent: RecentPilots | undefined =
      input.historyAds === undefined ? undefined : { total: t.recentTotal, short: t.recentShort };
    queues.set(q, {
      pending: t.pending,
      running: t.running,
      done: t.done,
      failed: t.failed,
      ...(recent === undefined ? {} : { recent }),
    });
  }
  return { queues, jobs, unmapped };
}

function num(v: ParsedValue | undefined): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function str(ad: JobAd, name: string, tool: string): string {
  const v = ad[name];
  if (typeof v === 'string' && v !== '') return v;
  throw badAd(ad, name, tool);
}

function int(ad: JobAd, name: string, tool: string): number {
  const v = ad[name];
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  throw badAd(ad, name, tool);
}

function badAd(ad: JobAd, name: string, tool: string): ApfError {
  const id = `${JSON.stringify(ad['ClusterId'] ?? null)}.${JSON.stringify(ad['ProcId'] ?? null)}`;
  return new ApfError('APF_ERR_BATCH_OUTPUT', `${tool}: job ${id} has no usable ${name}`, {
    details: { tool, attribute: name, value: JSON.stringify(ad[name] ?? null) },
  });
}
