/** MaxPerCycle (APF 2.4.14): caps the number of pilots submitted in one cycle. */
import { opt } from '../../config/options.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyInt } from './pyformat.ts';

/** `MaxPerCycle`: out = min(n, maximum); unset → out = n. */
export const maxPerCyclePlugin = defineSchedPlugin({
  id: 'MaxPerCycle',
  family: 'sched',
  summary: 'out = min(n, maximum)',
  options: {
    /** `sched.maxpercycle.maximum`: the cap; unset = no cap. */
    maximum: opt.optInt('most pilots per cycle (unset: no limit)'),
  },
  create({ maximum }) {
    return (n) => {
      if (maximum === undefined) return { n, msg: `MaxPerCycle:comment=Not set,in=${pyInt(n)}` };
      const out = Math.min(n, maximum);
      return { n: out, msg: `MaxPerCycle:in=${pyInt(n)},maxpercycle=${pyInt(maximum)},ret=${pyInt(out)}` };
    };
  },
});
