/**
 * Reading PanDA job statistics bodies (formats.md §1.2–1.4) into per-site native counts, and
 * mapping native job states to APF's WMS states (apf-behaviour.md §2.7).
 *
 * Every body problem is an `APF_ERR_WMS_RESPONSE` whose message names the offending field, so an
 * operator can tell a broken proxy page from a PanDA-side failure.
 */
import type { z } from 'zod';
import { ApfError, isApfError } from '../../../errors.ts';
import type { WmsQueueInfo } from '../../../core/info.ts';
import { lazySchemas } from '../../../util/zod.ts';
import { decodePickle, pickleToJson, type PickleValue } from './pickle.ts';

/** Site (PanDA queue) → native job status → count. */
export type SiteCounts = ReadonlyMap<string, ReadonlyMap<string, number>>;

/** The APF WMS states a mapping may produce; anything else is ignored like an unknown state. */
export const APF_WMS_STATES = ['ready', 'notready', 'running', 'done', 'failed'] as const;
type ApfWmsState = (typeof APF_WMS_STATES)[number];

/** `a.b.c: message; …` for the first few issues of a zod failure (path `(root)` when empty). */
export function describeZodIssues(error: z.ZodError, root = ''): string {
  const shown = error.issues.slice(0, 3).map((i) => {
    const path = [root, ...i.path.map((p) => String(p))].filter((p) => p !== '').join('.');
    return `${path === '' ? '(root)' : path}: ${i.message}`;
  });
  const more = error.issues.length > 3 ? ` (+${error.issues.length - 3} more)` : '';
  return shown.join('; ') + more;
}

function badBody(what: string, message: string, cause?: unknown): ApfError {
  return new ApfError('APF_ERR_WMS_RESPONSE', `${what}: ${message}`, cause === undefined ? {} : { cause });
}

/** The start of a body, printable, for "not JSON" messages. */
export function bodyStart(body: string): string {
  const t = body.trim().replace(/\s+/g, ' ').replace(/[^\x20-\x7e]/g, '?');
  return t.length > 60 ? `${t.slice(0, 60)}…` : t;
}

const schemas = lazySchemas((z) => {
  const statusCounts = z.record(z.string(), z.number().nonnegative());
  return {
    envelope: z.object({
      success: z.boolean(),
      message: z.string().nullish(),
      data: z.unknown(),
    }),
    /** `{site: {status: n}}` */
    sites: z.record(z.string(), statusCounts),
    /** `{site: {label: {status: n}}}` */
    labelledSites: z.record(z.string(), z.record(z.string(), statusCounts)),
  };
});

/**
 * Parses the `/api/v1/statistics/active_job_stats_by_site` answer: the JSON envelope
 * `{success, message, data}` (read as JSON whatever the Content-Type), `data` = `{site: {status: n}}`.
 * `success:false` is an error carrying PanDA's message. A `"null"` site (jobs not yet brokered) is skipped.
 */
export function parseV1Stats(body: string): SiteCounts {
  const what = 'PanDA api/v1 statistics';
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw badBody(what, `body is not JSON (starts with "${bodyStart(body)}")`, err);
  }
  const env = schemas().envelope.safeParse(json);
  if (!env.success) throw badBody(what, `not a PanDA envelope: ${describeZodIssues(env.error)}`);
  if (!env.data.success) {
    throw badBody(what, `PanDA answered success:false: ${env.data.message ?? '(no message)'}`);
  }
  const data = schemas().sites.safeParse(env.data.data);
  if (!data.success) throw badBody(what, `unexpected shape: ${describeZodIssues(data.error, 'data')}`);
  const out = new Map<string, ReadonlyMap<string, number>>();
  for (const [site, counts] of Object.entries(data.data)) {
    if (site === 'null') continue;
    out.set(site, new Map(Object.entries(counts)));
  }
  return out;
}

