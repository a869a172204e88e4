/**
 * `wmsstatusplugin = Panda`: PanDA job statistics per PanDA queue (the demand signal is
 * `activated` → ready), plus site status from CRIC. See apf-behaviour.md §4.1.
 *
 * Keys (`wmsstatus.panda.<key>`) are read from the queue section, falling back to [Factory]; the
 * first queue of an endpoint sets the values for every queue sharing it.
 */
import { opt } from '../../../config/options.ts';
import { defineWmsStatusPlugin } from '../../define.ts';
import { createPandaSource, pandaSourceKey } from './source.ts';

/** The option table of the Panda plugin. */
export const pandaOptions = {
  /** Seconds between two fetches of the shared source. */
  sleep: opt.int('seconds between two fetches of PanDA status', 150, { min: 1 }),
  /** Data older than this is unusable (no WMS info: nothing is submitted). */
  maxage: opt.int('seconds after which PanDA data is stale (queues then get no WMS info)', 360, { min: 1 }),
  /** Base URL; APF's `…/server/panda` form is accepted. */
  url: opt.string('PanDA server base URL (http or https; credentials in the URL are sent as Basic auth)', 'https://pandaserver.cern.ch:25443'),
  /** Statistics call. */
  api: opt.enum(
    'statistics call: v1 = /api/v1/statistics/active_job_stats_by_site (JSON), label = legacy getJobStatisticsWithLabel (pickle, summed over labels), site = legacy getJobStatisticsPerSite (pickle)',
    ['v1', 'label', 'site'],
    'v1',
  ),
  /** Deadline of the statistics call in seconds, retries included. */
  timeout: opt.float('deadline of the statistics call in seconds, retries included', 30, { min: 0.001 }),
  /** Extra attempts on network errors and HTTP 429/5xx. */
  retries: opt.int('extra attempts of the statistics call on network errors and HTTP 429/500/502/503/504', 2, { min: 0, max: 10 }),
  /** CRIC pandaqueue dump; None = no site status (every queue reads status ''). */
  'sitestatus.url': opt.optString(
    "CRIC pandaqueue JSON URL giving each queue's status (e.g. https://atlas-cric.cern.ch/api/atlas/pandaqueue/query/?json); None = no site status source, every queue reads status ''",
  ),
  /** Deadline of the CRIC call in seconds. */
  'sitestatus.timeout': opt.float('deadline of the site-status call in seconds', 60, { min: 0.001 }),
} as const;

/** The Panda WMS status plugin definition. */
export const pandaPlugin = defineWmsStatusPlugin({
  family: 'wmsstatus',
  id: 'Panda',
  summary: 'PanDA job statistics per queue (activated = ready) and CRIC site status',
  options: pandaOptions,
  sourceKey(o) {
    return pandaSourceKey(o.url, o.api, o['sitestatus.url']);
  },
  createSource(o, ctx) {
    return createPandaSource(
      {
        url: o.url,
        api: o.api,
        sleepS: o.sleep,
        maxAgeS: o.maxage,
        timeoutMs: Math.round(o.timeout * 1000),
        retries: o.retries,
        siteStatusUrl: o['sitestatus.url'],
        siteStatusTimeoutMs: Math.round(o['sitestatus.timeout'] * 1000),
      },
      ctx,
    );
  },
});
