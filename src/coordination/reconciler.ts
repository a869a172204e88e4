/**
 * The reconciler: one instance at a time keeps the BullMQ job schedulers in line with the
 * configuration, and brings them back when Redis lost them (restart without persistence, failover,
 * a BullMQ bug). Every instance runs one; the one holding `keys.reconcilerLease` (SET NX PX with its
 * owner value, renewed by a compare-and-set script) calls `dispatcher.reconcile(desired())` every
 * interval: a light one (are all schedulers there and running?) most of the time, a full one
 * (are their options right?) after winning the lease, on `runOnce` (reload) and every
 * {@link FULL_RECONCILE_EVERY} intervals. Besides, on every instance, a watchdog repairs within
 * seconds the schedulers a killed worker left without a next job (Dispatcher.repairStuck). An instance that loses the lease stops reconciling at once (the running reconcile is
 * aborted between two changes) and goes back to trying to acquire it.
 *
 * The lease is an efficiency lock (Kleppmann's distinction): two reconcilers at once would only
 * repeat idempotent upserts, so no fencing token is needed. Its local validity is measured on the
 * monotonic clock and ends 1 % before the Redis TTL.
 */
import type { Redis } from 'ioredis';
import { describeError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { Dispatcher, ReconcileResult } from './dispatch.ts';
import type { Keys } from './keys.ts';
import { RECONCILER_RELEASE_LUA } from './lua/reconcilerRelease-1.ts';
import { RECONCILER_RENEW_LUA } from './lua/reconcilerRenew-1.ts';

/** Options of {@link startReconciler}. */
export interface ReconcilerOptions {
  /** The dispatcher whose schedulers are reconciled (and, when it can, repaired by the watchdog). */
  dispatcher: Pick<Dispatcher, 'reconcile'> & Partial<Pick<Dispatcher, 'repairStuck'>>;
  /** A normal (fail-fast, `commandTimeout`) client for the lease. */
  redis: Redis;
  keys: Keys;
  /** This process's unique owner id: the lease value. */
  owner: string;
  /** How often the holder reconciles and the others try to take over (`cluster.reconcile_interval`). */
  intervalMs: number;
  /** The desired schedulers, read at every reconcile (APF queue → interval ms). */
  desired: () => ReadonlyMap<string, number>;
  logger: Logger;
  /** Lease TTL; renewed every third of it while held. @defaultValue 3 × intervalMs */
  leaseTtlMs?: number;
  /**
   * How often every instance (holder or not) looks for schedulers stuck behind a dead worker
   * (Dispatcher.repairStuck: one ZRANGEBYSCORE, usually returning nothing). @defaultValue min(5000, intervalMs)
   */
  watchdogMs?: number;
}

/** A running reconciler. */
export interface Reconciler {
  /** Stops the timers, waits for a running reconcile (aborted) and releases the lease if held. */
  stop(): Promise<void>;
  /**
   * Reconciles now if this instance holds (or wins) the lease, after any running reconcile; call
   * it after a configuration reload. Resolves with what changed, or null when another instance
   * holds the lease; rejects when the reconcile failed (`APF_ERR_REDIS`, `APF_ERR_ABORTED`).
   */
  runOnce(): Promise<ReconcileResult | null>;
  /** True while this instance holds the lease and its local deadline has not passed. */
  holding(): boolean;
}

/** Share of the TTL by which the local deadline precedes Redis's expiry (clock-rate drift). */
const DRIFT = 0.01;
/** Retry delay after a failed lease request (Redis not reachable yet, e.g. at boot), if shorter than the interval. */
const RETRY_MS = 1000;
/**
 * Periodic reconciles only check that every scheduler exists and runs (one ZRANGE); every this
 * many, and after winning the lease or a reload, one also compares each scheduler's options
 * (one read per scheduler: 10,000 for 10,000 queues).
 */
export const FULL_RECONCILE_EVERY = 10;

type LeaseCommands = {
  apfReconcilerRenew(key: string, owner: string, ttlMs: number): Promise<number>;
  apfReconcilerRelease(key: string, owner: string): Promise<number>;
};

function leaseCommands(redis: Redis): LeaseCommands {
  const r = redis as Redis & Partial<LeaseCommands>;
  if (typeof r.apfReconcilerRenew !== 'function') {
    redis.defineCommand('apfReconcilerRenew', { numberOfKeys: 1, lua: RECONCILER_RENEW_LUA });
    redis.defineCommand('apfReconcilerRelease', { numberOfKeys: 1, lua: RECONCILER_RELEASE_LUA });
  }
  return r as Redis & LeaseCommands;
}

/** Starts the reconciler: a first attempt at once, then one every `intervalMs`. */
export function startReconciler(opts: ReconcilerOptions): Reconciler {
  const ttl = Math.max(1, Math.round(opts.leaseTtlMs ?? 3 * opts.intervalMs));
  const key = opts.keys.reconcilerLease;
  const log = opts.logger.child({ component: 'reconciler', owner: opts.owner });
  const cmd = leaseCommands(opts.redis);
  let held = false;
  let validUntil = 0;
  let term = new AbortController();
  let stopped = false;
  let leaseChain: Promise<void> = Promise.resolve();
  let workChain: Promise<unknown> = Promise.resolve();
  let tickTimer: NodeJS.Timeout | undefined;
  let requestFailed = false;
  /** A full reconcile is due: at start, after winning the lease, until one succeeded. */
  let fullDue = true;
  let lightSinceFull = 0;

  const holding = (): boolean => held && performance.now() < validUntil;

  const lose = (why: string): void => {
    if (!held) return;
    held = false;
    term.abort();
    log.warn({ why }, 'reconciler lease lost: not reconciling until it is won again');
  };

  /** Renews the lease when held, else tries to acquire it. Serialized; never rejects. */
  const leaseStep = (): Promise<void> => {
    const step = async (): Promise<void> => {
      if (stopped) return;
      if (held && performance.now() >= validUntil) lose('its local deadline passed');
      const t0 = performance.now();
      requestFailed = false;
      try {
        if (held) {
          if ((await cmd.apfReconcilerRenew(key, opts.owner, ttl)) === 1) validUntil = t0 + ttl * (1 - DRIFT);
          else lose('it expired or another instance holds it');
        } else if ((await opts.redis.set(key, opts.owner, 'PX', ttl, 'NX')) === 'OK') {
          held = true;
          validUntil = t0 + ttl * (1 - DRIFT);
          term = new AbortController();
          fullDue = true;
          log.info({ ttlMs: ttl }, 'reconciler lease acquired');
        }
      } catch (err) {
        // Unknown outcome: a held lease stays ours until its local deadline passes.
        requestFailed = true;
        log.warn({ err: describeError(err) }, 'reconciler lease request failed');
      }
    };
    const p = leaseChain.then(step);
    leaseChain = p;
    return p;
  };

  const tick = async (askedFull: boolean): Promise<ReconcileResult | null> => {
    await leaseStep();
    if (stopped || !holding()) return null;
    const full = askedFull || fullDue || lightSinceFull + 1 >= FULL_RECONCILE_EVERY;
    const result = await opts.dispatcher.reconcile(opts.desired(), { signal: term.signal, full });
    if (full) {
      fullDue = false;
      lightSinceFull = 0;
    } else lightSinceFull++;
    return result;
  };

  const run = (full: boolean): Promise<ReconcileResult | null> => {
    const p = workChain.then(() => tick(full));
    workChain = p.catch(() => undefined);
    return p;
  };
  const runOnce = (): Promise<ReconcileResult | null> => run(true);

  const schedule = (delayMs: number): void => {
    tickTimer = setTimeout(() => {
      run(false)
        .catch((err: unknown) => log.error({ err: describeError(err) }, 'reconcile failed; retried at the next interval'))
        .finally(() => {
          if (!stopped) schedule(requestFailed ? Math.min(opts.intervalMs, RETRY_MS) : opts.intervalMs);
        });
    }, delayMs);
  };

  // Keeps a held lease alive while a long reconcile runs.
  const keeper = setInterval(() => {
    if (held) void leaseStep();
  }, Math.max(1, Math.floor(ttl / 3)));
  // Schedulers left without a next job by a killed worker are repaired within seconds instead of
  // waiting for BullMQ's stalled check. Every instance looks, not only the lease holder: the dead
  // worker may be the holder itself, whose lease outlives it by up to its TTL (two repairs of one
  // scheduler are two idempotent upserts). Queued behind any running reconcile.
  const repairStuck = opts.dispatcher.repairStuck?.bind(opts.dispatcher);
  const closing = new AbortController();
  const watchdog = setInterval(() => {
    if (stopped || repairStuck === undefined) return;
    workChain = workChain
      .then(() => (stopped ? [] : repairStuck(opts.desired(), { signal: closing.signal })))
      .then((repaired) => {
        if (repaired.length > 0) log.warn({ queues: repaired }, 'schedulers stuck behind a dead worker repaired');
      })
      .catch((err: unknown) => log.warn({ err: describeError(err) }, 'stuck-scheduler check failed; retried shortly'));
  }, Math.max(1, Math.round(opts.watchdogMs ?? Math.min(5000, opts.intervalMs))));
  schedule(0);

  return {
    holding,
    runOnce,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearTimeout(tickTimer);
      clearInterval(keeper);
      clearInterval(watchdog);
      closing.abort();
      term.abort();
      await workChain;
      await leaseChain;
      if (!held) return;
      held = false;
      try {
        await cmd.apfReconcilerRelease(key, opts.owner);
        log.info('reconciler lease released');
      } catch (err) {
        log.warn({ err: describeError(err) }, 'reconciler lease release failed; it expires by itself');
      }
    },
  };
}
