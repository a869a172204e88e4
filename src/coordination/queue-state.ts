/**
 * A queue's state in Redis: the last cycle and its history, the slot idempotency records, the
 * pause flag and counters (key names: keys.ts).
 *
 * Every write that a cycle makes is **fenced**: one Lua script checks, atomically with the write,
 * that the lease key still holds the caller's lock value and that no higher fencing token has
 * been seen, and writes nothing otherwise (coordination.md §2.4). One script call per fenced write
 * and pipelined reads keep a cycle's Redis traffic small: acquire (redlock), token with the slot
 * claim (lease.ts) and this commit, which also records the submitted pilots in the batch source's
 * contributions (unfenced: they exist either way), marks the slot submitted and releases the
 * lease: three commands plus renewals. Pause and the skip counters are administrative writes and
 * are not fenced.
 */
import type { Redis } from 'ioredis';
import { ApfError, isApfError } from '../errors.ts';
import { submittedMember, SUBMITTED_TTL_MS } from './contributions-codec.ts';
import type { Keys } from './keys.ts';
import { runScript } from './lua/queue-scripts.ts';
import type { CycleRecord } from './records.ts';

/** The idempotency record of one (queue, slot). */
export interface SlotRecord {
  /** Token of the lease that claimed the slot. */
  readonly token: number;
  /** The owner (process) that claimed it. */
  readonly owner: string;
  /** `planned` once claimed, `submitted` after the submit, `done` when committed. */
  readonly phase: 'planned' | 'submitted' | 'done';
  /** Time of the last change, epoch ms. */
  readonly at: number;
  /** Pilots submitted (phase `submitted`). */
  readonly n?: number;
  /** Their job ids (phase `submitted`). */
  readonly jobIds?: readonly string[];
}

/** What a fenced write needs from the lease. */
export interface LeaseRef {
  /** The lease's fencing token. */
  readonly token: number;
  /** The lock value in the lease key. */
  readonly value: string;
}

/** Why the fence rejected a write. */
export type FenceRejection = 'stale-token' | 'lease-lost';

/** Pilots a cycle submitted (or may have), recorded by {@link QueueState.commit} into the batch source's contributions. */
export interface CommitPilots {
  /** Cluster id of the batch source they went into. */
  readonly source: string;
  /** How many. */
  readonly n: number;
  /** When (epoch ms). */
  readonly at: number;
}

/** Options of {@link QueueState.commit}. */
export interface CommitOptions {
  /** Also delete the lease key (it holds the caller's value: checked first). @defaultValue false */
  readonly releaseLease?: boolean;
  /**
   * Pilots to record as submitted into their batch source (the entry ContributionStore.readAll
   * reads, member `<queue>\t<cycleId>\t<n>`), written whether or not the fence accepts the commit:
   * the pilots exist either way. @defaultValue none
   */
  readonly pilots?: CommitPilots;
}

/** Result of {@link QueueState.commit}. */
export type CommitResult = { ok: true } | { ok: false; reason: FenceRejection };

/** Result of a slot claim (made with the lease's token: lease.ts `tryAcquireAndClaim`). */
export type ClaimResult = { claimed: true } | { claimed: false; existing: SlotRecord } | { claimed: false; paused: true };

/** The unfenced counters {@link QueueState.bumpStat} may change. */
export type QueueStat = 'skippedStale' | 'skippedBusy' | 'skippedPaused' | 'fenced';

/** Options for {@link QueueState}. */
export interface QueueStateOptions {
  /** Cycle records kept per queue (`cluster.history`). */
  history: number;
}

function corrupt(what: string, key: string, cause?: unknown): ApfError {
  return new ApfError('APF_ERR_REDIS', `${what} at ${key} is not a valid record`, { cause, details: { key } });
}

/**
 * Parses a stored CycleRecord (minimal shape check).
 *
 * @throws ApfError `APF_ERR_REDIS` when the text is not such a record.
 */
export function parseCycleRecord(text: string, key = '(value)'): CycleRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw corrupt('the cycle record', key, err);
  }
  const r = value as Partial<CycleRecord> | null;
  if (typeof r !== 'object' || r === null || typeof r.queue !== 'string' || typeof r.token !== 'number' || typeof r.outcome !== 'string') {
    throw corrupt('the cycle record', key);
  }
  return r as CycleRecord;
}

