/**
 * Retiring pilots when the sched chain asks for a negative number (APF's `CondorBase.retire`):
 * peaceful (the default) removes nothing; otherwise the queue's pilots are sorted by submission
 * time and `condor_rm` removes |n| of them, newest or oldest first, idle or running alike.
 */
import type { BatchJob } from '../../../core/info.ts';
import { ApfError, isApfError } from '../../../errors.ts';
import { runCommand, type CommandResult } from '../../../util/exec.ts';
import type { RetireReport } from '../../define.ts';
import { submitErrorSummary } from './submit-output.ts';

/** `killorder`: which pilots go first. */
export type KillOrder = 'newest' | 'oldest';

/** HTCondor JobStatus values of pilots that are already leaving (Removed, Completed): never picked. */
const LEAVING = new Set([3, 4]);

/** Numeric order of `<cluster>.<proc>` ids. */
function compareIds(a: string, b: string): number {
  const [ac = 0, ap = 0] = a.split('.').map(Number);
  const [bc = 0, bp = 0] = b.split('.').map(Number);
  return ac - bc || ap - bp;
}

/**
 * The `n` pilots to remove: live pilots (not Removed/Completed, which APF would have picked in
 * vain) sorted by QDate, newest first for `newest` (ties: higher id first), oldest first for
 * `oldest` (ties: lower id first). Fewer when the queue has fewer.
 */
export function pickJobsToRetire(jobs: readonly BatchJob[], n: number, order: KillOrder): BatchJob[] {
  const live = jobs.filter((j) => !LEAVING.has(j.jobStatus));
  const sign = order === 'newest' ? -1 : 1;
  live.sort((a, b) => sign * (a.qdate - b.qdate || compareIds(a.id, b.id)));
  return live.slice(0, Math.max(0, n));
}

/** What condor_rm said about each requested job (formats.md §2.7). */
export interface RmOutcome {
  /** `marked for removal` (or `removed locally` with -forcex). */
  readonly removed: readonly string[];
  /** `already marked for removal`. */
  readonly alreadyRemoving: readonly string[];
  /** `not found`, or the whole queue was empty. */
  readonly notFound: readonly string[];
  /** `Permission denied to remove job`. */
  readonly denied: readonly string[];
  /** Other per-job failures (`not in X state…`). */
  readonly failed: readonly string[];
  /** Requested ids condor_rm said nothing about. */
  readonly unknown: readonly string[];
}

type Bucket = Exclude<keyof RmOutcome, 'unknown'>;

const RM_LINES: ReadonlyArray<readonly [RegExp, Bucket]> = [
  [/^Job (\d+\.\d+) marked for removal$/, 'removed'],
  [/^Job (\d+\.\d+) removed locally \(remote state unknown\)$/, 'removed'],
  [/^Job (\d+\.\d+) already marked for removal$/, 'alreadyRemoving'],
  [/^Job (\d+\.\d+) not found$/, 'notFound'],
  [/^Permission denied to remove job (\d+\.\d+)$/, 'denied'],
  [/^Job (\d+\.\d+) not in .X' state to be forcibly removed$/, 'failed'],
];

/** condor_rm's answer when the schedd has no job at all (exit 0 in current releases). */
const EMPTY_QUEUE = /There are no jobs in the queue/;

/**
 * Sorts condor_rm's per-job lines (stdout and stderr together) into an {@link RmOutcome}. Lines
 * about ids that were not requested are ignored; requested ids without a line are `unknown`.
 */
export function parseRmOutput(text: string, requested: readonly string[]): RmOutcome {
  const wanted = new Set(requested);
  const seen = new Map<string, Bucket>();
  let emptyQueue = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (EMPTY_QUEUE.test(line)) emptyQueue = true;
    for (const [re, bucket] of RM_LINES) {
      const m = re.exec(line);
      if (m !== null && wanted.has(m[1] as string) && !seen.has(m[1] as string)) seen.set(m[1] as string, bucket);
      if (m !== null) break;
    }
  }
  const out: Record<keyof RmOutcome, string[]> = { removed: [], alreadyRemoving: [], notFound: [], denied: [], failed: [], unknown: [] };
  for (const id of requested) {
    const bucket = seen.get(id) ?? (emptyQueue ? 'notFound' : 'unknown');
    out[bucket].push(id);
  }
  return out;
}

