/**
 * The submitter every condor flavour shares (APF's `CondorBase.submit` / `retire`): build and
 * write the submit file, let the caller veto at the last moment, run condor_submit with a
 * deadline, read the job ids; retire through condor_rm. A flavour only supplies its lines around
 * the base level.
 */
import { ApfError } from '../../../errors.ts';
import type { BatchSubmitter, RetireReport, RetireRequest, SubmitContext, SubmitReport, SubmitRequest } from '../../define.ts';
import { runCondorSubmit } from './condor-submit.ts';
import type { BaseOptionValues } from './options.ts';
import { retirePilots, scheddArgs } from './retire.ts';
import { buildSubmitFile, writeSubmitFile, type FlavourLines } from './submit-file.ts';

/** The HTCondor programs run (overridable so that tests can point at fake scripts). */
export interface CondorCommands {
  /** @defaultValue `condor_submit` */
  readonly condorSubmit: string;
  /** @defaultValue `condor_rm` */
  readonly condorRm: string;
}

/** The real HTCondor programs, found on PATH. */
export const DEFAULT_CONDOR_COMMANDS: CondorCommands = Object.freeze({ condorSubmit: 'condor_submit', condorRm: 'condor_rm' });

/**
 * What a flavour gives the shared submitter: its id and its lines around the base level.
 *
 * Adding a flavour (one file `src/plugins/batch-submit/<kebab-id>.ts`): an options table extending
 * its parent level's (`BASE_OPTIONS`, `GRID_OPTIONS`, `CE_OPTIONS`) with its own keys; a function
 * giving its own lines; `headLines` = its lines followed by its parent level's (`ceHeadLines` for
 * CREAM/Nordugrid/GT2/GT5 — GT2/GT5 after their shared GRAM lines —, `gridHeadLines` for LSF/PBS,
 * only its own for SSH), or `tailLines` for EC2 (which called its parent first); `keyChain` =
 * `condorKeyChain('<its level>')`; `create` calls {@link createCondorSubmitter}. EC2 and SSH also
 * retire differently (condor_off of startds) and will wrap the returned submitter's `retire`.
 */
export interface CondorFlavourSpec extends FlavourLines {
  /** Plugin id, for logs. */
  readonly id: string;
}

/**
 * Builds a condor submitter for one queue. `commands` replaces the HTCondor programs (tests; not
 * an INI key).
 */
export function createCondorSubmitter(
  spec: CondorFlavourSpec,
  options: BaseOptionValues,
  ctx: SubmitContext,
  commands: Partial<CondorCommands> = {},
): BatchSubmitter {
  const cmds: CondorCommands = { ...DEFAULT_CONDOR_COMMANDS, ...commands };
  const queue = ctx.queue.name;
  const log = ctx.logger;
  if (ctx.queue.executable === undefined || ctx.queue.executable.trim() === '') {
    log.warn({ queue }, `${spec.id}: queue has no "executable"; every submission will fail`);
  }
  const rmArgs = scheddArgs(options.submitargs);

  async function submit(req: SubmitRequest, signal: AbortSignal): Promise<SubmitReport> {
    if (!Number.isSafeInteger(req.n) || req.n <= 0) {
      throw new ApfError('APF_ERR_SUBMIT_FAILED', `cannot submit ${req.n} pilots: n must be a positive integer`, { details: { queue, n: req.n } });
    }
    if (signal.aborted) throw new ApfError('APF_ERR_ABORTED', `${queue}: submission cancelled`, { details: { queue } });
    const file = buildSubmitFile(spec, options, ctx, req);
    await writeSubmitFile(file);
    // The last moment to veto (lease and deadline checks in a cluster): nothing has reached HTCondor yet.
    await req.beforeSubmit?.();
    const started = Date.now();
    const { jobIds } = await runCondorSubmit(file.path, {
      command: cmds.condorSubmit,
      args: options.submitargs,
      timeoutMs: options.timeout * 1000,
      signal,
      context: { queue, cycleId: req.cycleId },
    });
    if (jobIds.length !== req.n) {
      log.warn({ queue, asked: req.n, submitted: jobIds.length, jobIds }, 'condor_submit queued a different number of pilots than asked');
    }
    log.info({ queue, n: req.n, jobIds, submitFile: file.path, durationMs: Date.now() - started }, `submitted ${jobIds.length} pilots`);
    return { jobIds, submitFile: file.path };
  }

  async function retire(req: RetireRequest, signal: AbortSignal): Promise<RetireReport> {
    const report = await retirePilots(req.n, req.jobs, {
      peaceful: options.peaceful,
      killorder: options.killorder,
      command: cmds.condorRm,
      scheddArgs: rmArgs,
      timeoutMs: options.rmtimeout * 1000,
      signal,
      context: { queue },
    });
    log.info({ queue, n: req.n, removed: report.removed }, report.summary);
    return report;
  }

  return { submit, retire };
}
