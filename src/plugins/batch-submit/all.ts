/** Every batch-submit plugin of this folder, for the registry (src/plugins/batch-submit/index.ts). */
import type { BatchSubmitPluginDef } from '../define.ts';
import { CONDOR_CE } from './condor-ce.ts';
import { CONDOR_LOCAL } from './condor-local.ts';
import { CONDOR_OSGCE } from './condor-osgce.ts';
import { noopSubmitPlugin } from './noop.ts';

/** The condor submit plugins, most used first. */
export const ALL_BATCH_SUBMIT_PLUGINS: readonly BatchSubmitPluginDef[] = [CONDOR_OSGCE, CONDOR_LOCAL, CONDOR_CE, noopSubmitPlugin];
