/**
 * The per-queue lease that lets exactly one instance run a queue's cycle, with a fencing token
 * (coordination.md §2.4, §2.5, §3.3, §3.5; docs/decisions.md "Lease: redlock fork + fencing token").
 *
 * Acquire is one redlock attempt on the queue's lease key (no retries: a held lease means "skip
 * this slot"), followed by one Lua script that hands out the token (for a cycle, the same script
 * also claims the cycle's scheduler slot: `tryAcquireAndClaim`). Three layers then keep a
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
import { Redlock, type Lock } from '@sesamecare-oss/redlock';
import type { Redis } from 'ioredis';
import { ApfError, describeError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { Keys } from './keys.ts';
import { classifyRedlockError, HeldLease } from './held-lease.ts';
import { runScript } from './lua/queue-scripts.ts';
import { parseSlotRecord, type ClaimResult } from './queue-state.ts';

export { classifyRedlockError, type RedlockFailure } from './held-lease.ts';

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

/** The scheduler slot a cycle claims together with its lease's token ({@link QueueLeases.tryAcquireAndClaim}). */
export interface SlotClaim {
  /** The scheduler slot (epoch ms). */
  readonly slot: number;
  /** The claiming process (its owner id), recorded in the slot record. */
  readonly owner: string;
  /** TTL of the slot record, seconds (rounded up, at least 1). */
  readonly ttlS: number;
}

/** A lease taken for a cycle, with the result of its slot claim. */
export interface ClaimedLease extends Lease {
  /** `claimed`, or why not: the slot's existing record, or the queue is paused (nothing written). */
  readonly claim: ClaimResult;
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

/**
 * The slot claim part of the token script's reply.
 *
 * @throws ApfError `APF_ERR_REDIS` when the reply is not one the script gives or the existing
 *   record is not a valid slot record.
 */
function claimResult(queue: string, slotKey: string, status: unknown, existing: unknown): ClaimResult {
  if (status === 'claimed') return { claimed: true };
  if (status === 'paused') return { claimed: false, paused: true };
  if (status === 'taken' && typeof existing === 'string') return { claimed: false, existing: parseSlotRecord(existing, slotKey) };
  throw new ApfError('APF_ERR_REDIS', `queue ${queue}: unexpected slot claim reply ${JSON.stringify([status, existing])}`, { details: { queue } });
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
  tryAcquire(queue: string): Promise<Lease | null> {
    return this.#acquire(queue, undefined);
  }

  /**
   * {@link QueueLeases.tryAcquire} for a cycle: the script that hands out the token also claims
   * the cycle's scheduler slot with it (one round trip for both), unless the queue is paused.
   *
   * @returns the lease with the claim's result, or `null` when another owner holds the lease.
   * @throws ApfError `APF_ERR_REDIS` when Redis cannot be reached or answers with an error, or the
   *   slot's existing record is not a valid one.
   */
  async tryAcquireAndClaim(queue: string, claim: SlotClaim): Promise<ClaimedLease | null> {
    return (await this.#acquire(queue, claim)) as ClaimedLease | null;
  }

  /** redlock acquire, then the token script (which also claims the slot when `claim` is given). */
  async #acquire(queue: string, claim: SlotClaim | undefined): Promise<HeldLease | null> {
    const leaseKey = this.#keys.queueLease(queue);
    const startedAt = performance.now();
    let lock: Lock;
    try {
      lock = await this.#redlock.acquire([leaseKey], this.#timings.ttlMs);
    } catch (err) {
      const { kind, cause } = await classifyRedlockError(err);
      if (kind === 'locked') return null;
      throw new ApfError('APF_ERR_REDIS', `cannot acquire the lease of queue ${queue}: ${describeError(cause)}`, { cause, details: { queue } });
    }
    const keys = [leaseKey, this.#keys.queueFence(queue), this.#keys.queueState(queue)];
    const args = [lock.value, String(fenceSeed(this.#now()))];
    if (claim !== undefined) {
      keys.push(this.#keys.queueSlot(queue, claim.slot));
      args.push(JSON.stringify(claim.owner), String(Math.floor(this.#now())), String(Math.max(1, Math.ceil(claim.ttlS))));
    }
    let reply: unknown;
    try {
      reply = await runScript(this.#redis, claim === undefined ? 'apfLeaseFence' : 'apfLeaseFenceClaim', keys, args);
    } catch (err) {
      await lock.release().catch(() => undefined);
      throw new ApfError('APF_ERR_REDIS', `cannot take a fencing token for queue ${queue}: ${describeError(err)}`, { cause: err, details: { queue } });
    }
    if (reply === -1) {
      // The key expired between the two calls (a TTL shorter than the round trip): not ours.
      this.#log.warn({ queue }, 'lease expired before its token was taken');
      return null;
    }
    const [tokenText, lastAtText, status, existing] = Array.isArray(reply) ? (reply as unknown[]) : [];
    const token = Number(tokenText);
    const lastCommitAt = Number(lastAtText);
    let claimed: ClaimResult | undefined;
    try {
      if (!Number.isSafeInteger(token) || token <= 0 || !Number.isSafeInteger(lastCommitAt) || lastCommitAt < 0) {
        throw new ApfError('APF_ERR_REDIS', `queue ${queue}: the fence script returned ${JSON.stringify(reply)}`, { details: { queue } });
      }
      if (claim !== undefined) claimed = claimResult(queue, this.#keys.queueSlot(queue, claim.slot), status, existing);
    } catch (err) {
      await lock.release().catch(() => undefined);
      throw err;
    }
    // `fence`, not `token`: the logger redacts every field named token (secrets).
    const log = this.#log.child({ queue, fence: token });
    const lease = new HeldLease(queue, token, lastCommitAt, claimed, lock, startedAt, this.#timings, log, (l) => this.#held.delete(l));
    this.#held.add(lease);
    this.#log.debug({ queue, fence: token, owner: this.#owner }, 'lease acquired');
    return lease;
  }

  /** Releases every lease still held (each release is value-checked and never throws). */
  async close(): Promise<void> {
    await Promise.all([...this.#held].map((l) => l.release()));
  }
}
