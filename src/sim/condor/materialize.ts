/**
 * Full job ads from the compact state (HTCondor simulator, NOT HTCondor): a cluster's ad template
 * for the job's `queue` statement, resolved for its ProcId, plus the attributes that follow from
 * its dynamic state — JobStatus, EnteredCurrentStatus, JobStartDate, CompletionDate, ExitCode,
 * RemoteWallClockTime, hold and remove reasons, and for grid jobs GridJobId/GridJobStatus the way
 * the gridmanager sets them (present while running, set to undefined once the remote job is
 * forgotten).
 */
import type { Ad, AdValue } from './classad-format.ts';
import { isProcDependent, resolveValue, type TemplateValue } from './job-ad.ts';
import type { ClusterRecord, GroupRecord, JobRecord } from './store.ts';
import { jobHash } from './timeline.ts';

/** Attributes set from the dynamic state (canonical spellings). */
const DYNAMIC = [
  'ProcId', 'JobStatus', 'LastJobStatus', 'EnteredCurrentStatus', 'GlobalJobId', 'JobStartDate', 'JobCurrentStartDate',
  'NumJobStarts', 'JobRunCount', 'GridJobId', 'GridJobStatus', 'GlobusStatus', 'LastRemoteStatusUpdate', 'RemoteHost',
  'CompletionDate', 'ExitCode', 'ExitStatus', 'ExitBySignal', 'RemoteWallClockTime', 'CumulativeSlotTime', 'HoldReason',
  'HoldReasonCode', 'HoldReasonSubCode', 'LastHoldReason', 'LastHoldReasonCode', 'LastHoldReasonSubCode', 'RemoveReason',
] as const;
type DynamicName = (typeof DYNAMIC)[number];

interface PreparedGroup {
  /** Attributes that are the same for every proc (restricted to the wanted ones). */
  readonly base: Readonly<Record<string, AdValue>>;
  /** Attributes that depend on the proc number (restricted to the wanted ones). */
  readonly perProc: ReadonlyArray<readonly [string, TemplateValue]>;
  /**
   * The ad's own spelling of each dynamic attribute (a `+jobstatus` keeps its case), or
   * undefined when that attribute is not wanted.
   */
  readonly names: Readonly<Record<DynamicName, string | undefined>>;
  readonly gridResource: string | undefined;
  readonly vanilla: boolean;
}

/**
 * Builds job ads; caches per-template work so that 100k ads of one cluster cost little each.
 * Given an attribute list, it builds only those attributes (what `-attributes` projects), which is
 * what keeps a 100k-job `condor_q -attributes …` fast.
 */
export class AdBuilder {
  private readonly prepared = new Map<GroupRecord, PreparedGroup>();
  private readonly scheddHost: string;
  private readonly wanted: ReadonlySet<string> | undefined;

  /**
   * `scheddHost` is the name in GlobalJobId (`<host>#<cluster>.<proc>#<qdate>`); `attributes`
   * (case-insensitive) restricts the ads built, all attributes when undefined.
   */
  constructor(scheddHost: string, attributes?: readonly string[]) {
    this.scheddHost = scheddHost;
    this.wanted = attributes === undefined ? undefined : new Set(attributes.map((a) => a.toLowerCase()));
  }

