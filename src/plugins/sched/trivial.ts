/**
 * Trivial (legacy, APF 2.0–2.3): activated jobs minus all of this queue's pilots.
 *
 * Legacy plugins took APF's combined status and returned a bare int, ignoring any chain input.
 * They had no messages; ours follow the 2.4 form `Name:in=<chain input>,<what was read>…,ret=<out>`
 * and, when the status is invalid (WMS or batch info missing), `Name:comment=invalid status,in=<n>,ret=<default>`
 * with the `default` key's value (APF's `defaultnbpilots`).
 */
import { opt } from '../../config/options.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyInt } from './pyformat.ts';

/** `Trivial`: activated == 0 → 0, else max(0, activated − (pending + running)). Ignores its input. */
export const trivialPlugin = defineSchedPlugin({
  id: 'Trivial',
  family: 'sched',
  summary: 'legacy: max(0, activated − (pending + running)) (ignores its input)',
  options: {
    /** `sched.trivial.default`: pilots when the status is invalid (APF's defaultnbpilots). */
    default: opt.int('pilots when WMS or batch info is missing (defaultnbpilots)', 0),
  },
  create({ default: def }) {
    return (n, input) => {
      if (input.wms === null || input.batch === null) {
        return { n: def, msg: `Trivial:comment=invalid status,in=${pyInt(n)},ret=${pyInt(def)}` };
      }
      const activated = input.wms.ready;
      const { pending, running } = input.batch;
      const out = activated === 0 ? 0 : Math.max(0, activated - (pending + running));
      return {
        n: out,
        msg: `Trivial:in=${pyInt(n)},activated=${pyInt(activated)},pending=${pyInt(pending)},running=${pyInt(running)},ret=${pyInt(out)}`,
      };
    };
  },
});
