/** Static registry of the WMS status plugins (one file per plugin; a test checks files == registry). */
import type { WmsStatusPluginDef } from '../define.ts';
import { pandaPlugin } from './panda/index.ts';
import { condorWmsPlugin } from './condor.ts';
import { staticWmsPlugin } from './static.ts';

/** Every WMS status plugin (`wmsstatusplugin = None` or absent means no WMS plugin). */
export const WMS_STATUS_PLUGINS: readonly WmsStatusPluginDef[] = [pandaPlugin, condorWmsPlugin, staticWmsPlugin];
