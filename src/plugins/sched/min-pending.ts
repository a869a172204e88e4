/**
 * MinPending (APF 2.4.14): keeps at least `minimum` pilots pending. APF read the batch info
 * without a None check, so a missing batch source raised and aborted the cycle; so do we.
 */
import { opt } from '../../config/options.ts';
import { ApfError } from '../../errors.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyInt } from './pyformat.ts';

/** `MinPending`: out = max(n, minimum − pending); unset → out = n. Throws without batch info. */
export const minPendingPlugin = defineSchedPlugin({
  id: 'MinPending',
  family: 'sched',
  summary: 'out = max(n, minimum − pending); fails the cycle without batch info (as APF)',
  options: {
    /** `sched.minpending.minimum`: fewest pending pilots; unset = no floor. */
    minimum: opt.optInt('fewest pilots pending in the batch system (unset: no floor)'),
  },
  create({ minimum }) {
    return (n, input) => {
      if (input.batch === null) {
        throw new ApfError('APF_ERR_SCHED', 'MinPending: no batch info (APF raised here too)', {
          details: { plugin: 'MinPending', in: n },
        });
      }
      const pending = input.batch.pending;
      if (minimum === undefined) {
        return { n, msg: `MinPending:comment=not set,in=${pyInt(n)},pending=${pyInt(pending)},ret=${pyInt(n)}` };
      }
      const out = Math.max(n, minimum - pending);
      return {
        n: out,
        msg: `MinPending:in=${pyInt(n)},minpending=${pyInt(minimum)},pending=${pyInt(pending)},ret=${pyInt(out)}`,
      };
    };
  },
});
