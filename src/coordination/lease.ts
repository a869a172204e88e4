/**
 * The per-queue lease that lets exactly one instance run a queue's cycle, with a fencing token
 * (coordination.md §2.4, §2.5, §3.3, §3.5; docs/decisions.md "Lease: redlock fork + fencing token").
 *
 * Acquire is one redlock attempt on the queue's lease key (no retries: a held lease means "skip
 * this slot"), followed by one Lua script that hands out the token. Three layers then keep a
 * stale holder from doing harm:
 * 1. **Self-fencing on the monotonic clock.** The holder trusts its lease only until
 *    `t_start + ttl × (1 − drift) − safety`, measured with `performance.now()` from *before* the
 *    acquire was sent; each successful renew (every `renewEveryMs`) moves that deadline, measured
 *    from the renew's start. When the deadline passes the lease aborts on its own, without talking
 *    to Redis, so a partitioned or paused instance stops submitting before Redis can give the
 *    queue to someone else. `assertValid()` runs right before every submit.
 * 2. **Fencing token.** Every state write carries the token and is rejected by Lua when a higher
 *    one has been seen or the lease key holds another value (queue-state.ts).
 * 3. **Tags.** Pilots carry `<queue>:<slot>:<token>`, so the residual window (a pause between
 *    `assertValid()` and the batch system call) is auditable.
 *
 * Token monotonicity across Redis data loss: the token is `max(last + 1, now_ms × 1000)`. After a
 * wipe (no AOF, a failover that lost the last writes) the counter restarts at the clock, which is
 * above every token handed out earlier provided that (a) a queue's lease is acquired fewer than
 * 1000 times per millisecond on average — a counter can only run ahead of its seed by one per
 * acquisition — and (b) the instances' clocks agree (NTP) to better than the time since the lost
 * tokens were issued. Both hold by orders of magnitude (one acquisition per queue per minute; NTP
 * keeps clocks within milliseconds). Tokens stay below 2^53 until the year 2255.
 */
