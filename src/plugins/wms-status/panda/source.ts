/**
 * The shared PanDA status source: one job-statistics call (and, when configured, one CRIC call
 * for site status) per interval, for every queue of the endpoint.
 *
 * Failure rules (apf-behaviour.md §1.7, §4.1): if the statistics call fails the fetch rejects and
 * every queue of the endpoint gets no WMS info (fail closed); if only the site-status call fails
 * the snapshot carries `sites: null`, so StatusTest/StatusOffline see None as in APF.
 */
import { ApfError, describeError, isApfError } from '../../../errors.ts';
import type { SiteInfo, WmsSnapshot } from '../../../core/info.ts';
import type { SourceContext, WmsSource } from '../../define.ts';
import { httpGet, redactUrl } from '../../../util/http.ts';
import { parseCricStatus } from './cric.ts';
import { mapCounts, parseLabelPickle, parseSitePickle, parseV1Stats, type SiteCounts } from './parse.ts';

/** Which PanDA call gives the job statistics. */
export type PandaApi = 'v1' | 'label' | 'site';

/** The mappings.conf section that maps PanDA job states to APF states. */
export const PANDA_MAPPING_SECTION = 'PANDAWMSSTATUS-JOBSSTATISTICSPERSITE2INFO';

/** Resolved settings of one source. */
export interface PandaSourceSettings {
  /** Base URL of the PanDA server (no trailing `/`, no `/server/panda`). */
  readonly url: string;
  readonly api: PandaApi;
  readonly sleepS: number;
  readonly maxAgeS: number;
  /** Deadline of the statistics call, retries included (ms). */
  readonly timeoutMs: number;
  readonly retries: number;
  /** CRIC pandaqueue JSON URL; undefined = no site status source. */
  readonly siteStatusUrl: string | undefined;
  /** Deadline of the CRIC call (ms). */
  readonly siteStatusTimeoutMs: number;
}

/** Largest CRIC dump accepted (the full ATLAS dump is tens of MB). */
const CRIC_MAX_BYTES = 256 * 1024 * 1024;

/** Base URL as configured, without trailing slashes or APF's `/server/panda` suffix. */
export function normaliseBaseUrl(url: string): string {
  return url.trim().replace(/\/+$/, '').replace(/\/server\/panda$/, '');
}

/** The statistics URL of an API flavour. */
export function statsUrl(base: string, api: PandaApi): string {
  const b = normaliseBaseUrl(base);
  if (api === 'v1') return `${b}/api/v1/statistics/active_job_stats_by_site`;
  if (api === 'label') return `${b}/server/panda/getJobStatisticsWithLabel`;
  return `${b}/server/panda/getJobStatisticsPerSite`;
}

/** The key under which queues share one source (credentials never appear in it). */
export function pandaSourceKey(url: string, api: PandaApi, siteStatusUrl: string | undefined): string {
  return `${redactUrl(normaliseBaseUrl(url))} api=${api} sitestatus=${siteStatusUrl === undefined ? 'None' : redactUrl(siteStatusUrl)}`;
}

/** Builds the shared source. Throws `APF_ERR_CONFIG_INVALID` when the mapping table is missing. */
export function createPandaSource(settings: PandaSourceSettings, ctx: SourceContext): WmsSource {
  const mapping = ctx.config.mappings.get(PANDA_MAPPING_SECTION);
  if (mapping === undefined) {
    throw new ApfError('APF_ERR_CONFIG_INVALID', `mappings has no [${PANDA_MAPPING_SECTION}] section; the Panda plugin cannot map job states`);
  }
  const log = ctx.logger;
  const reported = new Set<string>();
  const url = statsUrl(settings.url, settings.api);

  async function fetchStats(signal: AbortSignal): Promise<SiteCounts> {
    let body: string;
    try {
      const res = await httpGet(url, {
        signal,
        timeoutMs: settings.timeoutMs,
        retries: settings.retries,
        // The v1 server answers Python str(dict) text unless JSON is asked for.
        ...(settings.api === 'v1' ? { headers: { Accept: 'application/json' } } : { encoding: 'latin1' as const }),
      });
      body = res.body;
    } catch (err) {
      if (isApfError(err, 'APF_ERR_ABORTED')) throw err;
      throw new ApfError('APF_ERR_WMS_UNAVAILABLE', `PanDA statistics (${settings.api}) unavailable: ${describeError(err)}`, {
        cause: err,
        details: { url: redactUrl(url), api: settings.api },
      });
    }
    if (settings.api === 'v1') return parseV1Stats(body);
    return settings.api === 'label' ? parseLabelPickle(body) : parseSitePickle(body);
  }

  /** Never rejects: a failed site-status call only makes `sites` null. */
  async function fetchSites(signal: AbortSignal): Promise<ReadonlyMap<string, SiteInfo> | null> {
    const cric = settings.siteStatusUrl;
    if (cric === undefined) return new Map();
    try {
      const res = await httpGet(cric, { signal, timeoutMs: settings.siteStatusTimeoutMs, retries: 1, maxBytes: CRIC_MAX_BYTES });
      return parseCricStatus(res.body);
    } catch (err) {
      if (!signal.aborted) log.warn({ url: redactUrl(cric), err: describeError(err) }, 'site status unavailable: sites read as None');
      return null;
    }
  }

  return {
    key: pandaSourceKey(settings.url, settings.api, settings.siteStatusUrl),
    sleepS: settings.sleepS,
    maxAgeS: settings.maxAgeS,
    async fetch(signal: AbortSignal): Promise<WmsSnapshot> {
      const sitesAbort = new AbortController();
      const sitesPromise = fetchSites(AbortSignal.any([signal, sitesAbort.signal]));
      let counts: SiteCounts;
      try {
        counts = await fetchStats(signal);
      } catch (err) {
        // The snapshot is lost anyway: do not leave the (possibly large) CRIC download running.
        sitesAbort.abort();
        await sitesPromise;
        throw err;
      }
      const sites = await sitesPromise;
      const { queues, unmapped } = mapCounts(counts, mapping);
      const fresh = [...unmapped].filter((s) => !reported.has(s));
      if (fresh.length > 0) {
        for (const s of fresh) reported.add(s);
        log.debug({ states: fresh, section: PANDA_MAPPING_SECTION }, 'PanDA job states not in the mapping are ignored');
      }
      return { at: ctx.now(), queues, sites };
    },
  };
}
