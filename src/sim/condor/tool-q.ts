/**
 * Simulated `condor_q` (HTCondor simulator, NOT HTCondor): the jobs in a schedd's queue, after
 * the lazy timeline has been advanced. `-xml`/`-json` print exactly what condor_q prints (through
 * classad-format.ts, including the empty forms), `-attributes` projects, `-constraint` filters
 * with the ClassAd evaluator, positional `C`, `C.P` and owner arguments select. Without
 * `-allusers` (or a selection) only the current user's jobs are shown, as in HTCondor ≥ 8.6.
 * Also `-long`, `-af` and a human-readable table.
 */
import type { Ad } from './classad-format.ts';
import { formatAdsJson, formatAdsXml } from './classad-format.ts';
import { lookupInsensitive, type ExprNode } from './classad-expr.ts';
import { AdQuery } from './query.ts';
import { autoformatValue, formatAdLong } from './long-format.ts';
import { currentUser, isUnreachable, LOCAL_SCHEDD, scheddHost, withSchedd, type ToolContext } from './schedd.ts';
import {
  isOpt,
  optValue,
  parseSelector,
  runTime,
  selectorConstraint,
  shortDate,
  sinful,
  STATUS_LETTER,
  ToolUsageError,
  tryParse,
  type JobSelector,
  type ToolResult,
} from './tool-common.ts';

const USAGE = `Usage: condor_q [options] [cluster | cluster.proc | owner]...   (apf HTCondor simulator)
	-allusers		Consider jobs from all users
	-constraint <expr>	Get information about jobs that match <expr>
	-name <name>		Name of the schedd
	-pool <host>		Use host as the central manager to query
	-xml			Display entire ClassAds in XML form
	-json			Display entire ClassAds in JSON form
	-long			Display entire ClassAds
	-attributes <a,b>	Display only these attributes (with -xml, -json, -long)
	-af <attr> ...		Print these attributes, space separated, one job per line
	-totals			Display only the totals
	-limit <n>		Show at most n jobs
`;

/** How jobs are printed. */
type Output = 'table' | 'xml' | 'json' | 'long' | 'af' | 'totals';

interface QArgs {
  output: Output;
  allUsers: boolean;
  attributes: string[] | undefined;
  af: string[];
  constraints: string[];
  selectors: JobSelector[];
  schedd: string;
  limit: number | undefined;
}

function parseArgs(args: readonly string[]): QArgs {
  const q: QArgs = { output: 'table', allUsers: false, attributes: undefined, af: [], constraints: [], selectors: [], schedd: LOCAL_SCHEDD, limit: undefined };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (!a.startsWith('-')) {
      const sel = parseSelector(a);
      if (sel === undefined) throw new ToolUsageError(`Error: unrecognized argument ${a}`);
      q.selectors.push(sel);
    } else if (isOpt(a, 'allusers', 2) || isOpt(a, 'all-users', 5)) q.allUsers = true;
    else if (isOpt(a, 'xml', 2)) q.output = 'xml';
    else if (isOpt(a, 'json', 2)) q.output = 'json';
    else if (isOpt(a, 'long', 1)) q.output = 'long';
    else if (isOpt(a, 'totals', 3)) q.output = 'totals';
    else if (isOpt(a, 'nobatch', 3) || isOpt(a, 'batch', 2)) continue; // one table layout
    else if (isOpt(a, 'attributes', 2)) q.attributes = optValue(args, i++, 'condor_q').split(',').map((s) => s.trim()).filter((s) => s !== '');
    else if (isOpt(a, 'constraint', 4)) q.constraints.push(optValue(args, i++, 'condor_q'));
    else if (isOpt(a, 'name', 1)) q.schedd = optValue(args, i++, 'condor_q');
    else if (isOpt(a, 'pool', 1)) optValue(args, i++, 'condor_q');
    else if (isOpt(a, 'limit', 3)) {
      const n = Number(optValue(args, i++, 'condor_q'));
      if (!Number.isInteger(n) || n < 0) throw new ToolUsageError(`Error: -limit requires a non-negative integer`);
      q.limit = n;
    } else if (a === '-af' || isOpt(a, 'autoformat', 5)) {
      q.output = 'af';
      while (i + 1 < args.length && !(args[i + 1] as string).startsWith('-')) q.af.push(args[++i] as string);
      if (q.af.length === 0) throw new ToolUsageError('Error: -af requires at least one attribute');
    } else throw new ToolUsageError(`Error: unrecognized argument ${a}`);
  }
  return q;
}

/** The query of a parsed command line: no node when there is no filter, `bad` when a constraint does not parse. */
function buildConstraint(q: QArgs, user: string): { node: ExprNode | undefined; bad?: string } {
  const parts: string[] = [];
  for (const c of q.constraints) {
    if (tryParse(c) === undefined) return { node: undefined, bad: c };
    parts.push(`(${c})`);
  }
  const sel = selectorConstraint(q.selectors);
  if (sel !== undefined) parts.push(`(${sel})`);
  else if (!q.allUsers && q.constraints.length === 0) parts.push(`(Owner == "${user.replaceAll('"', '\\"')}")`);
  return { node: parts.length === 0 ? undefined : tryParse(parts.join(' && ')) };
}

