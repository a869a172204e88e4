/**
 * Job ads from submit descriptions (HTCondor simulator, NOT HTCondor). For each `queue` statement
 * this builds one ad template with the attributes condor_submit and the schedd would set
 * (ClusterId, QDate, Owner, Cmd, Args/Arguments, Iwd, In/Out/Err, UserLog, JobUniverse,
 * GridResource, Environment, x509userproxy, policy expressions…) plus every `+Attr`/`MY.Attr`,
 * typed. Values that depend on `$(Process)` keep a {@link PROC_MARKER} and are resolved per proc
 * by {@link resolveTemplate}.
 */
import { isAbsolute, resolve } from 'node:path';
import type { Ad, AdValue } from './classad-format.ts';
import { exprToAdValue } from './classad-expr.ts';
import { checkProxy, type ProxyCheckMode } from './proxy.ts';
import { expandMacros, PROC_MARKER, submitError, type MacroScope, type QueueGroup } from './submit-file.ts';

/** A stored attribute: a value, or text still holding {@link PROC_MARKER}. */
export type TemplateValue = AdValue | { readonly tmpl: string; readonly as: 'string' | 'expr' };

/** An ad template: attribute name (case as set) → value. */
export type AdTemplate = Readonly<Record<string, TemplateValue>>;

/** Everything a template depends on besides the submit description. */
export interface TemplateContext {
  readonly cluster: number;
  /** Submit time, epoch seconds. */
  readonly qdate: number;
  readonly owner: string;
  /** `UID_DOMAIN` (User = owner@domain). */
  readonly uidDomain: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory condor_submit runs in (default `Iwd`). */
  readonly cwd: string;
  readonly submitFile?: string;
  readonly proxyCheck: ProxyCheckMode;
  /** CRED_MIN_TIME_LEFT, seconds. */
  readonly credMinTimeLeft: number;
}

/** A template and how its procs start. */
export interface GroupTemplate {
  readonly template: AdTemplate;
  /** `hold = true`: procs start held. */
  readonly hold: boolean;
}

const UNIVERSES: Readonly<Record<string, number>> = {
  standard: 1, vanilla: 5, docker: 5, container: 5, scheduler: 7, grid: 9, java: 10, parallel: 11, local: 12, vm: 13,
};

// The simulator accepts the grid types of HTCondor ≤ 10.0 too, since APF's NorduGrid and CREAM
// submitters target those releases.
const GRID_TYPES = new Set([
  'condor', 'batch', 'arc', 'ec2', 'gce', 'azure', 'blah', 'pbs', 'sge', 'lsf', 'nqs', 'naregi', 'slurm',
  'nordugrid', 'cream', 'gt2', 'gt5', 'unicore', 'boinc',
]);

const NOTIFICATION: Readonly<Record<string, number>> = { never: 0, always: 1, complete: 2, error: 3, start: 4 };

type Kind = 'string' | 'upper' | 'bool' | 'int' | 'expr' | 'path';

/** Submit commands that map one-to-one onto job attributes. */
const SIMPLE_KEYS: Readonly<Record<string, readonly [attr: string, kind: Kind]>> = {
  output: ['Out', 'string'],
  error: ['Err', 'string'],
  input: ['In', 'string'],
  log: ['UserLog', 'path'],
  notify_user: ['NotifyUser', 'string'],
  stream_output: ['StreamOut', 'bool'],
  stream_error: ['StreamErr', 'bool'],
  transfer_executable: ['TransferExecutable', 'bool'],
  should_transfer_files: ['ShouldTransferFiles', 'upper'],
  when_to_transfer_output: ['WhenToTransferOutput', 'upper'],
  transfer_input_files: ['TransferInput', 'string'],
  transfer_output_files: ['TransferOutput', 'string'],
  requirements: ['Requirements', 'expr'],
  rank: ['Rank', 'expr'],
  periodic_hold: ['PeriodicHold', 'expr'],
  periodic_remove: ['PeriodicRemove', 'expr'],
  periodic_release: ['PeriodicRelease', 'expr'],
  on_exit_hold: ['OnExitHold', 'expr'],
  on_exit_remove: ['OnExitRemove', 'expr'],
  priority: ['JobPrio', 'int'],
  request_memory: ['RequestMemory', 'expr'],
  request_cpus: ['RequestCpus', 'expr'],
  request_disk: ['RequestDisk', 'expr'],
  job_lease_duration: ['JobLeaseDuration', 'expr'],
  nordugrid_rsl: ['NordugridRSL', 'string'],
  globus_rsl: ['GlobusRSL', 'string'],
  arc_rte: ['ArcRte', 'string'],
  arc_resources: ['ArcResources', 'string'],
  arc_application: ['ArcApplication', 'string'],
  arc_data_staging: ['ArcDataStaging', 'string'],
  batch_queue: ['BatchQueue', 'string'],
  batch_project: ['BatchProject', 'string'],
  batch_runtime: ['BatchRuntime', 'int'],
  batch_extra_submit_args: ['BatchExtraSubmitArgs', 'string'],
  accounting_group: ['AcctGroup', 'string'],
  accounting_group_user: ['AcctGroupUser', 'string'],
  batch_name: ['JobBatchName', 'string'],
};

