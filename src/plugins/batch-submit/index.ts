/** Static registry of the batch-submit plugins (one file per plugin; a test checks files == registry). */
import type { BatchSubmitPluginDef } from '../define.ts';
import { ALL_BATCH_SUBMIT_PLUGINS } from './all.ts';

/** Every batch-submit plugin. */
export const BATCH_SUBMIT_PLUGINS: readonly BatchSubmitPluginDef[] = ALL_BATCH_SUBMIT_PLUGINS;
