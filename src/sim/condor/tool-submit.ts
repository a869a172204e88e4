/**
 * Simulated `condor_submit` (HTCondor simulator, NOT HTCondor). Reads a submit description (a
 * file, or `-`/nothing for stdin), builds the job ads, queues them in the schedd's state in one
 * transaction and prints what condor_submit prints (formats.md §2.6): `Submitting job(s)` + one
 * `.` per proc + `N job(s) submitted to cluster M.`; `-terse` `C.first - C.last`; `-verbose`
 * (implied by stdin) `** Proc C.P:` headers with the full ad. Errors are `\nERROR: …` on stderr,
 * exit 1, with condor_submit's texts.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isApfError } from '../../errors.ts';
import { buildGroupTemplate, type GroupTemplate } from './job-ad.ts';
import { formatAdLong } from './long-format.ts';
import { currentUser, isUnreachable, LOCAL_SCHEDD, withSchedd, type ToolContext } from './schedd.ts';
import type { ClusterRecord, GroupRecord, JobRecord } from './store.ts';
import { parseSubmitDescription, type QueueGroup } from './submit-file.ts';
import { isOpt, optValue, ToolUsageError, type ToolResult } from './tool-common.ts';

const USAGE = `Usage: condor_submit [options] [- | <submit-file>]   (apf HTCondor simulator)
    [options] are
	-terse			Display terse output, jobid ranges only
	-verbose		Display verbose output, jobid and full job ClassAd
	-name <name>		Submit to the specified schedd
	-remote <name>		Submit to the specified remote schedd
	-pool <host>		Use host as the central manager to query
	-spool			Spool input files (accepted, nothing to spool)
	-disable		Disable file permission checks (accepted)
`;

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EISDIR: 'Is a directory',
};

interface SubmitArgs {
  verbose: boolean;
  terse: boolean;
  schedd: string;
  file: string | undefined;
}

function parseArgs(args: readonly string[]): SubmitArgs {
  const out: SubmitArgs = { verbose: false, terse: false, schedd: LOCAL_SCHEDD, file: undefined };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '-') out.file = '-';
    else if (!a.startsWith('-')) {
      if (out.file !== undefined) throw new ToolUsageError(`condor_submit: only one submit file may be given (got "${out.file}" and "${a}")`);
      out.file = a;
    } else if (isOpt(a, 'verbose', 1)) {
      out.verbose = true;
      out.terse = false;
    } else if (isOpt(a, 'terse', 3)) {
      out.terse = true;
      out.verbose = false;
    } else if (isOpt(a, 'remote', 1) || isOpt(a, 'name', 1)) {
      out.schedd = optValue(args, i++, 'condor_submit');
    } else if (isOpt(a, 'pool', 1)) {
      optValue(args, i++, 'condor_submit'); // one simulated pool: accepted, not used
    } else if (isOpt(a, 'spool', 2) || isOpt(a, 'disable', 1)) {
      // accepted: no files to spool, no permission checks to disable
    } else {
      throw new ToolUsageError(`condor_submit: unknown option ${a}`);
    }
  }
  return out;
}

/** Runs condor_submit. */
export async function condorSubmit(args: readonly string[], ctx: ToolContext): Promise<ToolResult> {
  let opts: SubmitArgs;
  try {
    opts = parseArgs(args);
  } catch (err) {
    if (err instanceof ToolUsageError) return { code: 1, stdout: '', stderr: `${err.message}\n${USAGE}` };
    throw err;
  }
  const fromStdin = opts.file === undefined || opts.file === '-';
  if (fromStdin && !opts.terse) opts.verbose = true; // HTCondor: reading stdin implies -verbose
  let text: string;
  const shownName = fromStdin ? '(stdin)' : (opts.file as string);
  if (fromStdin) text = await ctx.readStdin();
  else {
    try {
      text = readFileSync(resolve(ctx.cwd, opts.file as string), 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      return { code: 1, stdout: '', stderr: `\nERROR: Failed to open command file (${opts.file}) (${ERRNO_TEXT[code] ?? code})\n` };
    }
  }
  if (ctx.config.schedds !== undefined && opts.schedd !== LOCAL_SCHEDD && !ctx.config.schedds.includes(opts.schedd)) {
    return { code: 1, stdout: '', stderr: connectFailure(opts.schedd) };
  }

  let stdout = fromStdin || opts.terse ? '' : 'Submitting job(s)';
  const fail = (message: string): ToolResult => ({ code: 1, stdout, stderr: `\nERROR: ${message}\n` });
  let groups: readonly QueueGroup[];
  try {
    groups = parseSubmitDescription(text).groups;
  } catch (err) {
    if (isApfError(err, 'APF_ERR_SIM')) return fail(err.message);
    throw err;
  }
  if (groups.length === 0) return fail(`"${shownName}" doesn't contain any "queue" commands -- no jobs queued`);
  const nonEmpty = groups.filter((g) => g.count > 0);
  if (nonEmpty.length === 0) {
    return {
      code: 0,
      stdout: stdout + (fromStdin || opts.terse ? '' : '\n'),
      stderr: opts.terse ? '' : `\nWARNING: "${shownName}" has only empty "queue" commands -- no jobs queued\n`,
    };
  }

  let submitted: Array<{ cluster: ClusterRecord; jobs: JobRecord[] }>;
  let verboseAds = '';
  try {
    submitted = await withSchedd(ctx, opts.schedd, (s) => {
      const planned = plan(nonEmpty, s.queue.nextClusterId, ctx, s.host, fromStdin ? undefined : resolve(ctx.cwd, shownName));
      // Commit: only now is the queue modified, so a failed submission leaves no trace.
      for (const { cluster, jobs } of planned) {
        s.queue.clusters[String(cluster.id)] = cluster;
        for (const j of jobs) s.queue.jobs.push(j); // no spread: 100k arguments overflow the stack
        s.queue.nextClusterId = cluster.id + 1;
        for (const j of jobs) s.files.submitted(cluster, j);
      }
      s.changed();
      if (opts.verbose) {
        const parts: string[] = [];
        for (const { cluster, jobs } of planned) {
          for (const j of jobs) parts.push(`\n** Proc ${j.c}.${j.p}:\n${formatAdLong(s.ads.build(cluster, j))}`);
        }
        verboseAds = parts.join('');
      }
      return planned;
    });
  } catch (err) {
    if (isUnreachable(err)) return { code: 1, stdout: '', stderr: connectFailure(opts.schedd) };
    if (isApfError(err, 'APF_ERR_SIM') && err.details['submitError'] === true) return fail(err.message);
    throw err;
  }

  if (opts.verbose) stdout += verboseAds;
  else if (!opts.terse) stdout += '.'.repeat(submitted.reduce((n, s) => n + s.jobs.length, 0));
  if (!fromStdin && !opts.terse) stdout += '\n';
  if (opts.terse) {
    for (const { cluster, jobs } of submitted) stdout += `${cluster.id}.${jobs[0]?.p ?? 0} - ${cluster.id}.${jobs[jobs.length - 1]?.p ?? 0}\n`;
  } else if (!opts.verbose) {
    for (const { cluster, jobs } of submitted) stdout += `${jobs.length} job(s) submitted to cluster ${cluster.id}.\n`;
  }
  return { code: 0, stdout, stderr: '' };
}

/**
 * Builds clusters and job records for the queue statements without touching the queue. A new
 * cluster starts when the executable changes, as in HTCondor.
 */
function plan(
  groups: readonly QueueGroup[],
  firstCluster: number,
  ctx: ToolContext,
  host: string,
  submitFile: string | undefined,
): Array<{ cluster: ClusterRecord; jobs: JobRecord[] }> {
  interface Planned {
    readonly cluster: ClusterRecord & { groups: GroupRecord[] };
    readonly jobs: JobRecord[];
    readonly cmd: string;
  }
  const out: Planned[] = [];
  const owner = currentUser(ctx.env);
  const build = (g: QueueGroup, id: number): GroupTemplate => buildGroupTemplate(g, templateContext(id, owner, host, ctx, submitFile));
  let cur: Planned | undefined;
  for (const g of groups) {
    let id = cur?.cluster.id ?? firstCluster;
    let built = build(g, id);
    const cmd = JSON.stringify(built.template['Cmd']);
    if (cur === undefined || cmd !== cur.cmd) {
      if (cur !== undefined) {
        id = cur.cluster.id + 1;
        built = build(g, id); // $(Cluster) must expand to the new id
      }
      cur = { cluster: { id, qdate: ctx.now, groups: [] }, jobs: [], cmd };
      out.push(cur);
    }
    const first = cur.jobs.length;
    cur.cluster.groups.push({ first, count: g.count, template: built.template });
    for (let p = first; p < first + g.count; p++) {
      cur.jobs.push(
        built.hold
          ? { c: id, p, s: 5, ls: 0, e: ctx.now, hr: "submitted on hold at user's request", hc: 15, hs: 0 }
          : { c: id, p, s: 1, ls: 0, e: ctx.now },
      );
    }
  }
  return out.map(({ cluster, jobs }) => ({ cluster, jobs }));
}

function templateContext(cluster: number, owner: string, host: string, ctx: ToolContext, submitFile: string | undefined) {
  return {
    cluster,
    qdate: ctx.now,
    owner,
    uidDomain: host,
    env: ctx.env,
    cwd: ctx.cwd,
    ...(submitFile === undefined ? {} : { submitFile }),
    proxyCheck: ctx.config.proxyCheck,
    credMinTimeLeft: ctx.config.credMinTimeLeft,
  };
}

/** condor_submit's text when the schedd cannot be contacted. */
function connectFailure(schedd: string): string {
  if (schedd === LOCAL_SCHEDD) {
    return '\nERROR: Failed to connect to local queue manager\nAUTHENTICATE:1003:Failed to authenticate with any method\nAUTHENTICATE:1004:Failed to authenticate using FS\n';
  }
  return `\nERROR: Failed to connect to queue manager ${schedd}\nCEDAR:6001:Failed to connect to <192.0.2.10:9618?addrs=192.0.2.10-9618&alias=${schedd}>\n`;
}
