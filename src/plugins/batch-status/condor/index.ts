/**
 * The Condor batch status plugin (`batchstatusplugin = Condor`): counts this factory's pilots on
 * one schedd per APF queue. One source per (schedd, pool), shared by every queue that names it;
 * each fetch runs `condor_q` (and `condor_history` for the last hour's done/failed and
 * Throttle's window) with a deadline, and any doubt fails the fetch so the last good snapshot
 * ages out instead of reading as zero pilots (apf-behaviour.md §4.2, §1.7).
 */
import { MAPPING_SECTIONS, builtInMappings } from '../../../config/mappings.ts';
import { opt, type OptionValues } from '../../../config/options.ts';
import type { QueueConfig } from '../../../config/types.ts';
import type { BatchSnapshot } from '../../../core/info.ts';
import { defineBatchStatusPlugin, type BatchSource, type SourceContext } from '../../define.ts';
import {
  DEFAULT_THROTTLE,
  FINISHED_WINDOW_S,
  HISTORY_ATTRIBUTES,
  QUEUE_ATTRIBUTES,
  countPilots,
  type ThrottleWindow,
} from './count.ts';
import { argsOption, ownPilotsConstraint, runCondorQuery, scheddKey } from './query.ts';

/** Options: `batchstatus.condor.<key>` in the queue section, falling back to [Factory]. */
const OPTIONS = {
  /** Seconds between two queries of the schedd. @defaultValue 150 */
  sleep: opt.int('Seconds between two queries of the schedd (APF: mandatory, example 150)', 150, { min: 1 }),
  /** Seconds after which the last good snapshot is stale. @defaultValue 360 */
  maxage: opt.int('Seconds after which the last good snapshot is too old to use', 360, { min: 1 }),
  /** Verbatim extra condor_q/condor_history arguments; `-name X` / `-pool Y` pick the schedd. */
  queryargs: argsOption('Extra condor_q/condor_history arguments, verbatim (-name X / -pool Y select the schedd)'),
  /**
   * Output form read from the tools. XML by default: an empty output is then always an error,
   * while `condor_q -json` prints nothing for an empty queue (docs/decisions.md).
   * @defaultValue xml
   */
  format: opt.enum('Output form read from condor_q/condor_history: xml (fails closed on empty output) or json', ['xml', 'json'], 'xml'),
  /** Deadline of each condor_q / condor_history run, seconds. @defaultValue 60 */
  timeout: opt.int('Deadline of each condor_q/condor_history run (s); the process group is killed after it', 60, { min: 1 }),
  /** Also read condor_history (done/failed of the last hour, Throttle's window). @defaultValue true */
  history: opt.bool('Also query condor_history for the last hour\'s done/failed pilots and Throttle', true),
  /** Extra ClassAd constraint ANDed to the own-pilots constraint. */
  constraint: opt.optString('Extra ClassAd constraint ANDed to "this factory\'s pilots"'),
  /** Internal: the condor_q executable (tests, non-standard installs). @defaultValue condor_q */
  condor_q: opt.string('Internal: condor_q executable (path or name on PATH)', 'condor_q'),
  /** Internal: the condor_history executable. @defaultValue condor_history */
  condor_history: opt.string('Internal: condor_history executable (path or name on PATH)', 'condor_history'),
};

/** Typed options of the plugin. */
export type CondorBatchOptions = OptionValues<typeof OPTIONS>;

/** Throttle's window of a queue, from its `sched.throttle.*` options (defaults when unset). */
export function throttleWindow(queue: QueueConfig): ThrottleWindow {
  const choice = queue.sched.find((c) => c.id.toLowerCase() === 'throttle');
  const interval = choice?.options['interval'];
  const maxtime = choice?.options['maxtime'];
  return {
    interval: typeof interval === 'number' ? interval : DEFAULT_THROTTLE.interval,
    maxtime: typeof maxtime === 'number' ? maxtime : DEFAULT_THROTTLE.maxtime,
  };
}

function createSource(options: CondorBatchOptions, ctx: SourceContext): BatchSource {
  const configured = new Map(ctx.queues.map((q) => [q.name, throttleWindow(q)] as const));
  // History must reach back over the widest Throttle interval of the queues served, and at least
  // over the hour of done/failed counts.
  const windowS = Math.max(FINISHED_WINDOW_S, ...[...configured.values()].map((w) => w.interval));
  const mapping =
    ctx.config.mappings.get(MAPPING_SECTIONS.condorBatch) ?? builtInMappings().get(MAPPING_SECTIONS.condorBatch) ?? new Map();
  const own = ownPilotsConstraint(ctx.factory.factoryId, options.constraint);
  const common = { format: options.format, queryArgs: options.queryargs, timeoutMs: options.timeout * 1000 };
  const key = scheddKey(options.queryargs);
  return {
    key,
    sleepS: options.sleep,
    maxAgeS: options.maxage,
    async fetch(signal: AbortSignal): Promise<BatchSnapshot> {
      const at = ctx.now();
      const nowS = Math.floor(at / 1000);
      const queueAds = await runCondorQuery(
        { ...common, tool: 'condor_q', command: options.condor_q, attributes: QUEUE_ATTRIBUTES, constraint: own },
        signal,
      );
      const historyAds = options.history
        ? await runCondorQuery(
            {
              ...common,
              tool: 'condor_history',
              command: options.condor_history,
              attributes: HISTORY_ATTRIBUTES,
              constraint: `${own} && EnteredCurrentStatus > ${nowS - windowS}`,
            },
            signal,
          )
        : undefined;
      const counted = countPilots({ queueAds, historyAds, mapping, nowS, configured });
      if (counted.unmapped.size > 0) {
        ctx.logger.warn(
          { schedd: key, statuses: Object.fromEntries(counted.unmapped) },
          'JobStatus values missing from CONDORBATCHSTATUS-JOBSTATUS2INFO were ignored',
        );
      }
      return { at, queues: counted.queues, jobs: counted.jobs };
    },
  };
}

/** `batchstatusplugin = Condor`. */
export const condorBatchPlugin = defineBatchStatusPlugin({
  id: 'Condor',
  family: 'batchstatus',
  summary: 'Counts this factory\'s pilots per APF queue with condor_q (+ condor_history) on one schedd',
  options: OPTIONS,
  sourceKey: (options) => scheddKey(options.queryargs),
  createSource,
});
