/** Static registry of the wms-status plugins (one file per plugin; a test checks files == registry). */
import type { WmsStatusPluginDef } from '../define.ts';

/** Every wms-status plugin. */
export const WMS_STATUS_PLUGINS: readonly WmsStatusPluginDef[] = [];
