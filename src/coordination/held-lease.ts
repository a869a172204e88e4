/**
 * A queue lease this process holds (lease.ts hands them out): the renew loop, the deadline on the
 * monotonic clock and the abort signal, plus the classification of redlock's rejections.
 */
import { ExecutionError, ResourceLockedError, type Lock } from '@sesamecare-oss/redlock';
import { ApfError, describeError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { Lease, LeaseTimings } from './lease.ts';
import type { ClaimResult } from './queue-state.ts';

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

/** Why a held lease ended. */
type EndReason = 'lost' | 'deadline' | 'released';

/** A lease this process holds: renew loop, deadline timer and abort signal. */
export class HeldLease implements Lease {
  readonly queue: string;
  readonly token: number;
  readonly value: string;
  readonly lastCommitAt: number;
  readonly claim: ClaimResult | undefined;
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

  constructor(
    queue: string,
    token: number,
    lastCommitAt: number,
    claim: ClaimResult | undefined,
    lock: Lock,
    startedAt: number,
    timings: LeaseTimings,
    log: Logger,
    forget: (lease: HeldLease) => void,
  ) {
    this.queue = queue;
    this.token = token;
    this.lastCommitAt = lastCommitAt;
    this.claim = claim;
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
        else this.#log.warn({ error: describeError(cause) }, 'lease release failed; the key expires by its TTL');
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
      this.#log.warn({ error: describeError(cause), remainingMs: Math.round(this.remainingMs()) }, 'lease renew failed; keeping the current deadline');
    } finally {
      this.#renewing = undefined;
      this.#scheduleRenew(started);
    }
  }
}
