/**
 * The pure part of the dispatcher (dispatch.ts): how schedulers and jobs are named (scheduler ids,
 * run-now job ids, the slot and APF queue a job carries), the stable per-queue offset of a
 * scheduler, and the reconcile plan — which schedulers to add, update, remove or repair — decided
 * from data alone. No Redis, no BullMQ connection, no clock: everything here is a function of its
 * arguments, so it is tested without a server.
 */
import { hash } from 'node:crypto';
import type { Job, JobSchedulerJson } from 'bullmq';
import { ApfError } from '../errors.ts';

/** Name of the jobs the schedulers produce. */
export const CYCLE_JOB_NAME = 'cycle';
/** Name of the one-off jobs of {@link Dispatcher.runNow}. */
export const RUN_NOW_JOB_NAME = 'run-now';

/** Data of a cycle job. */
export interface CycleJobData {
  /** APF queue name. */
  queue: string;
  /** Slot (epoch ms), only on {@link Dispatcher.runNow} jobs (scheduler jobs carry it in their id). */
  slot?: number;
}

const SCHEDULER_JOB_ID = /^repeat:(.+):(\d+)$/;

/** Scheduler id of an APF queue: reversible, no ':' (`%` → `%25`, `:` → `%3A`; all else kept). */
export function schedulerId(queue: string): string {
  if (queue.length === 0) throw new ApfError('APF_ERR_CONFIG_INVALID', 'an APF queue name must not be empty');
  return queue.replaceAll('%', '%25').replaceAll(':', '%3A');
}

/** The APF queue of a scheduler id; throws `APF_ERR_CONFIG_INVALID` for an id {@link schedulerId} cannot produce. */
export function queueOfScheduler(id: string): string {
  const queue = tryQueueOf(id);
  if (queue === undefined) throw new ApfError('APF_ERR_CONFIG_INVALID', `"${id}" is not an apf scheduler id`, { details: { id } });
  return queue;
}

/** {@link queueOfScheduler} without the throw: undefined for an id {@link schedulerId} cannot produce. */
export function tryQueueOf(id: string): string | undefined {
  if (id.length === 0 || id.includes(':') || /%(?!25|3A)/.test(id)) return undefined;
  return id.replaceAll('%3A', ':').replaceAll('%25', '%');
}

/** `cluster.spread_step` when the config does not set it: 500 ms. */
export const DEFAULT_SPREAD_STEP_MS = 500;

/**
 * Offset spreading thousands of queues over the interval: a stable hash of the name (first 48 bits
 * of its SHA-256) mod `everyMs`, rounded down to a multiple of `stepMs` (`cluster.spread_step`; 0
 * or 1: not rounded), so that the queues due on one step start together and share the round trips
 * to Redis (docs/decisions.md "Cycles on a grid"). A result of 0 is returned as `everyMs` (the same
 * phase): BullMQ reads offset 0 as "none" and would then run the first iteration at once, at an
 * arbitrary phase.
 */
export function schedulerOffset(queue: string, everyMs: number, stepMs: number): number {
  if (!Number.isSafeInteger(everyMs) || everyMs < 1) {
    throw new ApfError('APF_ERR_CONFIG_INVALID', `interval ${everyMs} ms of ${queue} is not a positive integer`);
  }
  if (!Number.isSafeInteger(stepMs) || stepMs < 0) throw new ApfError('APF_ERR_CONFIG_INVALID', `spread step ${stepMs} ms is not a non-negative integer`);
  // one-shot hash, first 12 hex digits = 48 bits (no Hash object: a reconcile hashes every queue)
  const h = Number.parseInt(hash('sha256', queue, 'hex').slice(0, 12), 16) % everyMs;
  const step = Math.min(Math.max(stepMs, 1), everyMs);
  const r = h - (h % step);
  return r === 0 ? everyMs : r;
}

/**
 * The slot (epoch ms) a job was produced for. Scheduler jobs: from the job id
 * `repeat:<schedulerId>:<slot>`, which BullMQ's Lua builds from the very slot it scheduled (the
 * job's `timestamp + delay` is not: the delay is clamped at 0 for late slots). One-off jobs:
 * `data.slot`. Throws `APF_ERR_REDIS` for a job that carries neither.
 */
export function slotOf(job: Pick<Job, 'id' | 'data'>): number {
  const m = SCHEDULER_JOB_ID.exec(job.id ?? '');
  if (m !== null) {
    const slot = Number(m[2]);
    if (Number.isSafeInteger(slot)) return slot;
  }
  const slot = (job.data as Partial<CycleJobData> | undefined)?.slot;
  if (typeof slot === 'number' && Number.isSafeInteger(slot)) return slot;
  throw new ApfError('APF_ERR_REDIS', `job ${job.id ?? '?'} carries no slot`, { details: { jobId: job.id } });
}

/** The APF queue a job is for: the scheduler id when there is one, else `data.queue`. */
export function queueOfJob(job: Pick<Job, 'id' | 'data' | 'repeatJobKey'>): string {
  if (job.repeatJobKey !== undefined && job.repeatJobKey !== '') return queueOfScheduler(job.repeatJobKey);
  const queue = (job.data as Partial<CycleJobData> | undefined)?.queue;
  if (typeof queue === 'string' && queue !== '') return queue;
  throw new ApfError('APF_ERR_REDIS', `job ${job.id ?? '?'} names no queue`, { details: { jobId: job.id } });
}

