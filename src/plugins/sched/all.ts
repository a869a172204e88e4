/**
 * Every sched plugin, in the order `apf list-plugins` shows them: APF 2.4.14's plugins, then the
 * two it shipped broken (as intended), then the legacy 2.0–2.3 ones. The registry
 * (`index.ts`) exposes this list.
 */
import type { SchedPluginDef } from '../define.ts';
import { activatedPlugin } from './activated.ts';
import { fillactivatedPlugin } from './fillactivated.ts';
import { fixedPlugin } from './fixed.ts';
import { keepNRunningPlugin } from './keep-n-running.ts';
import { maxPendingPlugin } from './max-pending.ts';
import { maxPerCyclePlugin } from './max-per-cycle.ts';
import { maxPerFactoryPlugin } from './max-per-factory.ts';
import { maxToRunPlugin } from './max-to-run.ts';
import { minPendingPlugin } from './min-pending.ts';
import { minPerCyclePlugin } from './min-per-cycle.ts';
import { nQueuePlugin } from './n-queue.ts';
import { nullPlugin } from './null.ts';
import { readyPlugin } from './ready.ts';
import { scalePlugin } from './scale.ts';
import { simpleNQueuePlugin } from './simple-n-queue.ts';
import { simplePlugin } from './simple.ts';
import { statusOfflinePlugin } from './status-offline.ts';
import { statusTestPlugin } from './status-test.ts';
import { throttlePlugin } from './throttle.ts';
import { trivialPlugin } from './trivial.ts';
import { weightedActivatedPlugin } from './weighted-activated.ts';

/** Every sched plugin definition (ids unique case-insensitively; file = kebab-case of the id). */
export const ALL_SCHED_PLUGINS: readonly SchedPluginDef[] = Object.freeze([
  // APF 2.4.14
  readyPlugin,
  scalePlugin,
  maxPerCyclePlugin,
  minPerCyclePlugin,
  maxPendingPlugin,
  minPendingPlugin,
  maxToRunPlugin,
  maxPerFactoryPlugin,
  keepNRunningPlugin,
  fixedPlugin,
  nullPlugin,
  statusTestPlugin,
  statusOfflinePlugin,
  throttlePlugin,
  // shipped broken in APF 2.4.x; implemented as intended
  weightedActivatedPlugin,
  fillactivatedPlugin,
  // legacy (APF 2.0–2.3)
  activatedPlugin,
  simpleNQueuePlugin,
  nQueuePlugin,
  simplePlugin,
  trivialPlugin,
]);
