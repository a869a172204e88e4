/**
 * Throttle (APF 2.4.7+): black-hole protection. When too many of the pilots that started in the
 * last `interval` seconds ran less than `maxtime` seconds, only `submit` pilots are sent.
 *
 * APF queried the schedd history itself; here the batch status source does that (it reads
 * `sched.throttle.interval` and `sched.throttle.maxtime`, declared below for that reason) and
 * hands the counts over as `input.batch.recent`. Without those counts — no batch info, no
 * history, or no pilot in the window — APF passed the input through, and so do we.
 */
import { opt } from '../../config/options.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyFloat, pyInt } from './pyformat.ts';

/** `Throttle`: short/total > ratio (strictly) → submit; otherwise n. */
export const throttlePlugin = defineSchedPlugin({
  id: 'Throttle',
  family: 'sched',
  summary: 'only `submit` pilots while too many recent pilots were short (black-hole protection)',
  options: {
    /** `sched.throttle.interval`: the window (s) of recently started pilots; read by the batch status source. */
    interval: opt.int('window in seconds: pilots that started this recently are examined', 3600),
    /** `sched.throttle.maxtime`: wall-clock seconds under which a pilot counts as short; read by the batch status source. */
    maxtime: opt.int('a pilot that ran less than this many seconds is short', 10),
    /** `sched.throttle.ratio`: short/total above this (strictly) throttles. */
    ratio: opt.float('throttle when short/total is above this ratio', 0.5),
    /** `sched.throttle.submit`: pilots per cycle while throttled. */
    submit: opt.int('pilots per cycle while throttled', 1),
  },
  create({ ratio, submit }) {
    return (n, input) => {
      const recent = input.batch?.recent;
      if (recent === undefined || recent.total === 0) {
        return { n, msg: `Throttle:in=${pyInt(n)},ret=${pyInt(n)}` };
      }
      const out = recent.short / recent.total > ratio ? submit : n;
      return {
        n: out,
        msg: `Throttle:in=${pyInt(n)},total=${pyInt(recent.total)},short=${pyInt(recent.short)},ratio=${pyFloat(ratio)},submit=${pyInt(submit)},ret=${pyInt(out)}`,
      };
    };
  },
});
