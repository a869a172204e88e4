/** Static registry of the sched plugins (one file per plugin; a test checks files == registry). */
import type { SchedPluginDef } from '../define.ts';
import { ALL_SCHED_PLUGINS } from './all.ts';

/** Every sched plugin, in documentation order. */
export const SCHED_PLUGINS: readonly SchedPluginDef[] = ALL_SCHED_PLUGINS;
