/**
 * Simulated `condor_history` (HTCondor simulator, NOT HTCondor): the jobs that left a schedd's
 * queue (completed, or removed), newest first, after the lazy timeline has been advanced.
 * `-xml`/`-json` print exactly what condor_history prints (extra blank lines in XML, `[\n]\n`
 * for no match), `-attributes`, `-constraint`, `-limit`/`-match N`, positional `C`, `C.P` and
 * owner arguments. Also `-long`, `-af` and a human-readable table.
 */
import type { Ad } from './classad-format.ts';
import { formatAdsJson, formatAdsXml } from './classad-format.ts';
import { lookupInsensitive } from './classad-expr.ts';
import { autoformatValue, formatAdLong } from './long-format.ts';
import { AdQuery } from './query.ts';
import { isUnreachable, LOCAL_SCHEDD, readScheddHistory, scheddHost, type ToolContext } from './schedd.ts';
import {
  isOpt,
  optValue,
  parseSelector,
  runTime,
  selectorConstraint,
  shortDate,
  STATUS_LETTER,
  ToolUsageError,
  tryParse,
  type JobSelector,
  type ToolResult,
} from './tool-common.ts';

const USAGE = `Usage: condor_history [options] [cluster | cluster.proc | owner]...   (apf HTCondor simulator)
	-constraint <expr>	Match jobs satisfying <expr>
	-limit <n> | -match <n>	Stop after n matching jobs
	-name <name>		Read the history of this schedd
	-pool <host>		Use host as the central manager to query
	-xml | -json | -long	Print whole ClassAds in that form
	-attributes <a,b>	Only these attributes
	-af <attr> ...		Print these attributes, space separated
`;

type Output = 'table' | 'xml' | 'json' | 'long' | 'af';

interface HistoryArgs {
  output: Output;
  attributes: string[] | undefined;
  af: string[];
  constraints: string[];
  selectors: JobSelector[];
  limit: number | undefined;
  schedd: string;
}

function parseArgs(args: readonly string[]): HistoryArgs {
  const h: HistoryArgs = { output: 'table', attributes: undefined, af: [], constraints: [], selectors: [], limit: undefined, schedd: LOCAL_SCHEDD };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('-')) {
      const sel = parseSelector(a);
      if (sel === undefined) throw new ToolUsageError(`Error: Argument ${a} not recognized`);
      h.selectors.push(sel);
    } else if (isOpt(a, 'xml', 2)) h.output = 'xml';
    else if (isOpt(a, 'json', 2)) h.output = 'json';
    else if (isOpt(a, 'long', 1)) h.output = 'long';
    else if (isOpt(a, 'attributes', 2)) h.attributes = optValue(args, i++, 'condor_history').split(',').map((s) => s.trim()).filter((s) => s !== '');
    else if (isOpt(a, 'constraint', 4)) h.constraints.push(optValue(args, i++, 'condor_history'));
    else if (isOpt(a, 'limit', 3) || isOpt(a, 'match', 3)) {
      const n = Number(optValue(args, i++, 'condor_history'));
      if (!Number.isInteger(n) || n < 0) throw new ToolUsageError(`Error: ${a} requires a non-negative integer`);
      h.limit = n;
    } else if (isOpt(a, 'name', 1)) h.schedd = optValue(args, i++, 'condor_history');
    else if (isOpt(a, 'pool', 1)) optValue(args, i++, 'condor_history');
    else if (a === '-af' || isOpt(a, 'autoformat', 5)) {
      h.output = 'af';
      while (i + 1 < args.length && !(args[i + 1] as string).startsWith('-')) h.af.push(args[++i] as string);
      if (h.af.length === 0) throw new ToolUsageError('Error: -af requires at least one attribute');
    } else throw new ToolUsageError(`Error: Argument ${a} not recognized`);
  }
  return h;
}

