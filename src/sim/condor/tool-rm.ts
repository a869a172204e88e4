/**
 * Simulated `condor_rm` (HTCondor simulator, NOT HTCondor): removes jobs by id (`C.P`), cluster
 * (`C`), owner, `-constraint` or `-all`, with condor_rm's messages and exit codes (formats.md §2.7,
 * HTCondor's `rm.cpp`): `Job C.P marked for removal`, `Job C.P not found`,
 * `All jobs in cluster C have been marked for removal`, `Couldn't find/remove all jobs …`,
 * `condor_rm:0:There are no jobs in the queue`. Removed jobs get JobStatus 3 and go to history
 * (after `removeSeconds` in the queue, if configured); `-forcex` drops jobs already in X state.
 */
import { AdQuery } from './query.ts';
import { currentUser, isUnreachable, LOCAL_SCHEDD, scheddHost, withSchedd, type ScheddSession, type ToolContext } from './schedd.ts';
import type { JobRecord } from './store.ts';
import { isOpt, optValue, ToolUsageError, tryParse, type ToolResult } from './tool-common.ts';

const USAGE = `Usage: condor_rm [options] [constraints]   (apf HTCondor simulator)
 where [options] is zero or more of:
  -name schedd_name   Connect to the given schedd
  -pool hostname      Use the given central manager to find daemons
  -reason reason      Use the given RemoveReason
  -forcex             Force the immediate local removal of jobs in the X state
  -totals             Display success/failure totals
 and where [constraints] is one of:
  cluster.proc        Remove the given job
  cluster             Remove the given cluster of jobs
  user                Remove all jobs owned by user
  -constraint expr    Remove all jobs matching the boolean expression
  -all                Remove all jobs (cannot be used with other constraints)
`;

type ConstraintKind = 'none' | 'user' | 'cluster' | 'simple' | 'complex' | 'all';

interface RmArgs {
  schedd: string;
  reason: string;
  forcex: boolean;
  totals: boolean;
  jobIds: Array<{ c: number; p: number; text: string }>;
  /** The combined constraint as condor_rm builds it, and its kind (which decides the message). */
  constraint: string;
  kind: ConstraintKind;
}

interface Totals {
  ok: number;
  notFound: number;
  badStatus: number;
  alreadyDone: number;
}

function parseArgs(args: readonly string[]): RmArgs {
  const r: RmArgs = { schedd: LOCAL_SCHEDD, reason: 'via condor_rm', forcex: false, totals: false, jobIds: [], constraint: '', kind: 'none' };
  let userCluster = '';
  let ucKind: ConstraintKind = 'none';
  const add = (c: string, kind: ConstraintKind): void => {
    // HTCondor's addConstraint: the first one verbatim, then `(a) && (b)`, complex afterwards.
    if (r.kind === 'none' || r.kind === 'all') {
      r.constraint = c;
      r.kind = kind;
    } else if (r.kind === 'complex') r.constraint += ` && (${c})`;
    else {
      r.constraint = `(${r.constraint}) && (${c})`;
      r.kind = 'complex';
    }
  };
  const addUserCluster = (c: string, kind: ConstraintKind): void => {
    if (ucKind === 'none') {
      userCluster = c;
      ucKind = kind;
    } else {
      userCluster += ` || ${c}`;
      ucKind = 'complex';
    }
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (isOpt(a, 'name', 1)) r.schedd = optValue(args, i++, 'condor_rm');
    else if (isOpt(a, 'pool', 1)) optValue(args, i++, 'condor_rm');
    else if (isOpt(a, 'reason', 1)) r.reason = optValue(args, i++, 'condor_rm');
    else if (isOpt(a, 'forcex', 1)) r.forcex = true;
    else if (isOpt(a, 'totals', 2)) r.totals = true;
    else if (isOpt(a, 'constraint', 1)) {
      const c = optValue(args, i++, 'condor_rm');
      if (tryParse(c) === undefined) throw new ToolUsageError(`condor_rm: invalid constraint: ${c}`);
      add(c, 'simple');
    } else if (isOpt(a, 'all', 1)) {
      if (r.kind !== 'none' || ucKind !== 'none' || r.jobIds.length > 0) throw new ToolUsageError("condor_rm: can't mix -all with other constraints");
      add('ClusterId >= 0', 'all');
    } else if (a.startsWith('-')) throw new ToolUsageError(`Unrecognized option: ${a}`);
    else {
      if (r.kind === 'all') throw new ToolUsageError("condor_rm: can't mix -all with other constraints");
      const m = /^(\d+)(?:\.(\d+))?$/.exec(a);
      if (m?.[2] !== undefined) r.jobIds.push({ c: Number(m[1]), p: Number(m[2]), text: a });
      else if (m !== null) addUserCluster(`ClusterId == ${Number(m[1])}`, 'cluster');
      else addUserCluster(`Owner == "${a}"`, 'user');
    }
  }
  if (ucKind !== 'none') add(userCluster, ucKind);
  if (r.kind === 'none' && r.jobIds.length === 0) throw new ToolUsageError('You did not specify any jobs');
  return r;
}