/** Builds the ad template of one `queue` statement. Throws submit errors (condor_submit texts). */
export function buildGroupTemplate(group: QueueGroup, ctx: TemplateContext): GroupTemplate {
  const scope: MacroScope = {
    commands: group.commands,
    env: ctx.env,
    cluster: ctx.cluster,
    ...(ctx.submitFile === undefined ? {} : { submitFile: ctx.submitFile }),
  };
  const get = (key: string): { text: string; line: number } | undefined => {
    const s = group.commands.get(key);
    return s === undefined ? undefined : { text: expandMacros(s.value, scope, s.line), line: s.line };
  };
  const ad = new CaseInsensitiveAd();

  const universeName = (get('universe')?.text ?? 'vanilla').trim().toLowerCase();
  const universe = UNIVERSES[universeName];
  if (universe === undefined) throw submitError(`I don't know about the '${universeName}' universe.`);
  const iwdText = get('initialdir')?.text;
  const iwd = iwdText === undefined || iwdText === '' ? ctx.cwd : resolve(ctx.cwd, iwdText);
  const executable = get('executable');
  if (executable === undefined || executable.text === '') throw submitError("No 'executable' parameter was provided");

  // Defaults first: explicit commands and custom attributes override them.
  ad.set('MyType', 'Job');
  ad.set('TargetType', 'Machine');
  ad.set('ClusterId', ctx.cluster);
  ad.set('QDate', ctx.qdate);
  ad.set('Owner', ctx.owner);
  ad.set('User', `${ctx.owner}@${ctx.uidDomain}`);
  ad.set('JobUniverse', universe);
  ad.set('Iwd', iwd);
  ad.set('Cmd', universe === 9 || isAbsolute(executable.text) ? withMarker(executable.text) : withMarker(resolve(iwd, executable.text)));
  ad.set('In', '/dev/null');
  ad.set('Out', '/dev/null');
  ad.set('Err', '/dev/null');
  for (const [name, v] of DEFAULTS) ad.set(name, v);

  for (const [key, [attr, kind]] of Object.entries(SIMPLE_KEYS)) {
    const v = get(key);
    if (v !== undefined) ad.set(attr, convert(v.text, kind, v.line, iwd));
  }

  const args = get('arguments');
  if (args !== undefined) {
    // A double-quoted value is the new argument syntax (attribute Arguments), else the old one (Args).
    if (args.text.startsWith('"')) ad.set('Arguments', withMarker(unquoteNewSyntax(args.text)));
    else ad.set('Args', withMarker(args.text));
  }
  const envSetting = get('environment') ?? get('env');
  if (envSetting !== undefined) {
    if (envSetting.text.startsWith('"')) ad.set('Environment', withMarker(unquoteNewSyntax(envSetting.text)));
    else ad.set('Env', withMarker(envSetting.text));
  }

  const notification = get('notification');
  if (notification !== undefined) {
    const n = NOTIFICATION[notification.text.trim().toLowerCase()];
    if (n === undefined) throw submitError("Notification must be 'Never', 'Always', 'Complete', 'Start', or 'Error'");
    ad.set('JobNotification', n);
  }

  if (universe === 9) {
    const gr = get('grid_resource');
    if (gr === undefined || gr.text === '') throw submitError('grid_resource attribute not defined for grid universe job');
    const type = gr.text.split(' ')[0] ?? '';
    if (!GRID_TYPES.has(type.toLowerCase())) {
      throw submitError(`Invalid value '${type}' for grid type\nMust be one of: condor, batch, arc, ec2, gce, or azure`);
    }
    ad.set('GridResource', withMarker(gr.text));
  }

  const proxy = get('x509userproxy');
  const useProxy = /^(true|t|yes|y|1)$/i.test(get('use_x509userproxy')?.text.trim() ?? '');
  let proxyPath = proxy?.text;
  if ((proxyPath === undefined || proxyPath === '') && useProxy) {
    proxyPath = ctx.env['X509_USER_PROXY'] ?? `/tmp/x509up_u${process.getuid?.() ?? 0}`;
  }
  if (proxyPath !== undefined && proxyPath !== '') {
    const full = resolve(iwd, proxyPath);
    ad.set('x509userproxy', full);
    const extra = checkProxy(full, { mode: ctx.proxyCheck, now: ctx.qdate, minTimeLeft: ctx.credMinTimeLeft });
    for (const [k, v] of Object.entries(extra)) ad.set(k, v);
  }

  for (const custom of group.customs.values()) {
    ad.set(custom.key, convert(expandMacros(custom.value, scope, custom.line), 'expr', custom.line, iwd));
  }

  const hold = get('hold');
  return { template: ad.toObject(), hold: hold !== undefined && convert(hold.text, 'bool', hold.line, iwd) === true };
}

