/**
 * Scale (APF 2.4.14): multiplies the running number by a factor and rounds up, so a positive
 * demand below one pilot still gives one, and a negative one (a retire request) shrinks toward 0.
 */
import { opt } from '../../config/options.ts';
import { ApfError } from '../../errors.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyFloat, pyInt } from './pyformat.ts';

/** `Scale`: out = ceil(n × factor) as an integer. */
export const scalePlugin = defineSchedPlugin({
  id: 'Scale',
  family: 'sched',
  summary: 'out = ceil(n × factor)',
  options: {
    /** `sched.scale.factor`: the multiplier (a float; printed the Python way, `1.0`). */
    factor: opt.float('multiplier applied to the input (result rounded up)', 1.0),
  },
  create({ factor }) {
    return (n) => {
      const raw = Math.ceil(n * factor);
      // Python's int(math.ceil(x)) raised on inf/nan (e.g. factor = inf); so do we, and we also
      // refuse integers a double cannot carry exactly.
      if (!Number.isSafeInteger(raw)) {
        throw new ApfError('APF_ERR_SCHED', `Scale: ${pyInt(n)} × ${pyFloat(factor)} is not a usable integer`, {
          details: { in: n, factor },
        });
      }
      const out = raw === 0 ? 0 : raw; // ceil(-0.5) is -0 in JavaScript, 0 in Python
      return { n: out, msg: `Scale:in=${pyInt(n)},factor=${pyFloat(factor)},ret=${pyInt(out)}` };
    };
  },
});
