/**
 * Carrying out a decision: submit (n > 0) or retire (n < 0) through the queue's submitter, with
 * the cycle's abort signal. Every failure is caught and recorded in the outcome: one queue's
 * failure never reaches another queue.
 */
import { describeError } from '../errors.ts';
import type { BatchJob } from './info.ts';
import type { Decision } from './pipeline.ts';
import type { QueueRuntime } from './queue-runtime.ts';

/** How a cycle ended. */
export type CycleOutcomeKind = 'submitted' | 'retired' | 'nothing' | 'blocked' | 'failed' | 'planned';

/** The record of one queue cycle. */
export interface CycleOutcome {
  readonly queue: string;
  /** `<queue>:<slot>:<token>` (stamped on every pilot as +APF_CYCLE). */
  readonly cycleId: string;
  readonly decision: Decision;
  readonly outcome: CycleOutcomeKind;
  /** Ids of pilots submitted. */
  readonly jobIds: readonly string[];
  /** Ids of pilots removed by a retire. */
  readonly removed: readonly string[];
  /** Submit/retire error, or null. */
  readonly error: string | null;
  /** Error code of `error`, when coded. */
  readonly errorCode: string | null;
  readonly startedAt: number;
  readonly durationMs: number;
}

/** Options for {@link executeDecision}. */
export interface ExecuteOptions {
  readonly cycleId: string;
  readonly instance?: string;
  readonly now: Date;
  readonly signal: AbortSignal;
  /** This queue's pilots (retire picks from them). */
  readonly jobs: readonly BatchJob[];
  /** Called immediately before contacting the batch system (lease check in a cluster). */
  readonly beforeSubmit?: () => void | Promise<void>;
  /** False: decide only (`apf plan`). */
  readonly submit: boolean;
}

/** Executes `decision` for `rt`; never rejects. */
export async function executeDecision(rt: QueueRuntime, decision: Decision, opts: ExecuteOptions): Promise<CycleOutcome> {
  const startedAt = Date.now();
  const base = { queue: rt.queue.name, cycleId: opts.cycleId, decision, startedAt };
  const done = (
    outcome: CycleOutcomeKind,
    extra: Partial<Pick<CycleOutcome, 'jobIds' | 'removed' | 'error' | 'errorCode'>> = {},
  ): CycleOutcome => ({
    ...base,
    outcome,
    jobIds: extra.jobIds ?? [],
    removed: extra.removed ?? [],
    error: extra.error ?? null,
    errorCode: extra.errorCode ?? null,
    durationMs: Date.now() - startedAt,
  });
  if (!opts.submit) return done('planned');
  if (decision.blocked !== null && decision.submit === 0) return done('blocked');
  if (decision.submit === 0) return done('nothing');
  try {
    if (decision.submit > 0) {
      const report = await rt.submitter.submit(
        {
          n: decision.submit,
          cycleId: opts.cycleId,
          now: opts.now,
          ...(opts.instance === undefined ? {} : { instance: opts.instance }),
          ...(opts.beforeSubmit === undefined ? {} : { beforeSubmit: opts.beforeSubmit }),
        },
        opts.signal,
      );
      return done('submitted', { jobIds: report.jobIds });
    }
    const report = await rt.submitter.retire({ n: -decision.submit, jobs: opts.jobs, now: opts.now }, opts.signal);
    return done('retired', { removed: report.removed });
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : null;
    return done('failed', { error: describeError(err), errorCode: code });
  }
}