/** Attributes every job ad carries before its submit commands are applied. */
const DEFAULTS: ReadonlyArray<readonly [string, AdValue]> = [
  ['JobPrio', 0],
  ['JobNotification', 0],
  ['CompletionDate', 0],
  ['JobRunCount', 0],
  ['NumCkpts', 0],
  ['NumJobStarts', 0],
  ['NumRestarts', 0],
  ['NumSystemHolds', 0],
  ['CurrentHosts', 0],
  ['MinHosts', 1],
  ['MaxHosts', 1],
  ['CommittedTime', 0],
  ['CumulativeSlotTime', 0],
  ['RemoteWallClockTime', { real: 0 }],
  ['RemoteUserCpu', { real: 0 }],
  ['RemoteSysCpu', { real: 0 }],
  ['ExitBySignal', false],
  ['WantClaiming', false],
  ['StreamOut', false],
  ['StreamErr', false],
  ['TransferExecutable', true],
  ['Requirements', true],
  ['PeriodicHold', false],
  ['PeriodicRelease', false],
  ['PeriodicRemove', false],
  ['OnExitHold', false],
  ['OnExitRemove', true],
  ['LeaveJobInQueue', false],
];

/** `"a ""b"" c"` → `a "b" c` (the new argument/environment syntax). */
function unquoteNewSyntax(text: string): string {
  const inner = text.endsWith('"') && text.length >= 2 ? text.slice(1, -1) : text.slice(1);
  return inner.replaceAll('""', '"');
}

function withMarker(text: string): TemplateValue {
  return text.includes(PROC_MARKER) ? { tmpl: text, as: 'string' } : text;
}

function convert(text: string, kind: Kind, line: number, iwd: string): TemplateValue {
  switch (kind) {
    case 'string':
      return withMarker(text);
    case 'upper':
      return withMarker(text.toUpperCase());
    case 'path':
      return withMarker(resolve(iwd, text));
    case 'bool':
      if (/^(true|t|yes|y|1)$/i.test(text)) return true;
      if (/^(false|f|no|n|0)$/i.test(text)) return false;
      return expression(text, line);
    case 'int':
      if (/^[+-]?\d+$/.test(text.trim())) return Number(text.trim());
      return expression(text, line);
    case 'expr':
      return expression(text, line);
  }
}

/** A ClassAd expression value; a text that does not parse is condor_submit's parse error at `line`. */
function expression(text: string, line: number): TemplateValue {
  try {
    if (text.includes(PROC_MARKER)) {
      exprToAdValue(text.replaceAll(PROC_MARKER, '0')); // validate now; typed per proc later
      return { tmpl: text, as: 'expr' };
    }
    return exprToAdValue(text);
  } catch {
    throw submitError(`Failed to parse command file (line ${line}).`, line);
  }
}

/** Resolves a template for one proc: markers replaced, `expr` templates parsed and typed. */
export function resolveTemplate(template: AdTemplate, proc: number): Ad {
  const out: Record<string, AdValue> = {};
  for (const [k, v] of Object.entries(template)) out[k] = resolveValue(v, proc);
  return out;
}

/** One template value for one proc. */
export function resolveValue(v: TemplateValue, proc: number): AdValue {
  if (v === null || typeof v !== 'object' || !('tmpl' in v)) return v;
  const text = v.tmpl.replaceAll(PROC_MARKER, String(proc));
  if (v.as === 'string') return text;
  try {
    return exprToAdValue(text);
  } catch {
    return { expr: 'error' };
  }
}

/** True when a template value still depends on the proc number. */
export function isProcDependent(v: TemplateValue): boolean {
  return v !== null && typeof v === 'object' && 'tmpl' in v;
}

/** An ad under construction whose names are unique case-insensitively (the first spelling is kept). */
class CaseInsensitiveAd {
  private readonly names = new Map<string, string>();
  private readonly values: Record<string, TemplateValue> = {};

  set(name: string, value: TemplateValue): void {
    const lower = name.toLowerCase();
    const existing = this.names.get(lower);
    if (existing === undefined) this.names.set(lower, name);
    this.values[existing ?? name] = value;
  }

  toObject(): AdTemplate {
    return this.values;
  }
}