/** Decodes a legacy pickle body; refused opcodes become `APF_ERR_WMS_RESPONSE` with the pickle message. */
function decodeBody(body: string, what: string): PickleValue {
  try {
    return decodePickle(body);
  } catch (err) {
    if (isApfError(err, 'APF_ERR_PICKLE')) throw badBody(what, `${err.message} (body starts with "${bodyStart(body)}")`, err);
    throw err;
  }
}

/** The top-level dict without its `None` key, as a plain object for validation. */
function sitesOf(value: PickleValue, what: string): unknown {
  if (!(value instanceof Map)) throw badBody(what, `expected a dict of sites, got ${value === null ? 'None' : typeof value}`);
  const copy = new Map(value);
  copy.delete(null);
  return pickleToJson(copy);
}

/**
 * Parses a legacy `getJobStatisticsPerSite` body: pickle `{site: {status: n}}`. The `None` site
 * (jobs not yet brokered, old servers) is skipped.
 */
export function parseSitePickle(body: string): SiteCounts {
  const what = 'PanDA getJobStatisticsPerSite';
  const plain = sitesOf(decodeBody(body, what), what);
  const r = schemas().sites.safeParse(plain);
  if (!r.success) throw badBody(what, `unexpected shape: ${describeZodIssues(r.error)}`);
  return new Map(Object.entries(r.data).map(([site, c]) => [site, new Map(Object.entries(c))]));
}

/**
 * Parses a legacy `getJobStatisticsWithLabel` body: pickle `{site: {prodSourceLabel: {status: n}}}`,
 * summed over labels (APF did this so that `rc_test`/`prod_test` jobs count too).
 */
export function parseLabelPickle(body: string): SiteCounts {
  const what = 'PanDA getJobStatisticsWithLabel';
  const plain = sitesOf(decodeBody(body, what), what);
  const r = schemas().labelledSites.safeParse(plain);
  if (!r.success) throw badBody(what, `unexpected shape: ${describeZodIssues(r.error)}`);
  const out = new Map<string, ReadonlyMap<string, number>>();
  for (const [site, labels] of Object.entries(r.data)) {
    const sum = new Map<string, number>();
    for (const counts of Object.values(labels)) {
      for (const [status, n] of Object.entries(counts)) sum.set(status, (sum.get(status) ?? 0) + n);
    }
    out.set(site, sum);
  }
  return out;
}

/** Result of {@link mapCounts}. */
export interface MappedCounts {
  /** Per site, the APF WMS counts (native states summed into their APF state). */
  readonly queues: ReadonlyMap<string, WmsQueueInfo>;
  /** Native states found in the body that the mapping does not turn into an APF WMS state. */
  readonly unmapped: ReadonlySet<string>;
}

/**
 * Adds native counts into APF states through a mappings.conf table (native → APF state). Several
 * native states may map to one APF state; native states absent from the table (or mapped to a
 * state APF's WMS info does not have) are ignored and reported in `unmapped`.
 */
export function mapCounts(counts: SiteCounts, mapping: ReadonlyMap<string, string>): MappedCounts {
  const queues = new Map<string, WmsQueueInfo>();
  const unmapped = new Set<string>();
  const isApf = (s: string | undefined): s is ApfWmsState => s !== undefined && (APF_WMS_STATES as readonly string[]).includes(s);
  for (const [site, native] of counts) {
    const info: Record<ApfWmsState, number> = { ready: 0, notready: 0, running: 0, done: 0, failed: 0 };
    for (const [status, n] of native) {
      // configparser lower-cases mappings.conf keys; PanDA states are lower case already.
      const target = mapping.get(status) ?? mapping.get(status.toLowerCase());
      const state = target?.trim().toLowerCase();
      if (!isApf(state)) {
        unmapped.add(status);
        continue;
      }
      info[state] += n;
    }
    queues.set(site, Object.freeze(info));
  }
  return { queues, unmapped };
}