/** Job id of a {@link Dispatcher.runNow} job: one per (queue, second), no ':' and never all digits. */
export function runNowJobId(queue: string, nowMs: number): string {
  return `run-now-${schedulerId(queue)}-${Math.floor(nowMs / 1000)}`;
}

/** What reconcile needs to know of an existing scheduler (`id`, job `name`, options as BullMQ lists them). */
export interface SchedulerView {
  readonly id: string;
  readonly name: string;
  readonly every: number | undefined;
  readonly pattern: string | undefined;
  readonly offset: number | undefined;
  /** Next slot (epoch ms): the score in BullMQ's schedulers zset. */
  readonly next: number | undefined;
  /** `template.data.queue`. */
  readonly queue: unknown;
}

/** The changes reconcile makes, decided from data alone. */
export interface ReconcilePlan {
  /** Desired queues without a scheduler. */
  readonly add: ReadonlyArray<readonly [queue: string, everyMs: number]>;
  /** Desired queues whose scheduler differs (interval, offset, name, template). */
  readonly update: ReadonlyArray<readonly [queue: string, everyMs: number]>;
  /** Scheduler ids to remove (not desired, or not an apf id). */
  readonly remove: readonly string[];
  /** Matching schedulers whose next slot is more than 2 intervals in the past. */
  readonly overdue: ReadonlyArray<readonly [queue: string, everyMs: number, next: number]>;
  /** Desired entries with an unusable interval. */
  readonly invalid: readonly string[];
}

/** What a desired queue's scheduler needs: nothing, to be added or updated, or a repair (a number: its overdue next slot). */
type Need = 'ok' | 'add' | 'update' | number;

/** The plan from the ids to remove and what each usable desired queue needs (entries with an unusable interval set aside). */
function planFrom(desired: ReadonlyMap<string, number>, remove: string[], need: (queue: string, every: number) => Need): ReconcilePlan {
  const add: Array<readonly [string, number]> = [];
  const update: Array<readonly [string, number]> = [];
  const overdue: Array<readonly [string, number, number]> = [];
  const invalid: string[] = [];
  for (const [queue, every] of desired) {
    if (queue === '' || !Number.isSafeInteger(every) || every < 1) {
      invalid.push(queue);
      continue;
    }
    const n = need(queue, every);
    if (n === 'add' || n === 'update') (n === 'add' ? add : update).push([queue, every]);
    else if (n !== 'ok') overdue.push([queue, every, n]);
  }
  return { add, update, remove, overdue, invalid };
}

/** A repair when the next slot is more than 2 intervals in the past. */
const repairIfOverdue = (next: number | undefined, every: number, now: number): Need => (next !== undefined && next < now - 2 * every ? next : 'ok');

/** Compares the desired set with the existing schedulers at `now`, offsets on the grid `stepMs` (pure). */
export function planReconcile(desired: ReadonlyMap<string, number>, existing: Iterable<SchedulerView>, now: number, stepMs: number): ReconcilePlan {
  const byQueue = new Map<string, SchedulerView>();
  const remove: string[] = [];
  for (const s of existing) {
    const queue = tryQueueOf(s.id);
    if (queue === undefined || !desired.has(queue)) remove.push(s.id);
    else byQueue.set(queue, s);
  }
  return planFrom(desired, remove, (queue, every) => {
    const s = byQueue.get(queue);
    if (s === undefined) return 'add';
    if (s.every !== every || s.pattern !== undefined || s.offset !== schedulerOffset(queue, every, stepMs) || s.name !== CYCLE_JOB_NAME || s.queue !== queue) return 'update';
    return repairIfOverdue(s.next, every, now);
  });
}

/**
 * The plan of a light reconcile (`full: false`), from the schedulers' ids and next slots alone
 * (`next`: scheduler id → next slot, the schedulers zset): their options are not read and are
 * taken to match, so nothing is updated. Same rules as {@link planReconcile} otherwise: ids that
 * are not desired (or not apf's) are removed, desired queues without a scheduler added, those
 * more than 2 intervals behind repaired.
 */
export function planLightReconcile(desired: ReadonlyMap<string, number>, next: ReadonlyMap<string, number>, now: number): ReconcilePlan {
  const remove: string[] = [];
  for (const id of next.keys()) {
    const queue = tryQueueOf(id);
    if (queue === undefined || !desired.has(queue)) remove.push(id);
  }
  return planFrom(desired, remove, (queue, every) => {
    const slot = next.get(schedulerId(queue));
    return slot === undefined ? 'add' : repairIfOverdue(slot, every, now);
  });
}

/** The {@link SchedulerView} of a scheduler as BullMQ lists it. */
export function viewOf(s: JobSchedulerJson<CycleJobData>): SchedulerView {
  return { id: s.key, name: s.name, every: s.every, pattern: s.pattern, offset: s.offset, next: s.next ?? undefined, queue: s.template?.data?.queue };
}
