/**
 * The information model shared by status plugins, the sched chain and snapshots (APF §1.8).
 * All values are plain immutable data so that they can be stored in Redis, written to snapshot
 * files and compared in tests.
 */

/** WMS side, per wmsqueue (PanDA: mapped job counts summed over labels). */
export interface WmsQueueInfo {
  /** PanDA `activated` (the demand signal), or idle Condor-WMS jobs. */
  readonly ready: number;
  readonly notready: number;
  readonly running: number;
  readonly done: number;
  readonly failed: number;
}

/** Site status of a wmsqueue (`online`, `test`, `offline`, `brokeroff`…; `''` when unknown). */
export interface SiteInfo {
  readonly status: string;
}

/** Recent pilots of a queue (Throttle's black-hole check): started in the window, and how many were short. */
export interface RecentPilots {
  readonly total: number;
  readonly short: number;
}

/** Batch side, per APF queue (pilots carrying `+MATCH_APF_QUEUE = "<queue>"`). */
export interface BatchQueueInfo {
  /** Idle + unexpanded + held (APF counts held as pending). */
  readonly pending: number;
  /** Running + transferring output. */
  readonly running: number;
  /** Finished well in the last hour (history) plus done jobs still in the queue. */
  readonly done: number;
  /** Removed or failed in the last hour (history). */
  readonly failed: number;
  /** Throttle input, when known. */
  readonly recent?: RecentPilots;
}

/** One pilot job as batch status sees it (used to choose jobs to retire). */
export interface BatchJob {
  /** `<cluster>.<proc>`. */
  readonly id: string;
  readonly queue: string;
  /** HTCondor JobStatus. */
  readonly jobStatus: number;
  /** Submission time, epoch seconds (QDate). */
  readonly qdate: number;
}

/** An all-zero {@link WmsQueueInfo}: a queue absent from an available snapshot. */
export const ZERO_WMS: WmsQueueInfo = Object.freeze({ ready: 0, notready: 0, running: 0, done: 0, failed: 0 });

/** An all-zero {@link BatchQueueInfo}: a queue absent from an available snapshot. */
export const ZERO_BATCH: BatchQueueInfo = Object.freeze({ pending: 0, running: 0, done: 0, failed: 0 });

/** What one WMS status fetch produced. */
export interface WmsSnapshot {
  /** When the data was fetched (epoch ms). */
  readonly at: number;
  /** Per wmsqueue; a queue absent here reads as {@link ZERO_WMS}. */
  readonly queues: ReadonlyMap<string, WmsQueueInfo>;
  /** Per wmsqueue site status; `null` when the site-status source is unavailable. */
  readonly sites: ReadonlyMap<string, SiteInfo> | null;
}

/** What one batch status fetch produced. */
export interface BatchSnapshot {
  /** When the data was fetched (epoch ms). */
  readonly at: number;
  /** Per APF queue; a queue absent here reads as {@link ZERO_BATCH}. */
  readonly queues: ReadonlyMap<string, BatchQueueInfo>;
  /** Per APF queue, the pilots currently in the queue (for retire). */
  readonly jobs: ReadonlyMap<string, readonly BatchJob[]>;
  /** Pending and running summed over every queue, when the producer already knows it (saves a sum per cycle). */
  readonly total?: { readonly pending: number; readonly running: number };
}