/** Runs condor_history. */
export async function condorHistory(args: readonly string[], ctx: ToolContext): Promise<ToolResult> {
  let h: HistoryArgs;
  try {
    h = parseArgs(args);
  } catch (err) {
    if (err instanceof ToolUsageError) return { code: 1, stdout: '', stderr: `${err.message}\n${USAGE}` };
    throw err;
  }
  const parts: string[] = [];
  for (const c of h.constraints) {
    if (tryParse(c) === undefined) return { code: 1, stdout: '', stderr: `Error:  could not parse constraint ${c}\n` };
    parts.push(`(${c})`);
  }
  const sel = selectorConstraint(h.selectors);
  if (sel !== undefined) parts.push(`(${sel})`);
  const node = parts.length === 0 ? undefined : tryParse(parts.join(' && '));

  let data: Awaited<ReturnType<typeof readScheddHistory>>;
  try {
    data = await readScheddHistory(ctx, h.schedd);
  } catch (err) {
    if (isUnreachable(err)) {
      return { code: 1, stdout: '', stderr: `Error: Failed to connect to schedd ${scheddHost(h.schedd)}\nCEDAR:6001:Failed to connect\n` };
    }
    throw err;
  }
  const projection = h.output === 'af' ? h.af : h.output === 'table' ? TABLE_ATTRIBUTES : h.attributes;
  const query = new AdQuery(data.host, { projection, constraint: node, now: ctx.now });
  const ads: Ad[] = [];
  const jobs = data.history.jobs;
  for (let i = jobs.length - 1; i >= 0; i--) {
    if (h.limit !== undefined && ads.length >= h.limit) break;
    const job = jobs[i];
    const cluster = job === undefined ? undefined : data.history.clusters.get(job.c);
    const ad = job === undefined || cluster === undefined ? undefined : query.match(cluster, job);
    if (ad !== undefined) ads.push(ad);
  }
  const shown = ads;
  switch (h.output) {
    case 'xml':
      return { code: 0, stdout: formatAdsXml(shown, 'condor_history'), stderr: '' };
    case 'json':
      return { code: 0, stdout: formatAdsJson(shown, 'condor_history'), stderr: '' };
    case 'long':
      return { code: 0, stdout: shown.map((a) => `${formatAdLong(a)}\n`).join(''), stderr: '' };
    case 'af':
      return { code: 0, stdout: ads.map((a) => `${h.af.map((n) => autoformatValue(lookupInsensitive(a)(n))).join(' ')}\n`).join(''), stderr: '' };
    case 'table':
      return { code: 0, stdout: table(ads), stderr: '' };
  }
}

const TABLE_ATTRIBUTES = ['ClusterId', 'ProcId', 'Owner', 'QDate', 'RemoteWallClockTime', 'JobStatus', 'CompletionDate', 'Cmd', 'Args'];

function table(ads: readonly Ad[]): string {
  const lines = [' ID          OWNER          SUBMITTED   RUN_TIME     ST  COMPLETED   CMD            (apf HTCondor simulator)'];
  for (const ad of ads) {
    const id = `${autoformatValue(ad['ClusterId'])}.${autoformatValue(ad['ProcId'])}`;
    const wall = ad['RemoteWallClockTime'];
    const secs = typeof wall === 'object' && wall !== null && 'real' in wall ? wall.real : 0;
    const st = typeof ad['JobStatus'] === 'number' ? ad['JobStatus'] : 0;
    const done = Number(ad['CompletionDate'] ?? 0);
    const cmd = `${autoformatValue(ad['Cmd'])} ${typeof ad['Args'] === 'string' ? ad['Args'] : ''}`.trim();
    lines.push(
      ` ${id.padEnd(11)} ${autoformatValue(ad['Owner']).padEnd(14)} ${shortDate(Number(ad['QDate'] ?? 0))} ${runTime(secs).padStart(11)} ${STATUS_LETTER[st] ?? '?'}   ${done > 0 ? shortDate(done) : '      ???  '} ${cmd.slice(0, 60)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
