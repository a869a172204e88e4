/**
 * Running `condor_q` / `condor_history` with a deadline and reading their output; shared by the
 * Condor batch status plugin and the Condor WMS status plugin. Any doubt is an error: a non-zero
 * exit, a failure notice on stderr, an empty listing with complaints on stderr, or output that
 * does not parse completely. The caller keeps its last good snapshot (or none) instead of
 * counting zero pilots (peers.md §4 items 1 and 3).
 */
import { ApfError, isApfError } from '../../../errors.ts';
import type { OptionSpec } from '../../../config/options.ts';
import { runCommand, splitArgs } from '../../../util/exec.ts';
import type { JobAd } from './classad.ts';
import { parseCondorJson } from './parse-json.ts';
import { parseCondorXml } from './parse-xml.ts';

/** The output form read from the condor tools (`-json` or `-xml`). */
export type CondorFormat = 'json' | 'xml';

/** The listing tools. */
export type CondorTool = 'condor_q' | 'condor_history';

/** Parses either form; `attributes` projects and canonicalises names. */
export function parseCondorOutput(text: string, format: CondorFormat, attributes?: readonly string[]): JobAd[] {
  const options = attributes === undefined ? {} : { attributes };
  return format === 'json' ? parseCondorJson(text, options) : parseCondorXml(text, options);
}

/**
 * An option holding verbatim command-line arguments (APF's `queryargs`), split as a shell would
 * (quotes, no expansion) when the config is loaded, so a bad quote is a located config problem.
 */
export function argsOption(doc: string): OptionSpec<readonly string[]> {
  return { kind: 'string', doc, default: [], required: false, parse: (text) => splitArgs(text) };
}

/** The schedd and pool that `-name X` / `-pool Y` in the query arguments select. */
export interface ScheddRef {
  /** `-name`: the schedd; undefined for the local one. */
  readonly name: string | undefined;
  /** `-pool`: the collector to locate it in; undefined for the local pool. */
  readonly pool: string | undefined;
}

/** Reads `-name` / `-pool` (also `--name`, any case) from query arguments. */
export function scheddOf(args: readonly string[]): ScheddRef {
  let name: string | undefined;
  let pool: string | undefined;
  for (let i = 0; i < args.length - 1; i++) {
    const flag = (args[i] ?? '').toLowerCase().replace(/^--/, '-');
    if (flag === '-name') name = args[++i];
    else if (flag === '-pool') pool = args[++i];
  }
  return { name, pool };
}

/** Source key of a schedd: `local`, or `<name>:<pool>` (either part may be empty). */
export function scheddKey(args: readonly string[]): string {
  const { name, pool } = scheddOf(args);
  return name === undefined && pool === undefined ? 'local' : `${name ?? ''}:${pool ?? ''}`;
}

/** A ClassAd string literal (`"` and `\` escaped). */
export function classAdString(s: string): string {
  return `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/**
 * The constraint selecting this factory's pilots: tagged with an APF queue and with our
 * `+APF_FACTORY`, plus the configured extra constraint if any.
 */
export function ownPilotsConstraint(factoryId: string, extra: string | undefined): string {
  const own = `MATCH_APF_QUEUE =!= UNDEFINED && APF_FACTORY =?= ${classAdString(factoryId)}`;
  return extra === undefined || extra.trim() === '' ? own : `${own} && (${extra.trim()})`;
}

/** One listing query. */
export interface CondorQuery {
  /** Which listing (decides `-allusers` and messages). */
  readonly tool: CondorTool;
  /** Executable to run (normally the tool's name, found on PATH). */
  readonly command: string;
  /** `-json` or `-xml`. */
  readonly format: CondorFormat;
  /** `-attributes` list; also the spelling of names in the parsed ads. */
  readonly attributes: readonly string[];
  /** `-constraint` expression. */
  readonly constraint: string;
  /** Verbatim extra arguments (`-name`, `-pool`…), already split. */
  readonly queryArgs: readonly string[];
  /** Deadline of the run. */
  readonly timeoutMs: number;
}

/**
 * The argument list. condor_q gets `-allusers`: since HTCondor 10 it lists only the caller's
 * own jobs by default, which once made a frontend see zero jobs (glideinWMS #275).
 */
export function condorArgs(q: CondorQuery): string[] {
  return [
    ...(q.tool === 'condor_q' ? ['-allusers'] : []),
    `-${q.format}`,
    '-attributes',
    q.attributes.join(','),
    '-constraint',
    q.constraint,
    ...q.queryArgs,
  ];
}

/** The first lines of stderr, for error messages. */
function stderrHead(stderr: string): string {
  return stderr.trim().split('\n').slice(0, 5).join(' | ').slice(0, 800);
}

/**
 * Runs one listing and parses it.
 * @throws ApfError `APF_ERR_BATCH_UNAVAILABLE` (non-zero exit, failure notice, empty output with
 * errors), `APF_ERR_BATCH_OUTPUT` (unparsable), `APF_ERR_COMMAND_TIMEOUT` (killed at the
 * deadline), `APF_ERR_COMMAND_FAILED` (not runnable), `APF_ERR_ABORTED`.
 */
export async function runCondorQuery(q: CondorQuery, signal: AbortSignal): Promise<JobAd[]> {
  const args = condorArgs(q);
  const res = await runCommand(q.command, args, { timeoutMs: q.timeoutMs, signal });
  const details = { command: res.command, exitCode: res.exitCode, stderr: stderrHead(res.stderr), durationMs: res.durationMs };
  if (res.exitCode !== 0) {
    const how = res.exitCode === null ? 'was killed by a signal' : `exited with status ${res.exitCode}`;
    throw new ApfError('APF_ERR_BATCH_UNAVAILABLE', `${q.tool} ${how}: ${details.stderr || '(no stderr)'}`, { details });
  }
  // "-- Failed to fetch ads from: <addr>" means the schedd was not read, whatever the status.
  if (res.stderr.includes('Failed to fetch ads')) {
    throw new ApfError('APF_ERR_BATCH_UNAVAILABLE', `${q.tool} could not read the schedd: ${details.stderr}`, { details });
  }
  // condor_q -json prints nothing for an empty queue; nothing *and* complaints is not that.
  if (res.stdout.trim() === '' && res.stderr.trim() !== '') {
    throw new ApfError('APF_ERR_BATCH_UNAVAILABLE', `${q.tool} printed nothing: ${details.stderr}`, { details });
  }
  try {
    return parseCondorOutput(res.stdout, q.format, q.attributes);
  } catch (err) {
    if (!isApfError(err, 'APF_ERR_BATCH_OUTPUT')) throw err;
    throw new ApfError('APF_ERR_BATCH_OUTPUT', `${q.tool}: ${err.message}`, {
      cause: err,
      details: { ...err.details, command: res.command, stderr: details.stderr },
    });
  }
}
