/**
 * SimpleNQueue (legacy, APF 2.0–2.3, also called NQueue): keeps `nqueue` pilots idle in the batch
 * queue, capped per cycle. APF 2.1 declared depthboost/pilotlimit/transferringlimit keys for a
 * 1.x-like algorithm that was never finished; they are not part of this plugin.
 *
 * Legacy plugins took APF's combined status and returned a bare int, ignoring any chain input.
 * Our messages follow the 2.4 form `<Name>:in=<chain input>,nqueue=…,pending=…,maxpilotspercycle=…,ret=…`;
 * when the status is invalid (WMS or batch info missing): `<Name>:comment=invalid status,in=<n>,ret=<default>`.
 */
import { opt, type OptionSpec } from '../../config/options.ts';
import { defineSchedPlugin, type SchedPluginDef } from '../define.ts';
import { pyInt, pyOptInt } from './pyformat.ts';

/** APF computed `nqueue − idle` with nqueue None and raised every cycle: we refuse the config instead. */
const requiredNqueue: OptionSpec<number> = {
  ...opt.int('pilots to keep idle in the batch queue (mandatory)', 0),
  required: true,
};

/** The keys of SimpleNQueue (and of its other name NQueue, under that name's prefix). */
const NQUEUE_OPTIONS = {
  /** `sched.<name>.default`: pilots when the status is invalid (APF's defaultnbpilots). */
  default: opt.int('pilots when WMS or batch info is missing (defaultnbpilots)', 0),
  /** `sched.<name>.nqueue`: pilots to keep pending (mandatory). */
  nqueue: requiredNqueue,
  /** `sched.<name>.maxpilotspercycle`: cap per cycle; unset = none. */
  maxpilotspercycle: opt.optInt('most pilots per cycle (unset: no limit)'),
};

/**
 * Builds the SimpleNQueue algorithm under the plugin name `id` (`SimpleNQueue`, or `NQueue` in
 * n-queue.ts). The name is also the message prefix; keys live under `sched.<id lowercase>.`.
 */
export function defineNQueuePlugin(id: string, summary: string): SchedPluginDef<typeof NQUEUE_OPTIONS> {
  return defineSchedPlugin({
    id,
    family: 'sched',
    summary,
    options: NQUEUE_OPTIONS,
    create({ default: def, nqueue, maxpilotspercycle: cap }) {
      return (n, input) => {
        if (input.wms === null || input.batch === null) {
          return { n: def, msg: `${id}:comment=invalid status,in=${pyInt(n)},ret=${pyInt(def)}` };
        }
        const pending = input.batch.pending;
        let out = Math.max(0, nqueue - pending);
        if (cap !== undefined) out = Math.min(out, cap);
        return {
          n: out,
          msg: `${id}:in=${pyInt(n)},nqueue=${pyInt(nqueue)},pending=${pyInt(pending)},maxpilotspercycle=${pyOptInt(cap)},ret=${pyInt(out)}`,
        };
      };
    },
  });
}

/** `SimpleNQueue`: out = max(0, nqueue − pending), capped by maxpilotspercycle. Ignores its input. */
export const simpleNQueuePlugin = defineNQueuePlugin(
  'SimpleNQueue',
  'legacy: max(0, nqueue − pending) capped by maxpilotspercycle (ignores its input)',
);