/** Runs condor_rm. */
export async function condorRm(args: readonly string[], ctx: ToolContext): Promise<ToolResult> {
  let r: RmArgs;
  try {
    r = parseArgs(args);
  } catch (err) {
    if (err instanceof ToolUsageError) return { code: 1, stdout: '', stderr: `${err.message}\n${USAGE}` };
    throw err;
  }
  const by = currentUser(ctx.env);
  const reason = `${r.reason} (by user ${by})`;
  try {
    return await withSchedd(ctx, r.schedd, (s) => run(s, r, ctx, by, reason));
  } catch (err) {
    if (isUnreachable(err)) {
      const msg = r.schedd === LOCAL_SCHEDD ? `condor_rm: Can't find address for schedd ${scheddHost(r.schedd)}` : `Error: cannot get address of schedd ${r.schedd}`;
      return { code: 1, stdout: '', stderr: `${msg}\n` };
    }
    throw err;
  }
}

function run(s: ScheddSession, r: RmArgs, ctx: ToolContext, by: string, reason: string): ToolResult {
  let stdout = '';
  let stderr = '';
  let failed = false;
  const totalsLine = (t: Totals): string =>
    `${t.ok} Succeeded, 0 Failed, ${t.notFound} Not Found, ${t.badStatus} Bad Status, ${t.alreadyDone} Already Done, 0 Permission Denied\n`;

  if (r.jobIds.length > 0) {
    if (r.kind !== 'none') stderr += 'Warning, -constraint is ignored for fully qualified job ids\n';
    const t: Totals = { ok: 0, notFound: 0, badStatus: 0, alreadyDone: 0 };
    const lines: Array<{ out: boolean; text: string }> = [];
    const byId = new Map(s.queue.jobs.map((j) => [`${j.c}.${j.p}`, j]));
    for (const id of r.jobIds) {
      const job = byId.get(`${id.c}.${id.p}`);
      const name = `Job ${id.c}.${id.p}`;
      if (job === undefined) {
        t.notFound++;
        lines.push({ out: false, text: `${name} not found` });
      } else if (r.forcex) {
        if (job.s === 3) {
          t.ok++;
          s.finish([job]);
          lines.push({ out: true, text: `${name} removed locally (remote state unknown)` });
        } else {
          t.badStatus++;
          lines.push({ out: false, text: `${name} not in \`X' state to be forcibly removed` });
        }
      } else if (job.s === 3) {
        t.alreadyDone++;
        lines.push({ out: false, text: `${name} already marked for removal` });
      } else {
        t.ok++;
        remove(s, [job], ctx, by, reason);
        lines.push({ out: true, text: `${name} marked for removal` });
      }
    }
    if (r.totals) stdout += totalsLine(t);
    for (const l of lines) {
      if (l.out) stdout += `${l.text}\n`;
      else {
        stderr += `${l.text}\n`;
        failed = true;
      }
    }
    if (r.kind === 'none') return { code: failed ? 1 : 0, stdout, stderr };
  }

  const query = new AdQuery(s.host, { projection: ['ClusterId'], constraint: tryParse(r.constraint), now: ctx.now });
  // Removal acts on jobs not already being removed; -forcex only on those that are.
  const matching = s.queue.jobs.filter((job) => {
    if (r.forcex ? job.s !== 3 : job.s === 3) return false;
    const cluster = s.queue.clusters[String(job.c)];
    return cluster !== undefined && query.match(cluster, job) !== undefined;
  });
  const total = s.queue.jobs.length;
  if (r.forcex) s.finish(matching);
  else remove(s, matching, ctx, by, reason);
  if (r.totals) stdout += totalsLine({ ok: matching.length, notFound: 0, badStatus: 0, alreadyDone: 0 });
  const what =
    r.kind === 'user'
      ? ` of user ${r.constraint.slice(r.constraint.indexOf(' == ') + 4)}`
      : r.kind === 'cluster'
        ? ` in cluster ${r.constraint.slice(r.constraint.indexOf(' == ') + 4)}`
        : r.kind === 'all'
          ? ''
          : ` matching constraint (${r.constraint})`;
  if (matching.length > 0) {
    stdout += `All jobs${what} have been ${r.forcex ? 'removed locally' : 'marked for removal'}\n`;
    return { code: failed ? 1 : 0, stdout, stderr };
  }
  if (total === 0) return { code: failed ? 1 : 0, stdout, stderr: `${stderr}condor_rm:0:There are no jobs in the queue\n` };
  // An empty error stack prints as an empty line before the summary.
  return { code: 1, stdout, stderr: `${stderr}\nCouldn't find/remove all jobs${what}\n` };
}

/** Marks jobs removed (JobStatus 3): they leave for history now, or after `removeSeconds`. */
function remove(s: ScheddSession, jobs: readonly JobRecord[], ctx: ToolContext, by: string, reason: string): void {
  if (jobs.length === 0) return;
  const leaving: JobRecord[] = [];
  for (const job of jobs) {
    job.ls = job.s;
    job.s = 3;
    job.e = ctx.now;
    job.rr = reason;
    const cluster = s.queue.clusters[String(job.c)];
    if (cluster !== undefined) s.files.removed(cluster, job, ctx.now, by);
    if (ctx.config.removeSeconds > 0) job.out = ctx.now + ctx.config.removeSeconds;
    else leaving.push(job);
  }
  s.changed();
  s.finish(leaving);
}
