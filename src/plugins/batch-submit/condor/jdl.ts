/**
 * The submit file (JDL) APF writes, line for line (apf-behaviour §4.3). APF built it top-down from
 * the concrete class: each class added its own lines and then called its parent, so the file reads
 * concrete-class lines, then `CondorCE`, then `CondorGrid`, then `CondorBase`, then the user's
 * `condor_attributes`, then `queue <n>`. This module holds the pure builders of the shared levels;
 * a flavour's own lines live in its plugin file and are put in front of its parent's
 * ({@link ceJdlLines} for the CE flavours, {@link gridJdlLines} for LSF/PBS, nothing for
 * Local/EC2/SSH).
 *
 * apf adds its own tags after the base lines (see {@link pilotTagLines}), before the user's
 * attributes, so that a user line can still override them.
 */
import { oneLine } from './attributes.ts';

/** Where a queue's pilot logs and submit file go on one day. */
export interface LogLocation {
  /** `<baseLogDir>/<YYYY-MM-DD>/<queue>` (no trailing `/`). */
  readonly dir: string;
  /** `<baseLogDirUrl>/<YYYY-MM-DD>/<queue>` (no trailing `/`). */
  readonly url: string;
}

/** The queue name as a path component: `/` and `:` become `_` (as APF's log directories). */
export function queueLogName(queue: string): string {
  return queue.replace(/[/:]/g, '_');
}

/** The UTC date of `now` as `YYYY-MM-DD` (APF used `time.gmtime()`). */
export function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

/** The log directory and URL of `queue` for the UTC day of `now`. */
export function logLocation(baseLogDir: string, baseLogDirUrl: string, queue: string, now: Date): LogLocation {
  const tail = `/${utcDay(now)}/${queueLogName(queue)}`;
  return { dir: baseLogDir + tail, url: baseLogDirUrl + tail };
}

/** One `key = value` line (a multi-line INI value is folded onto one line). */
export function jdlLine(key: string, value: string): string {
  return `${key} = ${oneLine(value)}`;
}

/**
 * A ClassAd string literal. Backslashes and double quotes are escaped, so that the attribute reads
 * back as exactly `value`; names without them (all real queue names) are written as APF did.
 */
export function classAdString(value: string): string {
  return `"${oneLine(value).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** What the base level (APF's `CondorBase._addJSD`) needs. */
export interface BaseJdlInput {
  /** APF queue name (section name). */
  readonly queue: string;
  readonly log: LogLocation;
  readonly factoryId: string;
  readonly factoryAdminEmail: string;
  /** `[Factory] factoryUser`; FACTORYUSER is left out when unset. */
  readonly factoryUser: string | undefined;
  /** URL of the queue's monitor; APFMON is left out when unset. */
  readonly monitorUrl: string | undefined;
  /** `batchsubmit.<level>.environ`, appended to the environment when set. */
  readonly environ: string | undefined;
  /** `executable` (pilot wrapper path). */
  readonly executable: string;
  /** `executable.arguments`, verbatim; the line is left out when unset or empty (as APF). */
  readonly arguments: string | undefined;
}

/** Present and not blank. */
function isSet(v: string | undefined): v is string {
  return v !== undefined && v.trim() !== '';
}

/**
 * The value of the `environment` line: HTCondor's double-quoted, space-separated syntax, holding
 * PANDA_JSID, GTAG (the stdout URL the PanDA monitor links to), APFCID, APFFID, APFMON (when the
 * queue has a monitor), FACTORYQUEUE, FACTORYUSER (when set) and the user's `environ`.
 */
export function pilotEnvironment(input: BaseJdlInput): string {
  const vars = [
    `PANDA_JSID=${input.factoryId}`,
    `GTAG=${input.log.url}/$(Cluster).$(Process).out`,
    'APFCID=$(Cluster).$(Process)',
    `APFFID=${input.factoryId}`,
  ];
  if (isSet(input.monitorUrl)) vars.push(`APFMON=${input.monitorUrl}`);
  vars.push(`FACTORYQUEUE=${input.queue}`);
  if (isSet(input.factoryUser)) vars.push(`FACTORYUSER=${input.factoryUser}`);
  if (isSet(input.environ)) vars.push(oneLine(input.environ).trim());
  return `"${vars.join(' ')}"`;
}

/** The base level's lines (APF's `CondorBase._addJSD`), in APF's order. */
export function baseJdlLines(input: BaseJdlInput): string[] {
  const url = `${input.log.url}/$(Cluster).$(Process)`;
  const lines = [
    jdlLine('Dir', `${input.log.dir}/`),
    jdlLine('notify_user', input.factoryAdminEmail),
    jdlLine('+MATCH_APF_QUEUE', classAdString(input.queue)),
    jdlLine('+APF_QUEUE', classAdString(input.queue)),
    jdlLine('+APF_LOGURL', classAdString(`${url}.log`)),
    jdlLine('+APF_OUTURL', classAdString(`${url}.out`)),
    jdlLine('+APF_ERRURL', classAdString(`${url}.err`)),
    jdlLine('environment', pilotEnvironment(input)),
    jdlLine('executable', input.executable),
  ];
  if (isSet(input.arguments)) lines.push(jdlLine('arguments', input.arguments));
  lines.push(
    'output = $(Dir)/$(Cluster).$(Process).out',
    'error = $(Dir)/$(Cluster).$(Process).err',
    'log = $(Dir)/$(Cluster).$(Process).log',
    'stream_output = False',
    'stream_error = False',
    'notification = Error',
    'transfer_executable = True',
  );
  return lines;
}

/**
 * The grid level's lines (APF's `CondorGrid._addJSD`): `universe = grid` and, when a proxy was
 * found, `x509userproxy`. Every grid flavour (CE flavours, LSF, PBS) puts these after its own.
 */
export function gridJdlLines(proxyPath: string | undefined): string[] {
  const lines = ['universe = grid'];
  if (proxyPath !== undefined) lines.push(jdlLine('x509userproxy', proxyPath));
  return lines;
}

/**
 * The CE level's line (APF's `CondorCE._addJSD`). The CE flavours (OSGCE, CREAM, Nordugrid, GRAM
 * → GT2/GT5) put it after their own lines and before {@link gridJdlLines}.
 */
export function ceJdlLines(): string[] {
  return ['+Nonessential = True'];
}

/** apf's own tags on every pilot. */
export interface PilotTags {
  /** `[Factory] factoryId` → `+APF_FACTORY`: lets status queries keep to this factory's pilots. */
  readonly factoryId: string;
  /** The cycle id → `+APF_CYCLE`. */
  readonly cycleId: string;
  /** The instance id → `+APF_INSTANCE` (absent in single-process use). */
  readonly instance?: string;
}

/**
 * apf's tags (not in APF): `+APF_FACTORY`, `+APF_CYCLE` and, in a cluster, `+APF_INSTANCE`. They
 * come right after the base lines and before the user's `condor_attributes`.
 */
export function pilotTagLines(tags: PilotTags): string[] {
  const lines = [jdlLine('+APF_FACTORY', classAdString(tags.factoryId)), jdlLine('+APF_CYCLE', classAdString(tags.cycleId))];
  if (tags.instance !== undefined) lines.push(jdlLine('+APF_INSTANCE', classAdString(tags.instance)));
  return lines;
}

/** The closing `queue <n>` line. */
export function queueLine(n: number): string {
  return `queue ${n}`;
}

/** The file text: one line each, newline-terminated (as Python's `print >> f, line`). */
export function renderJdl(lines: readonly string[]): string {
  return lines.map((l) => `${l}\n`).join('');
}
