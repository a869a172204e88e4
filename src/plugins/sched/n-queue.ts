/**
 * NQueue: the other name of the legacy SimpleNQueue plugin (same algorithm, see
 * simple-n-queue.ts). Being its own plugin, its keys are `sched.nqueue.<param>` and its messages
 * start with `NQueue:`.
 */
import { defineNQueuePlugin } from './simple-n-queue.ts';

/** `NQueue`: SimpleNQueue under its other name. */
export const nQueuePlugin = defineNQueuePlugin(
  'NQueue',
  'legacy name of SimpleNQueue: max(0, nqueue − pending) capped by maxpilotspercycle',
);
