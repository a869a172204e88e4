/** Fixed (APF 2.0–2.4.14): always the same number of pilots, whatever came before. */
import { opt } from '../../config/options.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyInt } from './pyformat.ts';

/** `Fixed`: a non-zero pilotspercycle → that value; unset or 0 → 0 (`comment=nosetup`). Ignores its input. */
export const fixedPlugin = defineSchedPlugin({
  id: 'Fixed',
  family: 'sched',
  summary: 'always pilotspercycle (ignores its input); unset or 0 gives 0',
  options: {
    /** `sched.fixed.pilotspercycle`: the number; unset or 0 = 0 (APF tested it for truthiness). */
    pilotspercycle: opt.optInt('pilots every cycle (unset or 0: none)'),
  },
  create({ pilotspercycle }) {
    return (n) => {
      if (pilotspercycle === undefined || pilotspercycle === 0) {
        return { n: 0, msg: `Fixed:comment=nosetup,in=${pyInt(n)},ret=0` };
      }
      return { n: pilotspercycle, msg: `Fixed:in=${pyInt(n)},ret=${pyInt(pilotspercycle)}` };
    };
  },
});
