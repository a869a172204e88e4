/**
 * StatusTest (APF 2.4.14): a site in PanDA `test` status gets a fixed, small number of pilots.
 * A site whose status is unknown (`''`) is "not test". The messages differ subtly from
 * StatusOffline's (`out=` here, `batch/site` order) and are kept exactly as APF wrote them.
 */
import { opt } from '../../config/options.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyInt } from './pyformat.ts';

/** `StatusTest`: site status `test` → pilots; otherwise n; missing WMS/site/batch info → 0. */
export const statusTestPlugin = defineSchedPlugin({
  id: 'StatusTest',
  family: 'sched',
  summary: 'pilots when the site is in test status, else the input unchanged',
  options: {
    /** `sched.statustest.pilots`: pilots per cycle while the site is in test. */
    pilots: opt.int('pilots per cycle while the PanDA site status is test', 0),
  },
  create({ pilots }) {
    return (n, input) => {
      if (input.wms === null || input.batch === null || input.site === null) {
        return { n: 0, msg: `StatusTest:comment=no wms/batch/siteinfo,in=${pyInt(n)},ret=0` };
      }
      if (input.site.status === 'test') {
        return { n: pilots, msg: `StatusTest:comment=test,in=${pyInt(n)},out=${pyInt(pilots)}` };
      }
      return { n, msg: `StatusTest:comment=not test,in=${pyInt(n)},ret=${pyInt(n)}` };
    };
  },
});
