/**
 * Selecting and projecting job ads for the simulated condor_q, condor_history and condor_rm
 * (HTCondor simulator, NOT HTCondor). With a projection, only the projected attributes and those
 * the constraint refers to are built, so a 100k-job `condor_q -attributes …` stays fast; an ad is
 * rebuilt in full only when one of those attributes is itself an expression (which may refer to
 * anything).
 */
import type { Ad, AdValue } from './classad-format.ts';
import { lookupInsensitive, matchesConstraint, referencedAttributes, type ExprNode } from './classad-expr.ts';
import { AdBuilder } from './materialize.ts';
import type { ClusterRecord, JobRecord } from './store.ts';

/** What to select and print. */
export interface QuerySpec {
  /** Attributes to keep (case-insensitive); undefined keeps all. */
  readonly projection: readonly string[] | undefined;
  /** Only ads for which this evaluates to true; undefined selects all. */
  readonly constraint: ExprNode | undefined;
  /** Evaluation time (epoch seconds). */
  readonly now: number;
}

/** Builds, filters and projects ads of one schedd (projection as classad-format.ts `projectAd`). */
export class AdQuery {
  private readonly spec: QuerySpec;
  private readonly refs: readonly string[];
  private readonly partial: AdBuilder;
  private readonly full: AdBuilder;
  /** The constraint needs attributes that the projection drops. */
  private readonly extra: boolean;
  /** Lower-cased projected names. */
  private readonly kept: ReadonlySet<string>;

  constructor(scheddHost: string, spec: QuerySpec) {
    this.spec = spec;
    this.refs = spec.constraint === undefined ? [] : referencedAttributes(spec.constraint);
    const proj = spec.projection;
    this.full = new AdBuilder(scheddHost);
    this.partial = proj === undefined ? this.full : new AdBuilder(scheddHost, [...proj, ...this.refs]);
    this.kept = new Set((proj ?? []).map((a) => a.toLowerCase()));
    this.extra = proj !== undefined && this.refs.some((r) => !this.kept.has(r.toLowerCase()));
  }

  /** The job's ad (projected) when it matches, else undefined. */
  match(cluster: ClusterRecord, job: JobRecord): Ad | undefined {
    let ad = this.partial.build(cluster, job);
    let rebuilt = false;
    const { constraint, projection, now } = this.spec;
    if (constraint !== undefined) {
      let lookup = lookupInsensitive(ad);
      if (this.partial !== this.full && this.refs.some((r) => isExpression(lookup(r)))) {
        ad = this.full.build(cluster, job);
        lookup = lookupInsensitive(ad);
        rebuilt = true;
      }
      if (!matchesConstraint(constraint, { lookup, now })) return undefined;
    }
    if (projection === undefined || !(this.extra || rebuilt)) return ad;
    // The writer's projectAd, without re-deriving the name set for every ad.
    const out: Record<string, AdValue> = {};
    for (const k in ad) if (this.kept.has(k.toLowerCase())) out[k] = ad[k] as AdValue;
    return out;
  }
}

function isExpression(v: unknown): boolean {
  return typeof v === 'object' && v !== null && 'expr' in v;
}