/**
 * The schedd options of `submitargs` that condor_rm must also get: `-remote X` / `-name X` become
 * `-name X`, and `-pool Y` is kept (without it a remote schedd name cannot be located).
 */
export function scheddArgs(submitargs: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < submitargs.length - 1; i++) {
    const a = submitargs[i];
    const v = submitargs[i + 1] as string;
    if (a === '-remote' || a === '-name') {
      out.push('-name', v);
      i++;
    } else if (a === '-pool') {
      out.push('-pool', v);
      i++;
    }
  }
  return out;
}

/** Options for {@link runCondorRm}. */
export interface CondorRmOptions {
  /** The condor_rm program. @defaultValue `condor_rm` */
  readonly command?: string;
  /** Schedd options ({@link scheddArgs}), put before the ids. */
  readonly scheddArgs: readonly string[];
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Extra error details (queue…). */
  readonly context?: Readonly<Record<string, unknown>>;
}

/**
 * Runs `condor_rm [-name X] [-pool Y] <ids…>` with a deadline and reads its per-job lines. A
 * non-zero exit with per-job lines is a partial result (condor_rm exits 1 when any job was not
 * found). Rejects with `APF_ERR_RETIRE_FAILED` when condor_rm said nothing usable about any job
 * (schedd unreachable…), and with the runner's code (`APF_ERR_COMMAND_TIMEOUT`,
 * `APF_ERR_ABORTED`, `APF_ERR_COMMAND_FAILED`) otherwise.
 */
export async function runCondorRm(ids: readonly string[], options: CondorRmOptions): Promise<RmOutcome> {
  const command = options.command ?? 'condor_rm';
  const context = options.context ?? {};
  let result: CommandResult;
  try {
    result = await runCommand(command, [...options.scheddArgs, ...ids], {
      timeoutMs: options.timeoutMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (err) {
    if (isApfError(err)) throw new ApfError(err.code, err.message, { cause: err, details: { ...err.details, ...context } });
    throw err;
  }
  const outcome = parseRmOutput(`${result.stdout}\n${result.stderr}`, ids);
  if (outcome.unknown.length === ids.length) {
    const why = submitErrorSummary(result.stderr) || 'no per-job result in its output';
    throw new ApfError('APF_ERR_RETIRE_FAILED', `condor_rm exited ${result.exitCode ?? 'by a signal'}: ${why}`, {
      details: { ...context, command: result.command, exitCode: result.exitCode, stdout: result.stdout.slice(0, 4000), stderr: result.stderr.slice(0, 4000) },
    });
  }
  return outcome;
}

/** The human-readable summary of a non-peaceful retire. */
export function retireSummary(asked: number, order: KillOrder, picked: number, outcome: RmOutcome): string {
  const parts = [`removed ${outcome.removed.length} ${order} of ${picked} picked (asked to retire ${asked})`];
  const lists: ReadonlyArray<readonly [string, readonly string[]]> = [
    ['already marked for removal', outcome.alreadyRemoving],
    ['not found', outcome.notFound],
    ['permission denied', outcome.denied],
    ['failed', outcome.failed],
    ['no answer', outcome.unknown],
  ];
  for (const [label, ids] of lists) if (ids.length > 0) parts.push(`${label}: ${ids.join(' ')}`);
  return parts.join('; ');
}

/** Options for {@link retirePilots}. */
export interface RetireOptions extends CondorRmOptions {
  readonly peaceful: boolean;
  readonly killorder: KillOrder;
}

/** Retires `n` of `jobs` according to `peaceful` and `killorder`. */
export async function retirePilots(n: number, jobs: readonly BatchJob[], options: RetireOptions): Promise<RetireReport> {
  if (options.peaceful) return { removed: [], summary: `peaceful: nothing removed (asked to retire ${n})` };
  const picked = pickJobsToRetire(jobs, n, options.killorder).map((j) => j.id);
  if (picked.length === 0) return { removed: [], summary: `nothing to remove: no live pilots in the queue (asked to retire ${n})` };
  const outcome = await runCondorRm(picked, options);
  return { removed: outcome.removed, summary: retireSummary(n, options.killorder, picked.length, outcome) };
}
