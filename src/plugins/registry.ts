/**
 * The static plugin registries, one per family, built from explicit imports (no lookup of
 * module names from config). Names are matched case-insensitively, as in queues.conf.
 */
import type {
  AnyPluginDef,
  BatchStatusPluginDef,
  BatchSubmitPluginDef,
  PluginFamily,
  SchedPluginDef,
  WmsStatusPluginDef,
} from './define.ts';
import { SCHED_PLUGINS } from './sched/index.ts';
import { WMS_STATUS_PLUGINS } from './wms-status/index.ts';
import { BATCH_STATUS_PLUGINS } from './batch-status/index.ts';
import { BATCH_SUBMIT_PLUGINS } from './batch-submit/index.ts';

/** Family → its plugin definitions, in registry order. */
export const REGISTRY: {
  readonly sched: readonly SchedPluginDef[];
  readonly wmsstatus: readonly WmsStatusPluginDef[];
  readonly batchstatus: readonly BatchStatusPluginDef[];
  readonly batchsubmit: readonly BatchSubmitPluginDef[];
} = {
  sched: SCHED_PLUGINS,
  wmsstatus: WMS_STATUS_PLUGINS,
  batchstatus: BATCH_STATUS_PLUGINS,
  batchsubmit: BATCH_SUBMIT_PLUGINS,
};

/** The plugin of `family` named `name` (any case), or undefined. */
export function findPlugin<F extends PluginFamily>(family: F, name: string): (typeof REGISTRY)[F][number] | undefined {
  const wanted = name.trim().toLowerCase();
  const list: readonly AnyPluginDef[] = REGISTRY[family];
  return list.find((p) => p.id.toLowerCase() === wanted);
}

/** The ids of a family, for "unknown plugin" messages. */
export function pluginIds(family: PluginFamily): string[] {
  const list: readonly AnyPluginDef[] = REGISTRY[family];
  return list.map((p) => p.id);
}

/** INI key prefix of a plugin: `sched.maxpercycle.` */
export function pluginPrefix(family: PluginFamily, id: string): string {
  return `${family}.${id.toLowerCase()}.`;
}
