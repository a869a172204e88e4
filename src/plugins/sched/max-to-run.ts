/** MaxToRun (APF 2.4.14): caps this queue's pilots (pending + running) at a maximum. */
import { opt } from '../../config/options.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyInt } from './pyformat.ts';

/** `MaxToRun`: out = min(n, maximum − (pending + running)); unset → out = n with no message. */
export const maxToRunPlugin = defineSchedPlugin({
  id: 'MaxToRun',
  family: 'sched',
  summary: 'out = min(n, maximum − (pending + running))',
  options: {
    /** `sched.maxtorun.maximum`: most pilots of this queue in the batch system; unset = no limit. */
    maximum: opt.optInt('most pilots (pending + running) of this queue (unset: no limit)'),
  },
  create({ maximum }) {
    return (n, input) => {
      if (input.batch === null) return { n: 0, msg: `MaxToRun:comment=No batchinfo,in=${pyInt(n)}` };
      // APF appended nothing when unset (its message stayed None)
      if (maximum === undefined) return { n, msg: null };
      const { pending, running } = input.batch;
      const out = Math.min(n, maximum - (pending + running));
      return {
        n: out,
        msg: `MaxToRun:in=${pyInt(n)},maxtorun=${pyInt(maximum)},pending=${pyInt(pending)},running=${pyInt(running)},ret=${pyInt(out)}`,
      };
    };
  },
});
