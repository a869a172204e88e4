/**
 * `batchstatusplugin = Static`: fixed pilot counts from the configuration, no batch system
 * contacted. For dry runs and benchmarks of the coordination layer (in a cluster the pilots
 * submitted since the last "poll" are still added by the cluster view).
 */
import { opt } from '../../config/options.ts';
import type { BatchQueueInfo } from '../../core/info.ts';
import { defineBatchStatusPlugin } from '../define.ts';

const OPTIONS = {
  sleep: opt.int('Seconds between two "polls" (no I/O)', 60, { min: 1 }),
  maxage: opt.int('Seconds after which the data is stale', 360, { min: 1 }),
  pending: opt.int('Pending pilots reported for every queue of this source', 0, { min: 0 }),
  running: opt.int('Running pilots reported', 0, { min: 0 }),
};

export const staticBatchPlugin = defineBatchStatusPlugin({
  id: 'Static',
  family: 'batchstatus',
  summary: 'fixed pilot counts from the config (dry runs, benchmarks); contacts nothing',
  options: OPTIONS,
  sourceKey: () => 'local',
  createSource(o, ctx) {
    const info: BatchQueueInfo = { pending: o.pending, running: o.running, done: 0, failed: 0 };
    const names = ctx.queues.map((q) => q.name);
    return {
      key: 'static',
      sleepS: o.sleep,
      maxAgeS: o.maxage,
      fetch: () => Promise.resolve({ at: ctx.now(), queues: new Map(names.map((n) => [n, info])), jobs: new Map() }),
    };
  },
});
