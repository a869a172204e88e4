/**
 * One cycle for a set of queues in a single process (`apf plan`, `apf run-once`): fetch the shared
 * status sources once, decide every queue, then submit/retire in parallel with a bound. Each queue
 * is isolated: a queue whose plugins cannot be built, whose chain throws or whose submission fails
 * gets a failed outcome and the others go on.
 */
import { describeError } from '../errors.ts';
import type { ApfConfig, QueueConfig } from '../config/types.ts';
import type { Logger } from '../logging/logger.ts';
import { mapLimit } from '../util/limit.ts';
import { executeDecision, type CycleOutcome } from './execute.ts';
import type { BatchSnapshot, WmsSnapshot } from './info.ts';
import { decide, type Decision, type QueueViews } from './pipeline.ts';
import { buildChain, buildQueueRuntime, type QueueRuntime } from './queue-runtime.ts';
import type { SourceView } from './source-view.ts';
import { StatusSources } from './status-sources.ts';

/** Fixed inputs replacing the live sources (`apf plan --wms-snapshot/--batch-snapshot`). */
export interface SnapshotInputs {
  readonly wms?: SourceView<WmsSnapshot>;
  readonly batch?: SourceView<BatchSnapshot>;
}

/** Options for {@link runQueues}. */
export interface RunQueuesOptions {
  readonly config: ApfConfig;
  readonly logger: Logger;
  readonly queues: readonly QueueConfig[];
  /** True: submit/retire; false: decide only. */
  readonly submit: boolean;
  /** Queues handled at once. @defaultValue 8 */
  readonly concurrency?: number;
  readonly signal: AbortSignal;
  readonly now?: () => number;
  readonly snapshots?: SnapshotInputs;
}

/** Runs one cycle for every queue given; resolves with one outcome per queue, in order. */
export async function runQueues(opts: RunQueuesOptions): Promise<CycleOutcome[]> {
  const now = opts.now ?? Date.now;
  const needLive = opts.snapshots?.batch === undefined || (opts.snapshots.wms === undefined && opts.queues.some((q) => q.wmsstatus));
  const sources = needLive ? new StatusSources({ config: opts.config, logger: opts.logger, queues: opts.queues, now }) : undefined;
  await sources?.refresh(opts.signal, true);
  const t = now();
  return mapLimit(opts.queues, opts.concurrency ?? 8, async (queue) => {
    const log = opts.logger.child({ queue: queue.name });
    const cycleId = `${queue.name}:${t}:0`;
    const views = viewsOf(queue, sources, opts.snapshots);
    let rt: QueueRuntime | undefined;
    let decision: Decision;
    try {
      rt = opts.submit ? buildQueueRuntime(opts.config, queue, opts.logger) : undefined;
      decision = decide({
        queue,
        chain: rt?.chain ?? buildChain(queue),
        views,
        maxPerFactory: opts.config.factory.maxPerFactory,
        now: t,
      });
    } catch (err) {
      log.error({ err: describeError(err) }, 'queue could not be set up');
      return failedOutcome(queue, cycleId, t, `queue setup failed: ${describeError(err)}`);
    }
    log.info({ n: decision.n, submit: decision.submit, blocked: decision.blocked, msg: decision.msg }, 'decision');
    if (rt === undefined) {
      return executeDecision({ queue, chain: [], submitter: unusedSubmitter }, decision, {
        cycleId,
        now: new Date(t),
        signal: opts.signal,
        jobs: [],
        submit: false,
      });
    }
    const jobs = views.batch.available ? (views.batch.snapshot.jobs.get(queue.name) ?? []) : [];
    const outcome = await executeDecision(rt, decision, { cycleId, now: new Date(t), signal: opts.signal, jobs, submit: true });
    if (outcome.error !== null) log.error({ err: outcome.error }, 'cycle failed');
    else log.info({ outcome: outcome.outcome, jobs: outcome.jobIds.length, removed: outcome.removed.length }, 'cycle done');
    return outcome;
  });
}

function viewsOf(queue: QueueConfig, sources: StatusSources | undefined, snaps: SnapshotInputs | undefined): QueueViews {
  const keys = sources?.keysOf(queue.name);
  const batch =
    snaps?.batch ?? (keys === undefined ? unavailable('none', 'no batch source') : (sources as StatusSources).batchView(keys.batch));
  let wms: SourceView<WmsSnapshot> | undefined;
  if (queue.wmsstatus !== undefined) {
    wms =
      snaps?.wms ??
      (keys?.wms === undefined ? unavailable('none', 'no WMS source') : (sources as StatusSources).wmsView(keys.wms));
  }
  return { wms, batch };
}

function unavailable<T>(key: string, reason: string): SourceView<T> {
  return { available: false, key, reason };
}

const unusedSubmitter: QueueRuntime['submitter'] = {
  submit: () => Promise.reject(new Error('plan mode does not submit')),
  retire: () => Promise.reject(new Error('plan mode does not retire')),
};

function failedOutcome(queue: QueueConfig, cycleId: string, t: number, reason: string): CycleOutcome {
  const decision: Decision = {
    queue: queue.name,
    n: 0,
    submit: 0,
    msg: '',
    steps: [],
    blocked: reason,
    input: { queue: queue.name, wms: null, site: null, batch: null, batchTotal: null, maxPerFactory: undefined },
  };
  return {
    queue: queue.name,
    cycleId,
    decision,
    outcome: 'failed',
    jobIds: [],
    removed: [],
    error: reason,
    errorCode: null,
    startedAt: t,
    durationMs: 0,
  };
}
