/**
 * MaxPending (APF 2.4.14): keeps the number of idle pilots below a maximum. No limit while nothing
 * is pending (free slots may be waiting); with negatives allowed the result can ask for retires.
 */
import { opt } from '../../config/options.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyInt, pyOptInt } from './pyformat.ts';

/** `MaxPending`: pending > 0 and maximum set → out = min(n, maximum − pending) (floored at 0 unless allow_negative). */
export const maxPendingPlugin = defineSchedPlugin({
  id: 'MaxPending',
  family: 'sched',
  summary: 'out = min(n, maximum − pending) while pilots are pending',
  options: {
    /** `sched.maxpending.maximum`: most pending pilots; unset = no limit. */
    maximum: opt.optInt('most pilots pending in the batch system (unset: no limit)'),
    /** `sched.maxpending.allow_negative`: let maximum − pending go below 0 (a retire request). */
    allow_negative: opt.bool('allow a negative result (retire) when more than maximum are pending', true),
  },
  create({ maximum, allow_negative: allowNegative }) {
    return (n, input) => {
      if (input.batch === null) return { n, msg: 'MaxPending:comment=No queueinfo.' };
      const pending = input.batch.pending;
      let out = n;
      if (pending !== 0 && maximum !== undefined) {
        let room = maximum - pending;
        if (!allowNegative && room < 0) room = 0;
        out = Math.min(n, room);
      }
      return {
        n: out,
        msg: `MaxPending:in=${pyInt(n)},pending=${pyInt(pending)},maxpending=${pyOptInt(maximum)},ret=${pyInt(out)}`,
      };
    };
  },
});
