/**
 * `batchstatusplugin = Static`: fixed pilot counts from the configuration, no batch system
 * contacted. For dry runs and benchmarks of the coordination layer (in a cluster the pilots
 * submitted since the last "poll" are still added by the cluster view).
 */
import { opt } from '../../config/options.ts';
import type { BatchQueueInfo, BatchSnapshot } from '../../core/info.ts';
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
    // the same counts every poll: one read-only Map for the source's lifetime
    const queues: ReadonlyMap<string, BatchQueueInfo> = new Map(ctx.queues.map((q) => [q.name, info]));
    const jobs: BatchSnapshot['jobs'] = new Map();
    return {
      key: 'static',
      sleepS: o.sleep,
      maxAgeS: o.maxage,
      fetch: () => Promise.resolve({ at: ctx.now(), queues, jobs }),
    };
  },
});