import { ExecutionError, Redlock, ResourceLockedError, type Lock } from '@sesamecare-oss/redlock';
import type { Redis } from 'ioredis';
import { ApfError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { Keys } from './keys.ts';
import { runScript } from './lua/queue-scripts.ts';

/** Lease tuning (all in milliseconds). */
export interface LeaseOptions {
  /** Time-to-live of the lease key in Redis (`cluster.lease_ttl`): a dead holder's queue is free after it. */
  ttlMs: number;
  /** Renew period. @defaultValue ttlMs / 3 (two renewals may fail before the key expires) */
  renewEveryMs?: number;
  /** Self-fencing margin: the holder stops this long before Redis could expire the key. @defaultValue min(5000, ttlMs / 5) */
  safetyMs?: number;
  /** Allowed clock-rate difference between Redis and this host, as a share of the TTL. @defaultValue 0.01 */
  driftFactor?: number;
}

/** {@link LeaseOptions} with defaults applied and the derived validity. */
export interface LeaseTimings {
  /** TTL of the lease key, integer ms. */
  readonly ttlMs: number;
  /** Renew period, ms. */
  readonly renewEveryMs: number;
  /** Self-fencing margin, ms. */
  readonly safetyMs: number;
  /** Share of the TTL allowed for clock-rate differences. */
  readonly driftFactor: number;
  /** How long after the start of an acquire or renew the holder trusts the lease: `ttl × (1 − drift) − safety`. */
  readonly validityMs: number;
}

/** A held queue lease. */
export interface Lease {
  /** The APF queue the lease is for. */
  readonly queue: string;
  /** The fencing token: strictly greater than every token handed out for this queue before. */
  readonly token: number;
  /** The redlock lock value stored in the lease key (random, unique per acquisition). */
  readonly value: string;
  /**
   * End time (epoch ms, the committing instance's clock) of the queue's last committed cycle when
   * this lease was taken; 0 when none. A recent one tells the holder that batch counts it read
   * before acquiring may predate the previous holder's submission.
   */
  readonly lastCommitAt: number;
  /**
   * Aborts (reason: an ApfError `APF_ERR_LEASE_LOST`) when a renew finds the key holding another
   * value, when the local monotonic deadline passes, or on release.
   */
  readonly signal: AbortSignal;
  /**
   * Throws ApfError `APF_ERR_LEASE_LOST` when the signal has aborted or the monotonic deadline has
   * passed (even if the deadline timer has not fired yet). Call it immediately before every submit.
   */
  assertValid(): void;
  /** Milliseconds until the local deadline; 0 once aborted. */
  remainingMs(): number;
  /** Stops renewing and deletes the key if it still holds our value. Never throws (failures are logged). */
  release(): Promise<void>;
  /**
   * Ends the lease here after a script that checked our value deleted its key (the fenced commit,
   * queue-state.ts): as {@link Lease.release} without the round trip. Never throws.
   */
  markReleased(): Promise<void>;
}

/**
 * Applies the defaults and checks the timings are usable.
 *
 * @throws ApfError `APF_ERR_CONFIG_INVALID` when the TTL is not positive or the validity does not
 *   exceed the renew period (the lease would expire between two renewals).
 */
export function leaseTimings(opts: LeaseOptions): LeaseTimings {
  const ttlMs = Math.round(opts.ttlMs);
  if (!(ttlMs > 0)) throw new ApfError('APF_ERR_CONFIG_INVALID', `lease TTL must be positive (got ${opts.ttlMs} ms)`);
  const renewEveryMs = opts.renewEveryMs ?? ttlMs / 3;
  const safetyMs = opts.safetyMs ?? Math.min(5000, ttlMs / 5);
  const driftFactor = opts.driftFactor ?? 0.01;
  const validityMs = ttlMs * (1 - driftFactor) - safetyMs;
  if (!(renewEveryMs > 0) || !(validityMs > renewEveryMs) || driftFactor < 0 || safetyMs < 0) {
    throw new ApfError(
      'APF_ERR_CONFIG_INVALID',
      `lease timings unusable: ttl ${ttlMs} ms × (1 − ${driftFactor}) − safety ${safetyMs} ms = ${validityMs} ms must exceed the renew period ${renewEveryMs} ms`,
      { details: { ttlMs, renewEveryMs, safetyMs, driftFactor } },
    );
  }
  return { ttlMs, renewEveryMs, safetyMs, driftFactor, validityMs };
}

/** The token seed for wall-clock time `nowMs`: `nowMs × 1000` (see the module comment). */
export function fenceSeed(nowMs: number): number {
  return Math.floor(nowMs) * 1000;
}

/** Why a redlock operation failed. */
export type RedlockFailure =
  /** The key is missing or holds another value (acquire: held by another; extend/release: no longer ours). */
  | 'locked'
  /** redlock refused locally: its wall-clock expiry had passed (no attempt was made). */
  | 'expired'
  /** Redis did not answer or answered with an error. */
  | 'unreachable';

/** Classifies a redlock rejection; `cause` is the underlying client error, when there is one. */
export async function classifyRedlockError(err: unknown): Promise<{ kind: RedlockFailure; cause: unknown }> {
  if (!(err instanceof ExecutionError)) return { kind: 'unreachable', cause: err };
  const last = err.attempts.at(-1);
  if (last === undefined) return { kind: 'expired', cause: err };
  const errors = [...(await last).votesAgainst.values()];
  if (errors.length > 0 && errors.every((e) => e instanceof ResourceLockedError)) return { kind: 'locked', cause: errors[0] };
  return { kind: 'unreachable', cause: errors.find((e) => !(e instanceof ResourceLockedError)) ?? err };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Why a held lease ended. */
type EndReason = 'lost' | 'deadline' | 'released';

/** A lease this process holds: renew loop, deadline timer and abort signal. */
class HeldLease implements Lease {
  readonly queue: string;
  readonly token: number;
  readonly value: string;
  readonly lastCommitAt: number;
  readonly #controller = new AbortController();
  readonly #timings: LeaseTimings;
  readonly #log: Logger;
  readonly #forget: (lease: HeldLease) => void;
  #lock: Lock;
  #deadline: number;
  #renewTimer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #renewing: Promise<void> | undefined;
  #releasing: Promise<void> | undefined;
  #lostToOther = false;

  constructor(queue: string, token: number, lastCommitAt: number, lock: Lock, startedAt: number, timings: LeaseTimings, log: Logger, forget: (lease: HeldLease) => void) {
    this.queue = queue;
    this.token = token;
    this.lastCommitAt = lastCommitAt;
    this.value = lock.value;
    this.#lock = lock;
    this.#timings = timings;
    this.#log = log;
    this.#forget = forget;
    this.#deadline = startedAt + timings.validityMs;
    this.#armDeadline();
    this.#scheduleRenew(startedAt);
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  assertValid(): void {
    if (this.#controller.signal.aborted) throw this.#controller.signal.reason as ApfError;
    if (performance.now() >= this.#deadline) {
      this.#end('deadline', 'its local deadline passed (no successful renew in time)');
      throw this.#controller.signal.reason as ApfError;
    }
  }

  remainingMs(): number {
    if (this.#controller.signal.aborted) return 0;
    return Math.max(0, this.#deadline - performance.now());
  }

  release(): Promise<void> {
    return this.#close(true);
  }

  markReleased(): Promise<void> {
    return this.#close(false);
  }

  /** Ends the lease once; `deleteKey`: also delete the key in Redis (false when the commit did). */
  #close(deleteKey: boolean): Promise<void> {
    this.#releasing ??= (async () => {
      this.#end('released', 'it was released');
      this.#forget(this);
      // A renew in flight finishes (or times out) first, so it cannot extend a key released after
      // it (nor bring back one the commit deleted: extending a missing key fails).
      await this.#renewing;
      if (!deleteKey) {
        this.#log.debug('lease released by the commit');
        return;
      }
      if (this.#lostToOther) return;
      try {
        await this.#lock.release();
        this.#log.debug('lease released');
      } catch (err) {
        const { kind, cause } = await classifyRedlockError(err);
        if (kind === 'locked') this.#log.debug('lease already gone at release');
        else this.#log.warn({ error: messageOf(cause) }, 'lease release failed; the key expires by its TTL');
      }
    })();
    return this.#releasing;
  }

  /** Aborts the signal once, stops both timers. */
  #end(reason: EndReason, why: string): void {
    clearTimeout(this.#renewTimer);
    clearTimeout(this.#deadlineTimer);
    if (this.#controller.signal.aborted) return;
    if (reason === 'lost') this.#lostToOther = true;
    // A release is the normal end of every cycle: its reason needs no stack (capturing one is a
    // measurable share of a busy instance's CPU); a loss keeps its stack for the logs.
    const limit = Error.stackTraceLimit;
    if (reason === 'released') Error.stackTraceLimit = 0;
    let error: ApfError;
    try {
      error = new ApfError('APF_ERR_LEASE_LOST', `lease of queue ${this.queue} (token ${this.token}) is no longer valid: ${why}`, {
        details: { queue: this.queue, token: this.token, reason },
      });
    } finally {
      Error.stackTraceLimit = limit;
    }
    if (reason !== 'released') this.#log.warn({ reason }, `lease lost: ${why}`);
    this.#controller.abort(error);
  }

  #armDeadline(): void {
    clearTimeout(this.#deadlineTimer);
    const fire = (): void => {
      const left = this.#deadline - performance.now();
      if (left > 0) {
        this.#deadlineTimer = setTimeout(fire, Math.ceil(left));
        this.#deadlineTimer.unref();
        return;
      }
      this.#end('deadline', 'its local deadline passed (no successful renew in time)');
    };
    this.#deadlineTimer = setTimeout(fire, Math.max(0, Math.ceil(this.#deadline - performance.now())));
    this.#deadlineTimer.unref();
  }

  /** Schedules the next renew `renewEveryMs` after `from` (the previous attempt's start). */
  #scheduleRenew(from: number): void {
    if (this.#controller.signal.aborted) return;
    const delay = Math.max(0, from + this.#timings.renewEveryMs - performance.now());
    this.#renewTimer = setTimeout(() => {
      this.#renewing = this.#renew();
    }, delay);
    this.#renewTimer.unref();
  }

  async #renew(): Promise<void> {
    const started = performance.now();
    try {
      this.#lock = await this.#lock.extend(this.#timings.ttlMs);
      if (this.#controller.signal.aborted) return;
      this.#deadline = started + this.#timings.validityMs;
      this.#armDeadline();
    } catch (err) {
      if (this.#controller.signal.aborted) return;
      const { kind, cause } = await classifyRedlockError(err);
      if (kind === 'locked') {
        this.#end('lost', 'the lease key is gone or holds another owner\'s value');
        return;
      }
      if (kind === 'expired') {
        // redlock checks its own wall-clock expiry before extending; after a clock step it refuses.
        this.#end('deadline', 'redlock considers the lock expired (wall clock)');
        return;
      }
      // Redis unreachable: keep the old deadline; the deadline timer aborts if no renew succeeds in time.
      this.#log.warn({ error: messageOf(cause), remainingMs: Math.round(this.remainingMs()) }, 'lease renew failed; keeping the current deadline');
    } finally {
      this.#renewing = undefined;
      this.#scheduleRenew(started);
    }
  }
}

/**
 * Acquires and holds queue leases for one process. `owner` identifies the process in logs
 * (`<instance>:<pid>:<start>`); the lock value itself is redlock's random value.
 */
export class QueueLeases {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #owner: string;
  readonly #timings: LeaseTimings;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #redlock: Redlock;
  readonly #held = new Set<HeldLease>();

  /** @throws ApfError `APF_ERR_CONFIG_INVALID` for unusable timings (see {@link leaseTimings}). */
  constructor(redis: Redis, keys: Keys, owner: string, opts: LeaseOptions, logger: Logger, now: () => number = Date.now) {
    this.#redis = redis;
    this.#keys = keys;
    this.#owner = owner;
    this.#timings = leaseTimings(opts);
    this.#log = logger.child({ component: 'lease', owner });
    this.#now = now;
    // One attempt per operation: a held lease means "skip the slot", never "wait for it".
    this.#redlock = new Redlock([redis], { retryCount: 0, driftFactor: this.#timings.driftFactor });
  }

  /** The effective timings. */
  get timings(): LeaseTimings {
    return this.#timings;
  }

  /** Leases currently held by this process. */
  get held(): number {
    return this.#held.size;
  }

  /**
   * One attempt to take `queue`'s lease (no retries).
   *
   * @returns the lease, or `null` when another owner holds it.
   * @throws ApfError `APF_ERR_REDIS` when Redis cannot be reached or answers with an error.
   */
  async tryAcquire(queue: string): Promise<Lease | null> {
    const leaseKey = this.#keys.queueLease(queue);
    const startedAt = performance.now();
    let lock: Lock;
    try {
      lock = await this.#redlock.acquire([leaseKey], this.#timings.ttlMs);
    } catch (err) {
      const { kind, cause } = await classifyRedlockError(err);
      if (kind === 'locked') return null;
      throw new ApfError('APF_ERR_REDIS', `cannot acquire the lease of queue ${queue}: ${messageOf(cause)}`, { cause, details: { queue } });
    }
    let reply: unknown;
    try {
      reply = await runScript(
        this.#redis,
        'apfLeaseFence',
        [leaseKey, this.#keys.queueFence(queue), this.#keys.queueState(queue)],
        [lock.value, String(fenceSeed(this.#now()))],
      );
    } catch (err) {
      await lock.release().catch(() => undefined);
      throw new ApfError('APF_ERR_REDIS', `cannot take a fencing token for queue ${queue}: ${messageOf(err)}`, { cause: err, details: { queue } });
    }
    if (reply === -1) {
      // The key expired between the two calls (a TTL shorter than the round trip): not ours.
      this.#log.warn({ queue }, 'lease expired before its token was taken');
      return null;
    }
    const [tokenText, lastAtText] = Array.isArray(reply) ? (reply as unknown[]) : [];
    const token = Number(tokenText);
    const lastCommitAt = Number(lastAtText);
    if (!Number.isSafeInteger(token) || token <= 0 || !Number.isSafeInteger(lastCommitAt) || lastCommitAt < 0) {
      await lock.release().catch(() => undefined);
      throw new ApfError('APF_ERR_REDIS', `queue ${queue}: the fence script returned ${JSON.stringify(reply)}`, { details: { queue } });
    }
    // `fence`, not `token`: the logger redacts every field named token (secrets).
    const log = this.#log.child({ queue, fence: token });
    const lease = new HeldLease(queue, token, lastCommitAt, lock, startedAt, this.#timings, log, (l) => this.#held.delete(l));
    this.#held.add(lease);
    this.#log.debug({ queue, fence: token, owner: this.#owner }, 'lease acquired');
    return lease;
  }

  /** Releases every lease still held (each release is value-checked and never throws). */
  async close(): Promise<void> {
    await Promise.all([...this.#held].map((l) => l.release()));
  }
}
