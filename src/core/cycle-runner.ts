/**
 * One dispatched queue cycle in a cluster (coordination.md §3.3): freshness → lease with fencing
 * token and, in the same script, the slot claim with the pause check → shared views → the pure
 * decision → submit under self-fencing → fenced commit that also releases the lease. Redis, clocks and logging are
 * reached through the small ports below, so the protocol is testable with real Redis and
 * readable in one place.
 */
import { describeError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import type { CycleRecord } from '../coordination/records.ts';
import { executeDecision, type CycleOutcome } from './execute.ts';
import type { BatchJob, BatchSnapshot, WmsSnapshot } from './info.ts';
import { decide, type Decision } from './pipeline.ts';
import type { QueueRuntime } from './queue-runtime.ts';
import type { SourceView } from './source-view.ts';

/** The slot claim made with the lease's token: claimed, or why not (src/coordination/queue-state.ts). */
export type SlotClaimResult =
  | { claimed: true }
  | { claimed: false; existing: { token: number; owner: string; phase: string } }
  | { claimed: false; paused: true };

/** A queue lease held for a cycle, with its slot claim (src/coordination/lease.ts). */
export interface LeasePort {
  readonly token: number;
  readonly value: string;
  /** End (epoch ms) of the queue's last committed cycle when the lease was taken; 0 when none. */
  readonly lastCommitAt: number;
  readonly signal: AbortSignal;
  /** The cycle's scheduler slot, claimed by the script that handed out the token. */
  readonly claim: SlotClaimResult;
  assertValid(): void;
  release(): Promise<void>;
  /** The commit deleted the lease key: ends the lease without a round trip. */
  markReleased(): Promise<void>;
}

/** The queue state store (src/coordination/queue-state.ts). */
export interface StatePort {
  /**
   * The fenced commit; it also marks the slot submitted when `record.jobIds` is not empty, and
   * records `pilots` in their batch source's contributions whatever the fence says.
   */
  commit(
    queue: string,
    lease: { token: number; value: string },
    record: CycleRecord,
    opts?: { releaseLease?: boolean; pilots?: { source: string; n: number; at: number } },
  ): Promise<{ ok: true } | { ok: false; reason: 'stale-token' | 'lease-lost' }>;
  bumpStat(queue: string, stat: 'skippedStale' | 'skippedBusy' | 'skippedPaused' | 'fenced'): Promise<void>;
}

/** A queue as the runner knows it: its runtime plus where its data comes from. */
export interface RunnableQueue extends QueueRuntime {
  /** Cycle period, ms. */
  readonly intervalMs: number;
  /** Cluster id of the batch source this queue submits into and is counted in. */
  readonly batchSource: string;
}

/** Everything a cycle needs from the daemon. */
export interface CycleDeps {
  readonly instanceId: string;
  readonly owner: string;
  readonly configHash: () => string;
  readonly queue: (name: string) => RunnableQueue | undefined;
  /** One attempt at the queue's lease; the token script also claims `claim.slot` (TTL in seconds). */
  readonly tryLease: (queue: string, claim: { slot: number; owner: string; ttlS: number }) => Promise<LeasePort | null>;
  readonly state: StatePort;
  /** The shared WMS view of a queue (undefined: the queue has no WMS plugin). */
  readonly wmsView: (q: RunnableQueue, signal: AbortSignal) => Promise<SourceView<WmsSnapshot> | undefined>;
  /**
   * The cluster-wide batch view of a queue and the pilots this instance can retire; with
   * `notBefore` (epoch ms) from counts read at or after that time.
   */
  readonly batchView: (q: RunnableQueue, notBefore?: number) => Promise<{ view: SourceView<BatchSnapshot>; jobs: readonly BatchJob[] }>;
  readonly maxPerFactory: () => number | undefined;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Called with every finished record (metrics, heartbeat's lastCycleAt). */
  readonly onRecord?: (record: CycleRecord) => void;
  /** Called for every skip (metrics). */
  readonly onSkip?: (queue: string, why: SkipReason) => void;
}

/**
 * A previous cycle committed less than this long ago (ms) may have submitted after the batch
 * counts this instance has cached were read: the cycle then reads them afresh. Covers the counts'
 * cache period (about a second) plus clock differences between instances.
 */
export const RECENT_COMMIT_MS = 10_000;

/** Why a dispatched cycle did nothing. */
export type SkipReason = 'stale' | 'busy' | 'paused' | 'unknown-queue' | 'slot-taken';

/** The small JSON result a BullMQ job completes with. */
export type CycleSummary =
  | { readonly status: 'skipped'; readonly reason: SkipReason; readonly queue: string; readonly slot: number }
  | { readonly status: CycleRecord['outcome']; readonly queue: string; readonly slot: number; readonly token: number; readonly submitted: number };

/** Runs the cycle of `queue` for scheduler slot `slot` (epoch ms). Never throws. */
export async function runCycle(deps: CycleDeps, queueName: string, slot: number, jobSignal?: AbortSignal): Promise<CycleSummary> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const log = deps.logger.child({ queue: queueName, slot });
  const skip = async (reason: SkipReason, stat?: 'skippedStale' | 'skippedBusy' | 'skippedPaused'): Promise<CycleSummary> => {
    log.info({ reason }, 'cycle skipped');
    deps.onSkip?.(queueName, reason);
    if (stat !== undefined) await deps.state.bumpStat(queueName, stat).catch((err: unknown) => log.warn({ err: describeError(err) }, 'stat not recorded'));
    return { status: 'skipped', reason, queue: queueName, slot };
  };

  const q = deps.queue(queueName);
  if (q === undefined) return skip('unknown-queue');
  // 1. freshness: a late cycle (stall re-run, backlog after an outage) is a no-op
  if (startedAt - slot > q.intervalMs / 2) return skip('stale', 'skippedStale');
  try {
    // 2. lease with fencing token: one attempt, held elsewhere = busy. The token script also
    // claims the slot, which is ours only once (a previous owner that died mid-cycle may have
    // submitted), and reads the cluster-wide pause flag.
    const lease = await deps.tryLease(queueName, { slot, owner: deps.owner, ttlS: Math.ceil((3 * q.intervalMs) / 1000) });
    if (lease === null) return await skip('busy', 'skippedBusy');
    try {
      return await leased(deps, q, slot, lease, startedAt, log, jobSignal, skip);
    } finally {
      await lease.release();
    }
  } catch (err) {
    // Redis unreachable etc.: nothing was submitted by this path (submission errors are caught inside)
    log.error({ err: describeError(err) }, 'cycle aborted');
    return { status: 'failed', queue: queueName, slot, token: 0, submitted: 0 };
  }
}

async function leased(
  deps: CycleDeps,
  q: RunnableQueue,
  slot: number,
  lease: LeasePort,
  startedAt: number,
  log: Logger,
  jobSignal: AbortSignal | undefined,
  skip: (reason: SkipReason, stat?: 'skippedPaused') => Promise<CycleSummary>,
): Promise<CycleSummary> {
  const now = deps.now ?? Date.now;
  const queue = q.queue.name;
  const fence = { token: lease.token, value: lease.value };
  const cycleId = `${queue}:${slot}:${lease.token}`;
  const clog = log.child({ fence: lease.token });
  // 3. the slot claim made with the token (a paused queue claims nothing)
  const claim = lease.claim;
  if (!claim.claimed && 'paused' in claim) return skip('paused', 'skippedPaused');
  if (!claim.claimed) {
    clog.warn({ existing: claim.existing }, 'slot already claimed by an earlier holder: skipping it (err towards under-submission)');
    deps.onSkip?.(queue, 'slot-taken');
    return { status: 'skipped', reason: 'slot-taken', queue, slot };
  }
  const signal = jobSignal === undefined ? lease.signal : AbortSignal.any([lease.signal, jobSignal]);
  // 4. views and the pure decision. The lease was acquired after the previous holder recorded its
  // submission; counts read before that (the cache) would miss its pilots and submit them again.
  const leasedAt = now();
  const recent = lease.lastCommitAt > 0 && leasedAt - lease.lastCommitAt < RECENT_COMMIT_MS;
  const [wms, batch] = await Promise.all([deps.wmsView(q, signal), deps.batchView(q, recent ? leasedAt : undefined)]);
  const decision = decide({ queue: q.queue, chain: q.chain, views: { wms, batch: batch.view }, maxPerFactory: deps.maxPerFactory(), now: now() });
  // 5. act, re-checking the lease and its local deadline immediately before the batch system is contacted
  let contacted = false;
  const outcome = await executeDecision(q, decision, {
    cycleId,
    instance: deps.instanceId,
    now: new Date(now()),
    signal,
    jobs: batch.jobs,
    submit: true,
    beforeSubmit: () => {
      lease.assertValid();
      contacted = true;
    },
  });
  // The pilots to count as submitted until the next poll of their schedd: every instance counts
  // them from the commit on, so the next holder does not submit them again.
  let pilots = outcome.jobIds.length;
  if (pilots === 0 && contacted && decision.submit > 0 && outcome.errorCode !== null && UNKNOWN_OUTCOME.has(outcome.errorCode)) {
    // condor_submit was killed (lease lost, deadline): it may have queued the pilots before it
    // died. Count them as submitted until the next poll of the schedd tells (err towards
    // under-submission); uncounted, the next holder would submit them a second time.
    clog.warn({ cycle: cycleId, n: decision.submit, err: outcome.error }, 'submission interrupted: its pilots count as submitted until the next batch poll');
    pilots = decision.submit;
  }
  // 6. fenced commit
  const record = toRecord(deps, q, slot, lease.token, cycleId, startedAt, now(), decision, outcome);
  // The commit is the cycle's last write: it also records the pilots in the batch source's
  // contributions (first, whatever the fence says), marks the slot submitted and deletes the
  // lease key (value-checked).
  const committed = await deps.state
    .commit(queue, fence, record, { releaseLease: true, ...(pilots > 0 ? { pilots: { source: q.batchSource, n: pilots, at: now() } } : {}) })
    .catch((err: unknown) => {
      if (pilots > 0) clog.error({ err: describeError(err), n: pilots, jobs: outcome.jobIds }, 'commit failed: the submitted pilots are not recorded');
      throw err;
    });
  if (!committed.ok) {
    clog.error(
      { reason: committed.reason, cycle: cycleId, jobs: outcome.jobIds },
      'state write rejected by the fence: this process lost the queue mid-cycle (its pilots carry the cycle tag)',
    );
    await deps.state.bumpStat(queue, 'fenced').catch(() => undefined);
    const fenced: CycleRecord = { ...record, outcome: 'fenced' };
    deps.onRecord?.(fenced);
    return { status: 'fenced', queue, slot, token: lease.token, submitted: outcome.jobIds.length };
  }
  await lease.markReleased();
  deps.onRecord?.(record);
  clog.info(
    { outcome: record.outcome, n: record.n, submit: record.submit, jobs: record.jobIds.length, blocked: record.blocked, msg: record.msg },
    'cycle done',
  );
  return { status: record.outcome, queue, slot, token: lease.token, submitted: record.jobIds.length };
}

/** Submit errors after which pilots may or may not have been queued. */
const UNKNOWN_OUTCOME: ReadonlySet<string> = new Set(['APF_ERR_ABORTED', 'APF_ERR_COMMAND_TIMEOUT']);

function toRecord(
  deps: CycleDeps,
  q: RunnableQueue,
  slot: number,
  token: number,
  cycleId: string,
  startedAt: number,
  at: number,
  d: Decision,
  o: CycleOutcome,
): CycleRecord {
  return {
    queue: q.queue.name,
    slot,
    token,
    cycleId,
    instance: deps.instanceId,
    owner: deps.owner,
    startedAt,
    at,
    durationMs: at - startedAt,
    lagMs: startedAt - slot,
    outcome: o.outcome,
    n: d.n,
    submit: d.submit,
    msg: d.msg,
    steps: d.steps,
    blocked: d.blocked ?? (o.errorCode === 'APF_ERR_LEASE_LOST' ? o.error : null),
    inputs: {
      ready: d.input.wms?.ready ?? null,
      pending: d.input.batch?.pending ?? null,
      running: d.input.batch?.running ?? null,
      siteStatus: d.input.site?.status ?? null,
    },
    jobIds: o.jobIds,
    removed: o.removed,
    error: o.error,
    configHash: deps.configHash(),
  };
}
