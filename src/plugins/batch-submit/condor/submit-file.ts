/**
 * Assembling and writing one cycle's submit file: the flavour's lines, the base lines, apf's tags,
 * the user's attributes and `queue <n>`, written atomically to `<logdir>/submit.jdl`.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MonitorSection, QueueConfig } from '../../../config/types.ts';
import { ApfError, describeError } from '../../../errors.ts';
import type { SubmitContext, SubmitRequest } from '../../define.ts';
import { condorAttributeLines, condorAttributeMapLines } from './attributes.ts';
import { baseJdlLines, logLocation, pilotTagLines, queueLine, renderJdl, type LogLocation } from './jdl.ts';
import type { BaseOptionValues } from './options.ts';

/** The submit file's name inside the log directory (overwritten every cycle, as APF). */
export const SUBMIT_FILE_NAME = 'submit.jdl';

/** A built submit file. */
export interface SubmitFile {
  readonly location: LogLocation;
  /** `<logdir>/submit.jdl`. */
  readonly path: string;
  readonly lines: readonly string[];
  /** The file content. */
  readonly text: string;
}

/**
 * The URL of the queue's monitor (APFMON): the `monitorURL` of the first of the queue's
 * `monitorsection`s that has one.
 */
export function queueMonitorUrl(queue: QueueConfig, monitors: ReadonlyMap<string, MonitorSection>): string | undefined {
  for (const name of queue.monitorsections) {
    const url = monitors.get(name)?.url?.trim();
    if (url !== undefined && url !== '') return url;
  }
  return undefined;
}

/** A flavour's own submit-file lines, fixed for the queue. */
export interface FlavourLines {
  /**
   * Lines above the base level: the concrete class's, then each parent level's (e.g. OSGCE, then
   * `+Nonessential`, then `universe`/`x509userproxy`). APF's classes added their lines before calling
   * their parent, so these come first.
   */
  readonly headLines: readonly string[];
  /**
   * Lines right after the base level, for a flavour that called its parent first (APF's
   * `CondorEC2`, whose second `executable` line must win over the base one).
   */
  readonly tailLines?: readonly string[];
}

/**
 * Builds the submit file of one submission: `flavour.headLines`, the base lines,
 * `flavour.tailLines`, apf's tags, the user's `condor_attributes` and `condor_attributes.<attr>`
 * lines, `queue <n>`. Throws `APF_ERR_CONFIG_INVALID` when the queue has no `executable`.
 */
export function buildSubmitFile(
  flavour: FlavourLines,
  options: Pick<BaseOptionValues, 'environ' | 'condor_attributes' | 'condor_attributes_map'>,
  ctx: Pick<SubmitContext, 'config' | 'factory' | 'queue'>,
  req: Pick<SubmitRequest, 'n' | 'cycleId' | 'instance' | 'now'>,
): SubmitFile {
  const { queue, factory } = ctx;
  const executable = queue.executable?.trim();
  if (executable === undefined || executable === '') {
    throw new ApfError('APF_ERR_CONFIG_INVALID', `queue ${queue.name} has no "executable": nothing to submit`, {
      details: { queue: queue.name, file: queue.location.file, line: queue.location.line },
    });
  }
  const location = logLocation(factory.baseLogDir, factory.baseLogDirUrl, queue.name, req.now);
  const lines = [
    ...flavour.headLines,
    ...baseJdlLines({
      queue: queue.name,
      log: location,
      factoryId: factory.factoryId,
      factoryAdminEmail: factory.factoryAdminEmail,
      factoryUser: factory.factoryUser,
      monitorUrl: queueMonitorUrl(queue, ctx.config.monitors),
      environ: options.environ,
      executable,
      arguments: queue.arguments,
    }),
    ...(flavour.tailLines ?? []),
    ...pilotTagLines({
      factoryId: factory.factoryId,
      cycleId: req.cycleId,
      ...(req.instance === undefined ? {} : { instance: req.instance }),
    }),
    ...condorAttributeLines(options.condor_attributes),
    ...condorAttributeMapLines(options.condor_attributes_map),
    queueLine(req.n),
  ];
  return { location, path: join(location.dir, SUBMIT_FILE_NAME), lines, text: renderJdl(lines) };
}

/**
 * Writes the submit file: creates the log directory (recursively), writes a temporary file beside
 * the target and renames it over `submit.jdl`, so that a reader (condor_submit of an earlier
 * cycle, the log server) never sees a half-written file. Throws `APF_ERR_SUBMIT_FAILED` when the
 * directory or file cannot be written.
 */
export async function writeSubmitFile(file: SubmitFile): Promise<void> {
  const tmp = `${file.path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await mkdir(file.location.dir, { recursive: true });
    await writeFile(tmp, file.text, { encoding: 'utf8', mode: 0o644 });
    await rename(tmp, file.path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new ApfError('APF_ERR_SUBMIT_FAILED', `cannot write the submit file ${file.path}: ${describeError(err)}`, {
      cause: err,
      details: { submitFile: file.path },
    });
  }
}
