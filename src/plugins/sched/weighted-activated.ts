/**
 * WeightedActivated, as APF intended it. In APF 2.4.x it raised on every call (it read `.jobs`,
 * `.valid()` and `self.default`, none of which existed any more); this is the algorithm its code
 * and messages describe: weight activated jobs and pending pilots, submit the difference.
 *
 * The `default` key is ours: APF returned `self.default` when info was missing but never read
 * it; it is declared like Fillactivated's `sched.fillactivated.default` (0).
 */
import { opt } from '../../config/options.ts';
import { ApfError } from '../../errors.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyInt } from './pyformat.ts';

/** Python int() of a float product: truncation toward zero; inf/nan raised in Python. */
function truncProduct(count: number, weight: number, what: string): number {
  const v = Math.trunc(count * weight);
  if (!Number.isSafeInteger(v)) {
    throw new ApfError('APF_ERR_SCHED', `WeightedActivated: weighted ${what} is not a usable integer`, {
      details: { count, weight },
    });
  }
  return v === 0 ? 0 : v;
}

/** `WeightedActivated`: out = max(0, int(activated × wa) − int(pending × wp)); ignores its input. */
export const weightedActivatedPlugin = defineSchedPlugin({
  id: 'WeightedActivated',
  family: 'sched',
  summary: 'max(0, int(activated × weight) − int(pending × weight)) (ignores its input)',
  options: {
    /** `sched.weightedactivated.activated`: weight of the activated jobs. */
    activated: opt.float('weight applied to the activated jobs', 1.0),
    /** `sched.weightedactivated.pending`: weight of the pending pilots. */
    pending: opt.float('weight applied to the pending pilots', 1.0),
    /** `sched.weightedactivated.default`: result when WMS or batch info is missing. */
    default: opt.int('pilots when WMS or batch info is missing', 0),
  },
  create({ activated: wa, pending: wp, default: def }) {
    return (n, input) => {
      if (input.wms === null) return { n: def, msg: `WeightedActivated:comment=no wmsinfo,in=${pyInt(n)},ret=${pyInt(def)}` };
      if (input.batch === null) return { n: def, msg: `WeightedActivated:comment=no batchinfo,in=${pyInt(n)},ret=${pyInt(def)}` };
      const activated = input.wms.ready;
      const pending = input.batch.pending;
      const activatedW = truncProduct(activated, wa, 'activated');
      const pendingW = truncProduct(pending, wp, 'pending');
      const out = Math.max(0, activatedW - pendingW);
      return {
        n: out,
        msg: `WeightedActivated:in=${pyInt(n)},activated=${pyInt(activated)},weightedactivated=${pyInt(activatedW)},pending=${pyInt(pending)},weightedpending=${pyInt(pendingW)},ret=${pyInt(out)}`,
      };
    };
  },
});
