/**
 * Fillactivated, as APF intended it. In APF 2.4.x it raised on every call (stale attributes, and
 * its helper called without `self`); this is the algorithm its code describes: submit activated
 * jobs minus pending pilots, or `default` when information is missing. APF's messages for
 * missing info were bare (`Invalid wmsinfo`); here they follow the `Name:comment=…` form of every
 * other plugin so that monitors can attribute them.
 */
import { opt } from '../../config/options.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyInt } from './pyformat.ts';

/** `Fillactivated`: out = max(0, activated − pending); missing info → default. Ignores its input. */
export const fillactivatedPlugin = defineSchedPlugin({
  id: 'Fillactivated',
  family: 'sched',
  summary: 'max(0, activated − pending) (ignores its input)',
  options: {
    /** `sched.fillactivated.default`: result when WMS or batch info is missing. */
    default: opt.int('pilots when WMS or batch info is missing', 0),
  },
  create({ default: def }) {
    return (n, input) => {
      if (input.wms === null) return { n: def, msg: `Fillactivated:comment=Invalid wmsinfo,in=${pyInt(n)},ret=${pyInt(def)}` };
      if (input.batch === null) return { n: def, msg: `Fillactivated:comment=Invalid batchinfo,in=${pyInt(n)},ret=${pyInt(def)}` };
      const activated = input.wms.ready;
      const { pending, running } = input.batch;
      const out = Math.max(0, activated - pending);
      return {
        n: out,
        msg: `Fillactivated:in=${pyInt(n)},activated=${pyInt(activated)},pending=${pyInt(pending)},running=${pyInt(running)},ret=${pyInt(out)}`,
      };
    };
  },
});
