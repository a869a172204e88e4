/**
 * MinPerCycle (APF 2.4.14): raises the number to a floor. `minimum = 0` is the usual way to turn
 * a negative number (a retire request) into "do nothing".
 */
import { opt } from '../../config/options.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyInt } from './pyformat.ts';

/** `MinPerCycle`: out = max(n, minimum); unset → out = n (message without in/ret, as APF). */
export const minPerCyclePlugin = defineSchedPlugin({
  id: 'MinPerCycle',
  family: 'sched',
  summary: 'out = max(n, minimum)',
  options: {
    /** `sched.minpercycle.minimum`: the floor; unset = none. */
    minimum: opt.optInt('fewest pilots per cycle; 0 also turns retire requests into nothing (unset: no floor)'),
  },
  create({ minimum }) {
    return (n) => {
      if (minimum === undefined) return { n, msg: 'MinPerCycle:comment=Not set' };
      const out = Math.max(n, minimum);
      return { n: out, msg: `MinPerCycle:in=${pyInt(n)},minpercycle=${pyInt(minimum)},ret=${pyInt(out)}` };
    };
  },
});
