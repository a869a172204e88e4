/** Static registry of the batch status plugins (one file per plugin; a test checks files == registry). */
import type { BatchStatusPluginDef } from '../define.ts';
import { condorBatchPlugin } from './condor/index.ts';
import { staticBatchPlugin } from './static.ts';

/** Every batch status plugin. */
export const BATCH_STATUS_PLUGINS: readonly BatchStatusPluginDef[] = [condorBatchPlugin, staticBatchPlugin];
