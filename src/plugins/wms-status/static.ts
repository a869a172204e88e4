/**
 * `wmsstatusplugin = Static`: fixed demand from the configuration, no WMS contacted. For dry runs,
 * benchmarks of the coordination layer and sites that drive a queue by hand.
 */
import { opt, type OptionValues } from '../../config/options.ts';
import type { SiteInfo, WmsQueueInfo } from '../../core/info.ts';
import { defineWmsStatusPlugin } from '../define.ts';

const OPTIONS = {
  sleep: opt.int('Seconds between two "fetches" (no I/O)', 60, { min: 1 }),
  maxage: opt.int('Seconds after which the data is stale', 360, { min: 1 }),
  ready: opt.int('Activated (ready) jobs reported for every queue of this source', 0, { min: 0 }),
  running: opt.int('Running jobs reported', 0, { min: 0 }),
  status: opt.string('Site status reported (online, test, offline…)', 'online'),
};

/** Typed options. */
export type StaticWmsOptions = OptionValues<typeof OPTIONS>;

export const staticWmsPlugin = defineWmsStatusPlugin({
  id: 'Static',
  family: 'wmsstatus',
  summary: 'fixed demand from the config (dry runs, benchmarks); contacts nothing',
  options: OPTIONS,
  sourceKey: (o) => `ready=${o.ready},running=${o.running},status=${o.status}`,
  createSource(o, ctx) {
    const names = ctx.queues.map((q) => q.wmsqueue ?? q.name);
    const info: WmsQueueInfo = { ready: o.ready, notready: 0, running: o.running, done: 0, failed: 0 };
    const site: SiteInfo = { status: o.status };
    // the same numbers every fetch: one pair of read-only Maps for the source's lifetime
    const queues: ReadonlyMap<string, WmsQueueInfo> = new Map(names.map((n) => [n, info]));
    const sites: ReadonlyMap<string, SiteInfo> = new Map(names.map((n) => [n, site]));
    return {
      key: `static:${o.ready}:${o.running}:${o.status}`,
      sleepS: o.sleep,
      maxAgeS: o.maxage,
      fetch: () => Promise.resolve({ at: ctx.now(), queues, sites }),
    };
  },
});
