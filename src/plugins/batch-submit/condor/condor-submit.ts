/**
 * Running `condor_submit [submitargs…] <file>` with a deadline. Unlike APF (one global FIFO, no
 * timeout, an empty output hung the caller), every call runs on its own with a deadline and its
 * process group is killed when it passes, so one hung schedd never holds up another queue.
 */
import { ApfError, isApfError } from '../../../errors.ts';
import { runCommand, type CommandResult } from '../../../util/exec.ts';
import { parseSubmitOutput, submitErrorSummary } from './submit-output.ts';

/** Largest stderr/stdout text kept in error details. */
const DETAIL_CHARS = 4000;

/** Options for {@link runCondorSubmit}. */
export interface CondorSubmitOptions {
  /** The condor_submit program. @defaultValue `condor_submit` */
  readonly command?: string;
  /** `submitargs`, already split. */
  readonly args: readonly string[];
  /** Deadline in milliseconds. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Extra error details (queue…). */
  readonly context?: Readonly<Record<string, unknown>>;
}

/** What a successful condor_submit gave. */
export interface CondorSubmitResult {
  /** `<cluster>.<proc>` of every job queued. */
  readonly jobIds: readonly string[];
  readonly result: CommandResult;
}

/** The start of a long text (where condor_submit puts its ERROR lines), for error details. */
function clip(text: string): string {
  return text.length <= DETAIL_CHARS ? text : `${text.slice(0, DETAIL_CHARS)}…`;
}

/**
 * Submits `file`. Resolves with the job ids. Rejects with:
 * - `APF_ERR_SUBMIT_FAILED` when condor_submit exits non-zero (message: its `ERROR:` lines;
 *   details: `exitCode`, `stderr`, `stdout` and any job ids it printed before failing), or exits 0
 *   without any job id in its output (never guessed);
 * - `APF_ERR_COMMAND_TIMEOUT` when the deadline passed (the process group was killed; whether
 *   some pilots were queued is unknown, batch status will show them), `APF_ERR_ABORTED` when
 *   `signal` aborted, `APF_ERR_COMMAND_FAILED` when condor_submit could not be started — each
 *   re-thrown with its code kept and `context` added to its details.
 */
export async function runCondorSubmit(file: string, options: CondorSubmitOptions): Promise<CondorSubmitResult> {
  const command = options.command ?? 'condor_submit';
  const context = options.context ?? {};
  let result: CommandResult;
  try {
    result = await runCommand(command, [...options.args, file], {
      timeoutMs: options.timeoutMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (err) {
    if (isApfError(err)) {
      throw new ApfError(err.code, err.message, { cause: err, details: { ...err.details, ...context, submitFile: file } });
    }
    throw err;
  }
  if (result.exitCode !== 0) {
    let printed: string[] = [];
    try {
      printed = parseSubmitOutput(result.stdout);
    } catch {
      // the failure is what matters; unreadable ids are left out
    }
    const why = submitErrorSummary(result.stderr) || `no error text on stderr`;
    const status = result.exitCode === null ? 'was killed by a signal' : `exited ${result.exitCode}`;
    throw new ApfError('APF_ERR_SUBMIT_FAILED', `condor_submit ${status}: ${why}`, {
      details: {
        ...context,
        submitFile: file,
        command: result.command,
        exitCode: result.exitCode,
        stderr: clip(result.stderr),
        stdout: clip(result.stdout),
        jobIds: printed,
      },
    });
  }
  const jobIds = parseSubmitOutput(result.stdout);
  if (jobIds.length === 0) {
    throw new ApfError('APF_ERR_SUBMIT_FAILED', 'condor_submit exited 0: submitted but no job ids in output', {
      details: { ...context, submitFile: file, command: result.command, exitCode: 0, stdout: clip(result.stdout), stderr: clip(result.stderr) },
    });
  }
  return { jobIds, result };
}
