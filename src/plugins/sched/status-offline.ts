/**
 * StatusOffline (APF 2.4.14): a site in PanDA `offline` status gets a fixed number of pilots
 * (usually 0). A site whose status is unknown (`''`) is "not offline". Messages exactly as APF's
 * (`ret=` here, `site/batch` order), which differ from StatusTest's.
 */
import { opt } from '../../config/options.ts';
import { defineSchedPlugin } from '../define.ts';
import { pyInt } from './pyformat.ts';

/** `StatusOffline`: site status `offline` → pilots; otherwise n; missing WMS/site/batch info → 0. */
export const statusOfflinePlugin = defineSchedPlugin({
  id: 'StatusOffline',
  family: 'sched',
  summary: 'pilots when the site is offline, else the input unchanged',
  options: {
    /** `sched.statusoffline.pilots`: pilots per cycle while the site is offline. */
    pilots: opt.int('pilots per cycle while the PanDA site status is offline', 0),
  },
  create({ pilots }) {
    return (n, input) => {
      if (input.wms === null || input.site === null || input.batch === null) {
        return { n: 0, msg: `StatusOffline:comment=no wms/site/batchinfo,in=${pyInt(n)},ret=0` };
      }
      if (input.site.status === 'offline') {
        return { n: pilots, msg: `StatusOffline:comment=offline,in=${pyInt(n)},ret=${pyInt(pilots)}` };
      }
      return { n, msg: `StatusOffline:comment=not offline,in=${pyInt(n)},ret=${pyInt(n)}` };
    };
  },
});
