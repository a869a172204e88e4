/**
 * Activated (legacy, APF 2.1–2.3; removed in 2013 and replaced by Ready plus a chain of limits).
 * Its steps are what MaxToRun, MinPending, MaxPerCycle, MinPerCycle and MaxPending later did one
 * each — but here each limit applies only when it is truthy (set and non-zero), as APF tested.
 *
 * It chose by PanDA site status: `offline` → 0; `test` with test mode allowed → a few pilots;
 * anything else (also `test` without test mode, and an unknown `''`) → the online algorithm.
 * APF also read the cloud status, which this project does not have.
 *
 * Legacy plugins took APF's combined status and returned a bare int, ignoring any chain input.
 * Our messages follow the 2.4 form:
 * - `Activated:in=<n>,status=<site status>,activated=<A>,pending=<P>,running=<R>,ret=<out>`
 * - `Activated:comment=test,in=<n>,pending=<P>,max_pending=<m>,pilots=<t>,ret=<out>`
 * - `Activated:comment=offline,in=<n>,ret=0`
 * - `Activated:comment=invalid status,in=<n>,ret=<default>` when WMS, site or batch info is
 *   missing (the site status is part of its status).
 */
import { opt } from '../../config/options.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyInt } from './pyformat.ts';

/** A limit that APF applied only when truthy. */
function truthy(v: number | undefined): v is number {
  return v !== undefined && v !== 0;
}

/** `Activated`: the 2.1–2.3 all-in-one algorithm. Ignores its input. */
export const activatedPlugin = defineSchedPlugin({
  id: 'Activated',
  family: 'sched',
  summary: 'legacy all-in-one: activated − pending with run/pending/cycle limits and site test/offline modes',
  options: {
    /** `sched.activated.default`: pilots when the status is invalid (APF's defaultnbpilots). */
    default: opt.int('pilots when WMS, site or batch info is missing (defaultnbpilots)', 0),
    /** `sched.activated.max_jobs_torun`: caps pending + running of this queue (0/unset: off). */
    max_jobs_torun: opt.optInt('most pilots pending + running (0 or unset: no limit)'),
    /** `sched.activated.max_pilots_per_cycle`: cap per cycle (0/unset: off). */
    max_pilots_per_cycle: opt.optInt('most pilots per cycle (0 or unset: no limit)'),
    /** `sched.activated.min_pilots_per_cycle`: floor per cycle (0/unset: off). */
    min_pilots_per_cycle: opt.optInt('fewest pilots per cycle (0 or unset: no floor)'),
    /** `sched.activated.min_pilots_pending`: keep at least this many pending (0/unset: off). */
    min_pilots_pending: opt.optInt('fewest pilots pending (0 or unset: no floor)'),
    /** `sched.activated.max_pilots_pending`: keep at most this many pending (0/unset: off). */
    max_pilots_pending: opt.optInt('most pilots pending (0 or unset: no limit)'),
    /** `sched.activated.testmode.allowed`: use the test-mode numbers while the site is in test. */
    'testmode.allowed': opt.bool('while the site is in test, submit testmode.pilots instead', false),
    /** `sched.activated.testmode.pilots`: pilots per cycle in test mode. */
    'testmode.pilots': opt.int('pilots per cycle in test mode', 0),
    /** `sched.activated.testmode.max_pending`: no test pilots while more than this are pending. */
    'testmode.max_pending': opt.int('in test mode, submit nothing while more than this are pending', 10),
  },
  create(o) {
    const def = o.default;
    const testAllowed = o['testmode.allowed'];
    const testPilots = o['testmode.pilots'];
    const testMaxPending = o['testmode.max_pending'];
    return (n, input) => {
      if (input.wms === null || input.site === null || input.batch === null) {
        return { n: def, msg: `Activated:comment=invalid status,in=${pyInt(n)},ret=${pyInt(def)}` };
      }
      const status = input.site.status;
      const { pending, running } = input.batch;
      if (status === 'offline') return { n: 0, msg: `Activated:comment=offline,in=${pyInt(n)},ret=0` };
      if (status === 'test' && testAllowed) {
        const out = pending > testMaxPending ? 0 : testPilots;
        return {
          n: out,
          msg: `Activated:comment=test,in=${pyInt(n)},pending=${pyInt(pending)},max_pending=${pyInt(testMaxPending)},pilots=${pyInt(testPilots)},ret=${pyInt(out)}`,
        };
      }
      const activated = input.wms.ready;
      let out = Math.max(0, activated - pending);
      if (truthy(o.max_jobs_torun)) out = Math.min(out, o.max_jobs_torun - (pending + running));
      if (truthy(o.min_pilots_pending)) out = Math.max(out, o.min_pilots_pending - pending);
      if (truthy(o.max_pilots_per_cycle)) out = Math.min(out, o.max_pilots_per_cycle);
      if (truthy(o.min_pilots_per_cycle)) out = Math.max(out, o.min_pilots_per_cycle);
      if (truthy(o.max_pilots_pending)) out = Math.min(out, o.max_pilots_pending - pending);
      return {
        n: out,
        msg: `Activated:in=${pyInt(n)},status=${status},activated=${pyInt(activated)},pending=${pyInt(pending)},running=${pyInt(running)},ret=${pyInt(out)}`,
      };
    };
  },
});
