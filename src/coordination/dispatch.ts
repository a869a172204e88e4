/**
 * Dispatch of queue cycles through BullMQ: one BullMQ queue (`cycles`), one job scheduler per APF
 * queue (`every` = apfqueue.sleep, a stable per-queue offset), one worker per instance.
 *
 * BullMQ gives at-least-once delivery and no mutual exclusion between iterations of a scheduler
 * (coordination.md §1.1, §1.4); the per-queue lease in the runner provides exclusion. What this
 * module guarantees is the *shape* of the schedule: exactly the desired schedulers exist, with the
 * desired interval and offset, and a scheduler that stopped producing jobs is noticed and repaired.
 * docs/decisions.md "Dispatch (BullMQ)" explains the values chosen here.
 */
import { Queue, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { ApfError, describeError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import { mapLimit } from '../util/limit.ts';
import type { Keys } from './keys.ts';
import { CYCLE_JOB_NAME, DEFAULT_SPREAD_STEP_MS, RUN_NOW_JOB_NAME, planLightReconcile, planReconcile, runNowJobId, schedulerId, schedulerOffset, tryQueueOf, viewOf } from './dispatch-plan.ts';
import type { CycleJobData, ReconcilePlan, SchedulerView } from './dispatch-plan.ts';

export { CYCLE_JOB_NAME, DEFAULT_SPREAD_STEP_MS, RUN_NOW_JOB_NAME, planLightReconcile, planReconcile, queueOfJob, queueOfScheduler, runNowJobId, schedulerId, schedulerOffset, slotOf } from './dispatch-plan.ts';
export type { CycleJobData, ReconcilePlan, SchedulerView } from './dispatch-plan.ts';

/** Options of {@link Dispatcher}. */
export interface DispatchOptions {
  /**
   * A BullMQ-style connection (`maxRetriesPerRequest: null`). Never used directly nor closed here:
   * the dispatcher and its workers run on duplicates with their own deadlines.
   */
  connection: Redis;
  /** Deadline of one scheduler/producer command. @defaultValue the connection's `commandTimeout`, else 5000 */
  commandTimeoutMs?: number;
  /** Key builder: the BullMQ prefix is `keys.bullPrefix`. */
  keys: Keys;
  /** BullMQ queue name. @defaultValue `cycles` */
  queueName?: string;
  logger: Logger;
  /** Clock (epoch ms), injectable for tests. @defaultValue `Date.now` */
  now?: () => number;
  /** Schedulers read per `getJobSchedulers` page. @defaultValue 500 */
  pageSize?: number;
  /** The offsets' grid (`cluster.spread_step`, ms), read at every reconcile. @defaultValue {@link DEFAULT_SPREAD_STEP_MS} */
  spreadStepMs?: () => number;
}

/** Options of {@link Dispatcher.reconcile}. */
export interface ReconcileOptions {
  /** Stops further changes (the reconciler's lease was lost). */
  signal?: AbortSignal;
  /**
   * Also compare each scheduler's options (interval, offset, job name, template) with the desired
   * ones, which reads every scheduler's hash — 10,000 reads for 10,000 queues. `false`: one ZRANGE
   * of the scheduler ids and next slots, enough to add missing schedulers, remove unknown ones and
   * repair overdue ones (what a lost or stuck scheduler needs); option changes come from a
   * configuration reload, which reconciles in full. @defaultValue true
   */
  full?: boolean;
}

/** What {@link Dispatcher.reconcile} changed (APF queue names). */
export interface ReconcileResult {
  added: string[];
  updated: string[];
  removed: string[];
  /** Schedulers whose next run was overdue by more than 2 intervals and were re-upserted. */
  repaired: string[];
  /** Queues whose change failed (logged; the next reconcile retries them). */
  failed: string[];
}

/** Worker settings of {@link Dispatcher.createWorker}. */
export interface WorkerSettings {
  /** Cycles this instance runs at once. */
  concurrency: number;
  /** BullMQ job lock TTL (`cluster.lock_duration`). */
  lockDurationMs: number;
  /** BullMQ stalled-check period (`cluster.stalled_interval`). */
  stalledIntervalMs: number;
  /** Process owner id: the worker name stored on every job it processes. */
  owner: string;
  /** Start fetching at once. @defaultValue true (false: call `worker.run()` yourself) */
  start?: boolean;
}

/** The processor a worker runs: returns a small JSON result; never throws for "skipped" outcomes. */
export type CycleProcessor = (job: Job<CycleJobData>, signal: AbortSignal | undefined) => Promise<unknown>;

/** Completed cycle jobs kept: an hour (forensics, runNow de-duplication), at most 5000. Age in seconds. */
export const REMOVE_ON_COMPLETE = Object.freeze({ age: 3600, count: 5000 });
/** Failed cycle jobs kept: a day, at most 5000. Age in seconds. */
export const REMOVE_ON_FAIL = Object.freeze({ age: 86_400, count: 5000 });
/** Stalls tolerated before a one-off job fails (scheduler jobs are only ever re-queued). */
export const MAX_STALLED_COUNT = 1;
/** Least command deadline on a worker's connections: BZPOPMIN blocks ≤ 10 s, BullMQ's watchdog fires 1 s later. */
export const WORKER_COMMAND_TIMEOUT_MS = 13_000;

/**
 * A scheduler whose next slot is this far in the past, with its job not waiting for a worker, is
 * stuck behind a dead worker ({@link Dispatcher.repairStuck}). Live workers advance it within a
 * round trip of taking the job; ten seconds leave room for a slow event loop.
 */
export const STUCK_AFTER_MS = 10_000;

/** Scheduler changes a reconcile has in flight at once. */
export const RECONCILE_CONCURRENCY = 16;

function redisError(what: string, err: unknown): ApfError {
  return new ApfError('APF_ERR_REDIS', `${what}: ${describeError(err)}`, { cause: err });
}

/** One BullMQ queue of cycle jobs and its schedulers. */
export class Dispatcher {
  readonly #queue: Queue<CycleJobData>;
  readonly #queueConnection: Redis;
  readonly #opts: DispatchOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #spreadStepMs: () => number;
  readonly #workers: Array<{ worker: Worker<CycleJobData>; connection: Redis }> = [];

  constructor(opts: DispatchOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#spreadStepMs = opts.spreadStepMs ?? (() => DEFAULT_SPREAD_STEP_MS);
    this.#log = opts.logger.child({ component: 'dispatch' });
    // Producer side fails fast (coordination.md §1.7): a deadline on every command, nothing queued
    // while disconnected; the reconciler retries at its next interval.
    this.#queueConnection = opts.connection.duplicate({
      lazyConnect: true,
      commandTimeout: opts.commandTimeoutMs ?? opts.connection.options.commandTimeout ?? 5000,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
    this.#queue = new Queue<CycleJobData>(opts.queueName ?? 'cycles', { connection: this.#queueConnection, prefix: opts.keys.bullPrefix });
    this.#queue.on('error', (err) => this.#log.warn({ err: describeError(err) }, 'BullMQ queue error'));
  }

  /**
   * Makes the schedulers match `desired` (queue → every ms). Nothing that already matches is
   * touched (an upsert of an unchanged scheduler would re-create its pending job); overdue
   * schedulers are repaired unless their pending job merely waits for a free worker. `signal`
   * stops further changes (the reconciler's lease was lost): rejects with `APF_ERR_ABORTED`.
   * With `full: false` the schedulers' options are not read nor compared (see {@link ReconcileOptions}).
   * Reading the schedulers fails with `APF_ERR_REDIS`; a failed change of one queue is logged and
   * listed in `failed`.
   */
  async reconcile(desired: ReadonlyMap<string, number>, opts: ReconcileOptions = {}): Promise<ReconcileResult> {
    let plan: ReconcilePlan;
    /** Next slot of an existing scheduler (its pending job is removed with it). */
    let nextOf: (id: string) => number | undefined;
    let schedulers: number;
    if (opts.full === false) {
      const slots = await this.#readNextSlots();
      plan = planLightReconcile(desired, slots, this.#now());
      nextOf = (id) => slots.get(id);
      schedulers = slots.size;
    } else {
      const existing = await this.#listSchedulers(desired);
      plan = planReconcile(desired, existing.values(), this.#now(), this.#spreadStepMs());
      nextOf = (id) => existing.get(id)?.next;
      schedulers = existing.size;
    }
    const result: ReconcileResult = { added: [], updated: [], removed: [], repaired: [], failed: [...plan.invalid] };
    for (const q of plan.invalid) this.#log.error({ queue: q, every: desired.get(q) }, 'queue not scheduled: its interval is not a positive integer (ms)');
    const step = async (queue: string, list: string[], what: string, fn: () => Promise<boolean>): Promise<void> => {
      if (opts.signal?.aborted === true) throw new ApfError('APF_ERR_ABORTED', 'reconcile stopped: lease lost', { details: { queue } });
      try {
        if (await fn()) list.push(queue);
      } catch (err) {
        result.failed.push(queue);
        this.#log.error({ queue, err: describeError(err) }, `scheduler ${what} failed`);
      }
    };
    // A few changes in flight at once: the first reconcile of 10,000 queues then takes seconds, not
    // a minute and more of one round trip after the other (bench/cluster.ts measures it).
    const each = async <T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> => void (await mapLimit(items, RECONCILE_CONCURRENCY, fn));
    await each(plan.remove, (id) => step(tryQueueOf(id) ?? id, result.removed, 'removal', () => this.#remove(id, nextOf(id))));
    await each(plan.add, ([q, every]) => step(q, result.added, 'creation', () => this.#upsert(q, every)));
    await each(plan.update, ([q, every]) => step(q, result.updated, 'update', () => this.#upsert(q, every)));
    await each(plan.overdue, ([q, every, next]) => step(q, result.repaired, 'repair', () => this.#repair(q, every, next)));
    const changed = result.added.length + result.updated.length + result.removed.length + result.repaired.length + result.failed.length;
    this.#log[changed > 0 ? 'info' : 'debug']({ schedulers, desired: desired.size, ...result }, 'schedulers reconciled');
    return result;
  }

  /**
   * Every scheduler's id and next slot in one ZRANGE (atomic, so nothing moves between pages):
   * what planLightReconcile needs, no scheduler options read.
   */
  async #readNextSlots(): Promise<Map<string, number>> {
    let flat: string[];
    try {
      flat = await this.#queueConnection.zrange(this.#queue.toKey('repeat'), '0', '-1', 'WITHSCORES');
    } catch (err) {
      throw redisError('reading the job schedulers failed', err);
    }
    const out = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) out.set(flat[i] as string, Number(flat[i + 1]));
    return out;
  }


  /** Reads every scheduler (paged), keyed by id. */
  async #listSchedulers(desired: ReadonlyMap<string, number>): Promise<Map<string, SchedulerView>> {
    const pageSize = this.#opts.pageSize ?? 500;
    const out = new Map<string, SchedulerView>();
    try {
      const total = await this.#queue.getJobSchedulersCount();
      if (total <= pageSize) {
        // One ZRANGE: an atomic list of ids.
        for (const s of await this.#queue.getJobSchedulers(0, -1, true)) out.set(s.key, viewOf(s));
        return out;
      }
      for (let start = 0; start < total; start += pageSize) {
        for (const s of await this.#queue.getJobSchedulers(start, start + pageSize - 1, true)) out.set(s.key, viewOf(s));
      }
      // Workers move schedulers in the zset while we page, so a page boundary can skip one:
      // look up each desired queue that seems missing before creating it again.
      for (const queue of desired.keys()) {
        if (queue === '') continue;
        const id = schedulerId(queue);
        if (out.has(id)) continue;
        const s = await this.#queue.getJobScheduler(id);
        if (s !== undefined) out.set(id, viewOf({ ...s, key: id }));
      }
      return out;
    } catch (err) {
      throw redisError('reading the job schedulers failed', err);
    }
  }

  async #upsert(queue: string, every: number): Promise<boolean> {
    await this.#queue.upsertJobScheduler(schedulerId(queue), { every, offset: schedulerOffset(queue, every, this.#spreadStepMs()) }, { name: CYCLE_JOB_NAME, data: { queue } });
    return true;
  }

  async #remove(id: string, next: number | undefined): Promise<boolean> {
    await this.#queue.removeJobScheduler(id);
    // BullMQ removes the pending job only while it is delayed; one already waiting for a worker
    // would still run once. Not removable (0) = it is active or already gone.
    if (next !== undefined) await this.#queue.remove(`repeat:${id}:${next}`);
    return true;
  }

  /** Re-upserts an overdue scheduler, unless its pending job is only waiting for a free worker. */
  async #repair(queue: string, every: number, next: number, watchdog = false): Promise<boolean> {
    const jobId = `repeat:${schedulerId(queue)}:${next}`;
    const state = await this.#queue.getJobState(jobId);
    const lateMs = this.#now() - next;
    if (state === 'waiting' || state === 'prioritized') {
      // Re-upserting would only move it to the back of the line: the workers are saturated. (The
      // watchdog looks every few seconds: the reconcile's 2-interval check reports it.)
      if (!watchdog) this.#log.warn({ queue, jobId, state, lateMs }, 'cycle job waits for a free worker for more than 2 intervals');
      return false;
    }
    this.#log.warn({ queue, jobId, state, lateMs, every }, 'scheduler stopped producing cycles: re-upserted');
    await this.#upsert(queue, every);
    return true;
  }

  /**
   * Repairs schedulers left behind by a dead worker. BullMQ schedules a scheduler's next iteration
   * only after a worker has taken the current one, so a worker killed in between leaves the
   * scheduler without a next job until the stalled-job check re-queues the one it took — a lock
   * duration plus up to two stalled intervals later, often an interval or two of missed cycles.
   * A live worker advances the scheduler within a round trip of taking the job, so a scheduler
   * whose next slot lies more than `stuckAfterMs` in the past, and whose job is not merely waiting
   * for a worker, is stuck: it is re-upserted, which schedules its next slot (the taken job, when
   * the stalled check re-queues it, no longer matches and schedules nothing). One ZRANGEBYSCORE
   * finds them; at most `limit` are looked at per call. Only desired queues are touched.
   *
   * @returns the queues repaired.
   * @throws ApfError `APF_ERR_REDIS` when the schedulers cannot be read; a failed repair is logged.
   */
  async repairStuck(
    desired: ReadonlyMap<string, number>,
    opts: { stuckAfterMs?: number; limit?: number; signal?: AbortSignal } = {},
  ): Promise<string[]> {
    const before = this.#now() - (opts.stuckAfterMs ?? STUCK_AFTER_MS);
    let flat: string[];
    try {
      flat = await this.#queueConnection.zrangebyscore(this.#queue.toKey('repeat'), '-inf', `(${before}`, 'WITHSCORES', 'LIMIT', '0', String(opts.limit ?? 100));
    } catch (err) {
      throw redisError('reading the job schedulers failed', err);
    }
    const repaired: string[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      if (opts.signal?.aborted === true) break;
      const queue = tryQueueOf(flat[i] as string);
      const every = queue === undefined ? undefined : desired.get(queue);
      if (queue === undefined || every === undefined || !Number.isSafeInteger(every) || every < 1) continue;
      try {
        if (await this.#repair(queue, every, Number(flat[i + 1]), true)) repaired.push(queue);
      } catch (err) {
        this.#log.error({ queue, err: describeError(err) }, 'scheduler repair failed');
      }
    }
    return repaired;
  }

  /**
   * A worker of the cycle queue: bounded concurrency, the lock/stall settings given, retention
   * {@link REMOVE_ON_COMPLETE}/{@link REMOVE_ON_FAIL}, name = owner. It has its own connections
   * (duplicates of the dispatcher's, with a deadline that fits BullMQ's blocking wait). Created with
   * `autorun: false` so that its listeners are attached before the first fetch, then started
   * (unless `start: false`). A processor that throws fails its job and is logged.
   */
  createWorker(processor: CycleProcessor, opts: WorkerSettings): Worker<CycleJobData> {
    const base = this.#opts.connection;
    const timeout = Math.max(base.options.commandTimeout ?? 0, WORKER_COMMAND_TIMEOUT_MS);
    const connection = base.duplicate({ lazyConnect: true, maxRetriesPerRequest: null, commandTimeout: timeout });
    const log = this.#log.child({ owner: opts.owner });
    const worker = new Worker<CycleJobData>(
      this.#queue.name,
      async (job, _token, signal) => {
        try {
          return await processor(job, signal);
        } catch (err) {
          log.error({ jobId: job.id, err: describeError(err) }, 'cycle processor threw');
          throw err;
        }
      },
      { connection, prefix: this.#opts.keys.bullPrefix, name: opts.owner, concurrency: opts.concurrency, autorun: false,
        lockDuration: opts.lockDurationMs, stalledInterval: opts.stalledIntervalMs, maxStalledCount: MAX_STALLED_COUNT,
        removeOnComplete: { ...REMOVE_ON_COMPLETE }, removeOnFail: { ...REMOVE_ON_FAIL } },
    );
    worker.on('error', (err) => log.warn({ err: describeError(err) }, 'BullMQ worker error'));
    worker.on('stalled', (jobId) => log.warn({ jobId }, 'stalled cycle job moved back to wait'));
    // Losing the BullMQ lock does not stop a processor; the queue lease decides whether a cycle may go on.
    worker.on('lockRenewalFailed', (jobIds) => log.warn({ jobIds }, 'BullMQ job lock renewal failed'));
    this.#workers.push({ worker, connection });
    if (opts.start !== false) worker.run().catch((err: unknown) => log.error({ err: describeError(err) }, 'BullMQ worker stopped'));
    return worker;
  }

  /**
   * Runs a queue's cycle now (admin "run now"): a one-off job `{ queue, slot: now }` whose id is
   * fixed per (queue, second), so a second click within the same second adds nothing.
   */
  async runNow(queue: string): Promise<void> {
    const now = this.#now();
    try {
      await this.#queue.add(RUN_NOW_JOB_NAME, { queue, slot: now }, { jobId: runNowJobId(queue, now) });
    } catch (err) {
      throw redisError(`adding a run-now job for ${queue} failed`, err);
    }
    this.#log.info({ queue, slot: now }, 'run-now job added');
  }

  /** Jobs waiting, active and delayed, and the number of schedulers. */
  async counts(): Promise<{ waiting: number; active: number; delayed: number; schedulers: number }> {
    try {
      const [c, schedulers] = await Promise.all([this.#queue.getJobCounts('waiting', 'active', 'delayed'), this.#queue.getJobSchedulersCount()]);
      return { waiting: c['waiting'] ?? 0, active: c['active'] ?? 0, delayed: c['delayed'] ?? 0, schedulers };
    } catch (err) {
      throw redisError('reading the job counts failed', err);
    }
  }

  /**
   * Closes the workers created here, then the queue; the shared connection stays open. With
   * `timeoutMs` > 0 the workers get that long to finish their active cycles, then their processors
   * are cancelled (AbortSignal) and the close is no longer awaited; without it they are closed by
   * force. Whatever is still active is recovered by the stalled check of the other instances.
   */
  async close(opts: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 0;
    await Promise.all(
      this.#workers.splice(0).map(async ({ worker, connection }) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          if (timeoutMs <= 0) {
            await worker.close(true);
            return;
          }
          const closing = worker.close();
          closing.catch((err: unknown) => this.#log.warn({ err: describeError(err) }, 'closing a worker failed'));
          const deadline = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
          if ((await Promise.race([closing.then(() => 'closed' as const), deadline])) === 'timeout') {
            worker.cancelAllJobs('shutdown deadline passed');
            this.#log.warn({ timeoutMs }, 'worker did not finish its cycles before the deadline: cancelled them');
          }
        } catch (err) {
          this.#log.warn({ err: describeError(err) }, 'closing a worker failed');
        } finally {
          clearTimeout(timer);
          connection.disconnect();
        }
      }),
    );
    await this.#queue.close();
    this.#queueConnection.disconnect();
  }
}
