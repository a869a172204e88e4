/**
 * Simple (legacy, APF 2.0–2.3): activated jobs minus pending pilots, capped per cycle.
 *
 * Legacy plugins took APF's combined status and returned a bare int, ignoring any chain input.
 * Our messages follow the 2.4 form `Simple:in=<chain input>,activated=…,pending=…,maxpilotspercycle=…,ret=…`;
 * when the status is invalid (WMS or batch info missing): `Simple:comment=invalid status,in=<n>,ret=<default>`.
 */
import { opt } from '../../config/options.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyInt, pyOptInt } from './pyformat.ts';

/** `Simple`: activated == 0 → 0, else max(0, activated − pending), capped by maxpilotspercycle. */
export const simplePlugin = defineSchedPlugin({
  id: 'Simple',
  family: 'sched',
  summary: 'legacy: max(0, activated − pending) capped by maxpilotspercycle (ignores its input)',
  options: {
    /** `sched.simple.default`: pilots when the status is invalid (APF's defaultnbpilots). */
    default: opt.int('pilots when WMS or batch info is missing (defaultnbpilots)', 0),
    /** `sched.simple.maxpilotspercycle`: cap per cycle; unset = none. */
    maxpilotspercycle: opt.optInt('most pilots per cycle (unset: no limit)'),
    /**
     * `sched.simple.maxpendingpilots`: accepted so that old files still load, but not applied —
     * APF's branch for it referred to an undefined variable and never worked.
     */
    maxpendingpilots: opt.optInt('accepted for compatibility; not applied (it never worked in APF)'),
  },
  create({ default: def, maxpilotspercycle: cap }) {
    return (n, input) => {
      if (input.wms === null || input.batch === null) {
        return { n: def, msg: `Simple:comment=invalid status,in=${pyInt(n)},ret=${pyInt(def)}` };
      }
      const activated = input.wms.ready;
      const pending = input.batch.pending;
      let out = activated === 0 ? 0 : Math.max(0, activated - pending);
      if (activated !== 0 && cap !== undefined) out = Math.min(out, cap);
      return {
        n: out,
        msg: `Simple:in=${pyInt(n)},activated=${pyInt(activated)},pending=${pyInt(pending)},maxpilotspercycle=${pyOptInt(cap)},ret=${pyInt(out)}`,
      };
    };
  },
});
