/**
 * The Condor WMS status plugin (`wmsstatusplugin = Condor`): a schedd's idle payload jobs are the
 * demand. Jobs carrying the key attribute (`wmsstatus.condor.queueskey`, `MATCH_APF_QUEUE` by
 * default) are grouped by its value — that value *is* the wmsqueue — and counted through
 * `CONDORWMSSTATUS-JOBSTATUS2INFO`, so idle jobs are `ready` (apf-behaviour.md §4.1). Site status
 * is always `ok`.
 */
import { MAPPING_SECTIONS, builtInMappings } from '../../config/mappings.ts';
import { opt, type OptionValues } from '../../config/options.ts';
import type { SiteInfo, WmsQueueInfo, WmsSnapshot } from '../../core/info.ts';
import { ApfError, isApfError } from '../../errors.ts';
import type { JobAd } from '../batch-status/condor/classad.ts';
import { argsOption, runCondorQuery, scheddKey } from '../batch-status/condor/query.ts';
import { defineWmsStatusPlugin, type SourceContext, type WmsSource } from '../define.ts';

/** Options: `wmsstatus.condor.<key>` in the queue section, falling back to [Factory]. */
const OPTIONS = {
  /** Seconds between two queries. @defaultValue 150 */
  sleep: opt.int('Seconds between two queries of the schedd (APF: mandatory if used, example 150)', 150, { min: 1 }),
  /** Seconds after which the last answer is stale. @defaultValue 360 */
  maxage: opt.int('Seconds after which the last answer is too old to use', 360, { min: 1 }),
  /** Verbatim extra condor_q arguments; `-name X` / `-pool Y` pick the schedd. */
  queryargs: argsOption('Extra condor_q arguments, verbatim (-name X / -pool Y select the schedd)'),
  /** Attribute whose value names the wmsqueue of a job. @defaultValue MATCH_APF_QUEUE */
  queueskey: opt.string('Job attribute whose value is the wmsqueue name', 'MATCH_APF_QUEUE'),
  /** Output form read from condor_q (docs/decisions.md). @defaultValue xml */
  format: opt.enum('Output form read from condor_q: xml (fails closed on empty output) or json', ['xml', 'json'], 'xml'),
  /** Deadline of each condor_q run, seconds. @defaultValue 60 */
  timeout: opt.int('Deadline of each condor_q run (s); the process group is killed after it', 60, { min: 1 }),
  /** Internal: the condor_q executable (tests, non-standard installs). @defaultValue condor_q */
  condor_q: opt.string('Internal: condor_q executable (path or name on PATH)', 'condor_q'),
};

/** Typed options of the plugin. */
export type CondorWmsOptions = OptionValues<typeof OPTIONS>;

const STATES = ['ready', 'notready', 'running', 'done', 'failed'] as const;
type WmsState = (typeof STATES)[number];

/**
 * Groups jobs by the key's value and counts their mapped states. Jobs whose key is not a string
 * or number are skipped (the constraint already drops undefined ones); statuses the mapping does
 * not place are returned in `unmapped`.
 */
export function countWmsJobs(
  ads: readonly JobAd[],
  key: string,
  mapping: ReadonlyMap<string, string>,
): { queues: Map<string, WmsQueueInfo>; unmapped: Map<string, number> } {
  const counts = new Map<string, Record<WmsState, number>>();
  const unmapped = new Map<string, number>();
  for (const ad of ads) {
    const v = ad[key];
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    const wmsqueue = String(v);
    let c = counts.get(wmsqueue);
    if (c === undefined) counts.set(wmsqueue, (c = { ready: 0, notready: 0, running: 0, done: 0, failed: 0 }));
    const status = ad['JobStatus'];
    const text = typeof status === 'number' ? String(status) : JSON.stringify(status ?? null);
    const state = mapping.get(text);
    if (state !== undefined && (STATES as readonly string[]).includes(state)) c[state as WmsState]++;
    else unmapped.set(text, (unmapped.get(text) ?? 0) + 1);
  }
  return { queues: new Map([...counts].map(([q, c]) => [q, { ...c }] as const)), unmapped };
}

function createSource(options: CondorWmsOptions, ctx: SourceContext): WmsSource {
  const mapping =
    ctx.config.mappings.get(MAPPING_SECTIONS.condorWms) ?? builtInMappings().get(MAPPING_SECTIONS.condorWms) ?? new Map();
  const key = options.queueskey;
  const configured = ctx.queues.map((q) => q.wmsqueue).filter((w): w is string => w !== undefined);
  return {
    key: sourceKey(options),
    sleepS: options.sleep,
    maxAgeS: options.maxage,
    async fetch(signal: AbortSignal): Promise<WmsSnapshot> {
      const at = ctx.now();
      const ads = await runCondorQuery(
        {
          tool: 'condor_q',
          command: options.condor_q,
          format: options.format,
          attributes: [key, 'JobStatus'],
          constraint: `${key} =!= UNDEFINED`,
          queryArgs: options.queryargs,
          timeoutMs: options.timeout * 1000,
        },
        signal,
      ).catch((err: unknown) => {
        throw asWmsError(err);
      });
      const counted = countWmsJobs(ads, key, mapping);
      if (counted.unmapped.size > 0) {
        ctx.logger.warn(
          { statuses: Object.fromEntries(counted.unmapped) },
          'JobStatus values missing from CONDORWMSSTATUS-JOBSTATUS2INFO were ignored',
        );
      }
      const sites = new Map<string, SiteInfo>();
      for (const q of [...counted.queues.keys(), ...configured]) sites.set(q, { status: 'ok' });
      return { at, queues: counted.queues, sites };
    },
  };
}

/** The shared query reports batch codes; as a WMS source the same failures carry WMS codes. */
function asWmsError(err: unknown): unknown {
  const code = isApfError(err, 'APF_ERR_BATCH_UNAVAILABLE')
    ? 'APF_ERR_WMS_UNAVAILABLE'
    : isApfError(err, 'APF_ERR_BATCH_OUTPUT')
      ? 'APF_ERR_WMS_RESPONSE'
      : undefined;
  if (code === undefined || !isApfError(err)) return err;
  return new ApfError(code, err.message, { cause: err, details: err.details });
}

/** Queues share a source per schedd and key attribute. */
function sourceKey(options: CondorWmsOptions): string {
  return `${scheddKey(options.queryargs)}/${options.queueskey.toLowerCase()}`;
}

/** `wmsstatusplugin = Condor`. */
export const condorWmsPlugin = defineWmsStatusPlugin({
  id: 'Condor',
  family: 'wmsstatus',
  summary: 'Idle jobs of a schedd, grouped by a key attribute (MATCH_APF_QUEUE), as the WMS demand',
  options: OPTIONS,
  sourceKey,
  createSource,
});