/** Runs condor_q. */
export async function condorQ(args: readonly string[], ctx: ToolContext): Promise<ToolResult> {
  let q: QArgs;
  try {
    q = parseArgs(args);
  } catch (err) {
    if (err instanceof ToolUsageError) return { code: 1, stdout: '', stderr: `${err.message}\n${USAGE}` };
    throw err;
  }
  const user = currentUser(ctx.env);
  const { node, bad } = buildConstraint(q, user);
  if (bad !== undefined) return { code: 1, stdout: '', stderr: `\n-- Parse error in constraint expression "${bad}"\n` };
  let stdout: string;
  try {
    stdout = await withSchedd(ctx, q.schedd, (s) => {
      const query = new AdQuery(s.host, { projection: projectionOf(q), constraint: node, now: ctx.now });
      const counts = [0, 0, 0, 0, 0, 0, 0, 0];
      // A generator, so that each ad is printed right after it is built: 100k short-lived ads
      // cost far less garbage collection than 100k ads kept until the end.
      function* ads(): Generator<Ad> {
        let shown = 0;
        for (const job of s.queue.jobs) {
          const cluster = s.queue.clusters[String(job.c)];
          const ad = cluster === undefined ? undefined : query.match(cluster, job);
          if (ad === undefined) continue;
          counts[job.s] = (counts[job.s] ?? 0) + 1;
          if (q.limit !== undefined && shown >= q.limit) continue;
          shown++;
          yield ad;
        }
      }
      return render(q, ads(), counts, s.host, ctx.now);
    });
  } catch (err) {
    if (isUnreachable(err)) {
      const host = scheddHost(q.schedd);
      return { code: 1, stdout: '', stderr: `\n-- Failed to fetch ads from: ${sinful(host)} : ${host}\nCEDAR:6001:Failed to connect to ${sinful(host)}\n\n` };
    }
    throw err;
  }
  return { code: 0, stdout, stderr: '' };
}

/** Attributes each output needs (undefined: whole ads). */
function projectionOf(q: QArgs): readonly string[] | undefined {
  switch (q.output) {
    case 'af':
      return q.af;
    case 'table':
      return TABLE_ATTRIBUTES;
    case 'totals':
      return ['JobStatus'];
    default:
      return q.attributes;
  }
}

const TABLE_ATTRIBUTES = ['ClusterId', 'ProcId', 'Owner', 'QDate', 'JobStatus', 'JobCurrentStartDate', 'JobPrio', 'Cmd', 'Args', 'Arguments'];

/** The output of `q`; `counts` is complete once `ads` has been consumed. */
function render(q: QArgs, ads: Iterable<Ad>, counts: readonly number[], host: string, now: number): string {
  const each = (f: (a: Ad) => string): string => {
    const parts: string[] = [];
    for (const a of ads) parts.push(f(a));
    return parts.join('');
  };
  switch (q.output) {
    case 'xml':
      return formatAdsXml(ads, 'condor_q');
    case 'json':
      return formatAdsJson(ads, 'condor_q');
    case 'long':
      return each((a) => `${formatAdLong(a)}\n`);
    case 'af':
      return each((a) => `${q.af.map((n) => autoformatValue(lookupInsensitive(a)(n))).join(' ')}\n`);
    case 'totals':
      each(() => '');
      return `\n${totals(counts)}\n`;
    case 'table': {
      const rows = each((a) => tableRow(a, now));
      return `\n\n-- Schedd: ${host} : ${sinful(host)} (apf HTCondor simulator)\n ID          OWNER            SUBMITTED     RUN_TIME ST PRI SIZE CMD\n${rows}\n${totals(counts)}\n`;
    }
  }
}

function totals(c: readonly number[]): string {
  const n = (i: number): number => c[i] ?? 0;
  const all = c.reduce((a, b) => a + b, 0);
  return `Total for query: ${all} jobs; ${n(4)} completed, ${n(3)} removed, ${n(1)} idle, ${n(2)} running, ${n(5)} held, ${n(7)} suspended`;
}

function tableRow(ad: Ad, now: number): string {
  const id = `${autoformatValue(ad['ClusterId'])}.${autoformatValue(ad['ProcId'])}`;
  const st = typeof ad['JobStatus'] === 'number' ? ad['JobStatus'] : 0;
  const start = ad['JobCurrentStartDate'];
  const run = st === 2 && typeof start === 'number' ? now - start : 0;
  const args = typeof ad['Args'] === 'string' ? ad['Args'] : typeof ad['Arguments'] === 'string' ? ad['Arguments'] : '';
  const cmd = `${autoformatValue(ad['Cmd']).split('/').pop() ?? ''} ${args}`.trim();
  return (
    ` ${id.padEnd(11)} ${autoformatValue(ad['Owner']).padEnd(14)} ${shortDate(Number(ad['QDate'] ?? 0))} ${runTime(run).padStart(12)} ` +
    `${STATUS_LETTER[st] ?? '?'}  ${autoformatValue(ad['JobPrio'] ?? 0).padEnd(3)} 0.0  ${cmd.slice(0, 60)}\n`
  );
}
