/** Static registry of the sched plugins (one file per plugin; a test checks files == registry). */
import type { SchedPluginDef } from '../define.ts';

/** Every sched plugin. */
export const SCHED_PLUGINS: readonly SchedPluginDef[] = [];
