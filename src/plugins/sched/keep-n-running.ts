/**
 * KeepNRunning (APF 2.4.14): aims at a number of pilots in the batch system (pending + running).
 * With `keep_running` unset the input is read as that absolute target, turning it into a delta.
 * The result may be negative, which asks the submitter to retire pilots. APF also reported
 * retiring VMs (EC2) without subtracting them; this project has none, so retiring is 0.
 */
import { opt } from '../../config/options.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyInt, pyOptInt } from './pyformat.ts';

/** `KeepNRunning`: out = (keep_running ?? n) − (running + pending), each count clamped at ≥ 0. */
export const keepNRunningPlugin = defineSchedPlugin({
  id: 'KeepNRunning',
  family: 'sched',
  summary: 'out = keep_running (or the input) − (running + pending); negative means retire',
  options: {
    /**
     * `sched.keepnrunning.keep_running`: the target. APF read it as text and converted it with
     * int(); `None` (or absent) means unset, and `0` is a real target.
     */
    keep_running: opt.optInt('pilots to keep pending + running (unset: the input is the target)'),
  },
  create({ keep_running: keep }) {
    return (n, input) => {
      if (input.batch === null) return { n: 0, msg: 'KeepNRunning:comment=Invalid queueinfo' };
      // APF clamped each count at 0 ("negative numbers for these values are wrong")
      const pending = Math.max(0, input.batch.pending);
      const running = Math.max(0, input.batch.running);
      const retiring = 0;
      const out = (keep ?? n) - (running + pending);
      return {
        n: out,
        msg: `KeepNRunning:in=${pyInt(n)},keep=${pyOptInt(keep)},running=${pyInt(running)},pending=${pyInt(pending)},retiring=${pyInt(retiring)},ret=${pyInt(out)}`,
      };
    };
  },
});