  /** The ad of `job`, a member of `cluster`. */
  build(cluster: ClusterRecord, job: JobRecord): Ad {
    const group = cluster.groups.find((g) => job.p >= g.first && job.p < g.first + g.count) ?? cluster.groups[0];
    if (group === undefined) return {};
    const pg = this.prepare(group);
    const ad: Record<string, AdValue> = { ...pg.base };
    for (const [k, v] of pg.perProc) ad[k] = resolveValue(v, job.p);
    const n = pg.names;
    const set = (name: DynamicName, v: AdValue): void => {
      const k = n[name];
      if (k !== undefined) ad[k] = v;
    };
    set('ProcId', job.p);
    set('JobStatus', job.s);
    set('LastJobStatus', job.ls);
    set('EnteredCurrentStatus', job.e);
    set('GlobalJobId', `${this.scheddHost}#${job.c}.${job.p}#${cluster.qdate}`);
    if (job.st !== undefined) {
      set('JobStartDate', job.st);
      set('JobCurrentStartDate', job.st);
      set('NumJobStarts', 1);
      // The gridmanager does not count runs of grid jobs; the schedd does for vanilla ones.
      if (pg.vanilla) set('JobRunCount', 1);
    }
    const grid = pg.gridResource;
    if (job.s === 2) {
      if (grid !== undefined) {
        if (n.GridJobId !== undefined) set('GridJobId', remoteJobId(grid, job));
        if (n.GridJobStatus !== undefined || n.GlobusStatus !== undefined) {
          const status = runningGridStatus(grid);
          if (status === undefined) set('GlobusStatus', 2);
          else set('GridJobStatus', status);
        }
        set('LastRemoteStatusUpdate', job.e);
      } else if (pg.vanilla) {
        set('RemoteHost', `slot1_${(job.p % 8) + 1}@wn${String(job.c % 100).padStart(3, '0')}.sim.invalid`);
      }
    } else if (grid !== undefined && (job.st !== undefined || job.s === 5)) {
      // The gridmanager forgets the remote job: the attributes become undefined, not absent.
      set('GridJobId', null);
      set('GridJobStatus', null);
      set('LastRemoteStatusUpdate', job.e);
    }
    if (job.st !== undefined && (job.s === 3 || job.s === 4)) {
      const wall = (job.end ?? job.e) - job.st;
      set('RemoteWallClockTime', { real: wall });
      set('CumulativeSlotTime', wall);
    }
    if (job.s === 4) {
      set('CompletionDate', job.end ?? job.e);
      set('ExitCode', job.x ?? 0);
      set('ExitStatus', job.x ?? 0);
      set('ExitBySignal', false);
    }
    if (job.hr !== undefined) {
      const held = job.s === 5;
      set(held ? 'HoldReason' : 'LastHoldReason', job.hr);
      set(held ? 'HoldReasonCode' : 'LastHoldReasonCode', job.hc ?? 0);
      set(held ? 'HoldReasonSubCode' : 'LastHoldReasonSubCode', job.hs ?? 0);
    }
    if (job.rr !== undefined) set('RemoveReason', job.rr);
    return ad;
  }

  private prepare(group: GroupRecord): PreparedGroup {
    let pg = this.prepared.get(group);
    if (pg !== undefined) return pg;
    const want = this.wanted;
    const base: Record<string, AdValue> = {};
    const perProc: Array<readonly [string, TemplateValue]> = [];
    const lower = new Map<string, string>();
    for (const [k, v] of Object.entries(group.template)) {
      const low = k.toLowerCase();
      lower.set(low, k);
      if (want !== undefined && !want.has(low)) continue;
      if (isProcDependent(v)) perProc.push([k, v]);
      else base[k] = v as AdValue;
    }
    const names = Object.fromEntries(
      DYNAMIC.map((d) => {
        const low = d.toLowerCase();
        return [d, want !== undefined && !want.has(low) ? undefined : (lower.get(low) ?? d)];
      }),
    ) as Record<DynamicName, string | undefined>;
    const gr = resolveValue(group.template['GridResource'] ?? null, 0);
    pg = {
      base,
      perProc,
      names,
      gridResource: group.template['JobUniverse'] === 9 && typeof gr === 'string' ? gr : undefined,
      vanilla: group.template['JobUniverse'] === 5,
    };
    this.prepared.set(group, pg);
    return pg;
  }
}

/** The remote job id part of GridJobId, shaped per grid type (formats.md §2.4). */
export function remoteJobId(gridResource: string, job: JobRecord): string {
  const type = (gridResource.split(' ')[0] ?? '').toLowerCase();
  const h = jobHash(`${job.c}.${job.p}`).toString(16).padStart(8, '0');
  switch (type) {
    case 'condor':
      return `${gridResource} ${8_000_000 + job.c}.${job.p}`;
    case 'arc':
    case 'nordugrid':
      return `${gridResource} ${h}${jobHash(h).toString(16).padStart(8, '0')}`;
    case 'batch':
      return `${gridResource} sim_${h} ${100_000 + job.c * 10 + job.p}`;
    default:
      return `${gridResource} ${h}`;
  }
}

/** GridJobStatus of a running job per grid type; undefined for GRAM (which used GlobusStatus). */
function runningGridStatus(gridResource: string): string | undefined {
  const type = (gridResource.split(' ')[0] ?? '').toLowerCase();
  if (type === 'nordugrid') return 'INLRMS:R';
  if (type === 'cream') return 'REALLY-RUNNING';
  if (type === 'gt2' || type === 'gt5') return undefined;
  return 'RUNNING';
}
