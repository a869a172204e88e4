/**
 * Ready (APF 2.4.14): the demand signal. Submits what the WMS has ready (PanDA `activated`) minus
 * an offset, minus the pilots already pending. Ignores its input, so it belongs first in a chain.
 */
import { opt } from '../../config/options.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyInt } from './pyformat.ts';

/** `Ready`: out = max(0, (activated − offset) − pending); 0 when WMS or batch info is missing. */
export const readyPlugin = defineSchedPlugin({
  id: 'Ready',
  family: 'sched',
  summary: 'activated jobs minus offset minus pending pilots (ignores its input; put it first)',
  options: {
    /** `sched.ready.offset`: activated jobs not to serve. */
    offset: opt.int('activated jobs to leave unserved (subtracted from activated)', 0),
  },
  create({ offset }) {
    return (n, input) => {
      if (input.wms === null || input.batch === null) {
        return { n: 0, msg: 'Ready:comment=Invalid wmsinfo or batchinfo' };
      }
      const activated = input.wms.ready;
      const pending = input.batch.pending;
      const out = Math.max(0, activated - offset - pending);
      return {
        n: out,
        msg: `Ready:in=${pyInt(n)},activated=${pyInt(activated)},offset=${pyInt(offset)},pending=${pyInt(pending)},ret=${pyInt(out)}`,
      };
    };
  },
});