/**
 * Parses a stored SlotRecord (minimal shape check).
 *
 * @throws ApfError `APF_ERR_REDIS` when the text is not such a record.
 */
export function parseSlotRecord(text: string, key = '(value)'): SlotRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw corrupt('the slot record', key, err);
  }
  const r = value as Partial<SlotRecord> | null;
  const phases: readonly unknown[] = ['planned', 'submitted', 'done'];
  if (typeof r !== 'object' || r === null || typeof r.token !== 'number' || typeof r.owner !== 'string' || !phases.includes(r.phase) || typeof r.at !== 'number') {
    throw corrupt('the slot record', key);
  }
  return r as SlotRecord;
}

/** Runs `fn`, turning a client error into ApfError `APF_ERR_REDIS` (ApfErrors pass through). */
async function redisCall<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isApfError(err)) throw err;
    throw new ApfError('APF_ERR_REDIS', `${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Unwraps a pipeline's `[error, value]` pairs. */
function pipelineValues(what: string, results: Array<[Error | null, unknown]> | null): unknown[] {
  if (results === null) throw new ApfError('APF_ERR_REDIS', `${what}: the pipeline was discarded`);
  return results.map(([err, value]) => {
    if (err !== null) throw new ApfError('APF_ERR_REDIS', `${what}: ${err.message}`, { cause: err });
    return value;
  });
}

/** Reads and writes queue state for one cluster prefix. */
export class QueueState {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #history: number;
  readonly #now: () => number;

  /** @param now - wall clock for `at` / `pausedAt` fields (epoch ms). */
  constructor(redis: Redis, keys: Keys, opts: QueueStateOptions, now: () => number = Date.now) {
    if (!Number.isInteger(opts.history) || opts.history < 1) {
      throw new ApfError('APF_ERR_CONFIG_INVALID', `cluster.history must be a positive integer (got ${opts.history})`);
    }
    this.#redis = redis;
    this.#keys = keys;
    this.#history = opts.history;
    this.#now = now;
  }

  /**
   * Fenced commit of a finished cycle: requires `GET lease == lease.value` and
   * `token >= state.fence`; then sets `fence` = token, `last` = record and `lastAt` = record.at
   * (read back by the next lease holder, lease.ts), pushes the record on the
   * history (capped at `history`), and counts the cycle and its submitted pilots
   * (`record.jobIds.length`); when the cycle submitted pilots, turns the slot record of
   * `record.slot` claimed under this token into phase `submitted` with their count and job ids
   * (TTL kept; a missing record or one of another token is left alone); with `releaseLease`,
   * also deletes the lease key (it holds our value: checked first), so the holder ends its lease
   * with {@link Lease.markReleased} and no round trip. Nothing is written when it rejects, except
   * `pilots`: recorded first, whatever the fence says (an entry of the batch source's submitted
   * zset, so every instance counts them before the next poll).
   *
   * @throws ApfError `APF_ERR_REDIS` when Redis fails, `APF_ERR_USAGE` for `pilots` that cannot be
   * recorded (bad source or queue name, count or time); then nothing is written.
   */
  async commit(queue: string, lease: LeaseRef, record: CycleRecord, opts: CommitOptions = {}): Promise<CommitResult> {
    const k = this.#keys;
    const p = opts.pilots;
    const member = p === undefined ? '' : submittedMember(p.source, queue, record.cycleId, p.n, p.at);
    const reply = await redisCall(`queue ${queue}: commit`, () =>
      runScript(
        this.#redis,
        'apfCommitCycle',
        [
          k.queueLease(queue),
          k.queueState(queue),
          k.queueHistory(queue),
          k.queueStats(queue),
          k.queueSlot(queue, record.slot),
          // a key of the queue's own when there are no pilots (the script then leaves it alone)
          p === undefined ? k.queueState(queue) : k.sourceSubmitted(p.source),
        ],
        [
          String(lease.token),
          lease.value,
          JSON.stringify(record),
          String(this.#history),
          String(record.jobIds.length),
          String(Math.floor(record.at)),
          opts.releaseLease === true ? '1' : '0',
          JSON.stringify(record.jobIds),
          member,
          p === undefined ? '0' : String(p.at),
          String(SUBMITTED_TTL_MS),
        ],
      ),
    );
    if (reply === 'ok') return { ok: true };
    if (reply === 'stale-token' || reply === 'lease-lost') return { ok: false, reason: reply };
    throw new ApfError('APF_ERR_REDIS', `queue ${queue}: unexpected commit reply ${String(reply)}`);
  }

  /** The slot record of `(queue, slot)`, or null. */
  async slot(queue: string, slot: number): Promise<SlotRecord | null> {
    const key = this.#keys.queueSlot(queue, slot);
    const text = await redisCall(`queue ${queue}: read slot ${slot}`, () => this.#redis.get(key));
    return text === null ? null : parseSlotRecord(text, key);
  }

  /** The highest fencing token the queue's state has seen (0 when none). */
  async fence(queue: string): Promise<number> {
    const text = await redisCall(`queue ${queue}: read fence`, () => this.#redis.hget(this.#keys.queueState(queue), 'fence'));
    return text === null ? 0 : Number(text);
  }

  /** The queue's last committed cycle, or null. */
  async last(queue: string): Promise<CycleRecord | null> {
    const key = this.#keys.queueState(queue);
    const text = await redisCall(`queue ${queue}: read last`, () => this.#redis.hget(key, 'last'));
    return text === null ? null : parseCycleRecord(text, key);
  }

  /** The newest `limit` committed cycles, newest first. @param limit - @defaultValue the history cap */
  async history(queue: string, limit: number = this.#history): Promise<CycleRecord[]> {
    const key = this.#keys.queueHistory(queue);
    if (limit < 1) return [];
    const texts = await redisCall(`queue ${queue}: read history`, () => this.#redis.lrange(key, 0, Math.floor(limit) - 1));
    return texts.map((t) => parseCycleRecord(t, key));
  }

  /** The last cycle of each queue, in one pipelined round trip. */
  async lastMany(queues: readonly string[]): Promise<Map<string, CycleRecord | null>> {
    const out = new Map<string, CycleRecord | null>();
    if (queues.length === 0) return out;
    const pipe = this.#redis.pipeline();
    for (const q of queues) pipe.hget(this.#keys.queueState(q), 'last');
    const values = pipelineValues('read last cycles', await redisCall('read last cycles', () => pipe.exec()));
    queues.forEach((q, i) => {
      const text = values[i];
      out.set(q, typeof text === 'string' ? parseCycleRecord(text, this.#keys.queueState(q)) : null);
    });
    return out;
  }

  /** Pauses or resumes a queue (`paused`, `pausedBy`, `pausedAt`); an admin write, not fenced. */
  async setPaused(queue: string, paused: boolean, by: string): Promise<void> {
    const key = this.#keys.queueState(queue);
    await redisCall(`queue ${queue}: set paused`, () => this.#redis.hset(key, 'paused', paused ? '1' : '0', 'pausedBy', by, 'pausedAt', String(this.#now())));
  }

  /** Whether the queue is paused. */
  async isPaused(queue: string): Promise<boolean> {
    const value = await redisCall(`queue ${queue}: read paused`, () => this.#redis.hget(this.#keys.queueState(queue), 'paused'));
    return value === '1';
  }

  /** The pause flag of each queue, in one pipelined round trip. */
  async pausedMany(queues: readonly string[]): Promise<Map<string, boolean>> {
    const out = new Map<string, boolean>();
    if (queues.length === 0) return out;
    const pipe = this.#redis.pipeline();
    for (const q of queues) pipe.hget(this.#keys.queueState(q), 'paused');
    const values = pipelineValues('read paused flags', await redisCall('read paused flags', () => pipe.exec()));
    queues.forEach((q, i) => out.set(q, values[i] === '1'));
    return out;
  }

  /** Adds `by` to one of the queue's skip/fence counters (not fenced). */
  async bumpStat(queue: string, stat: QueueStat, by = 1): Promise<void> {
    await redisCall(`queue ${queue}: count ${stat}`, () => this.#redis.hincrby(this.#keys.queueStats(queue), stat, by));
  }

  /** Every counter of the queue (`cycles`, `submitted`, the skips, `fenced`). */
  async stats(queue: string): Promise<Record<string, number>> {
    const raw = await redisCall(`queue ${queue}: read stats`, () => this.#redis.hgetall(this.#keys.queueStats(queue)));
    const out: Record<string, number> = {};
    for (const [name, value] of Object.entries(raw)) out[name] = Number(value);
    return out;
  }
}
