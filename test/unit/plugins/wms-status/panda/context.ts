/** Test helpers for the Panda plugin: APF's mapping table and a minimal SourceContext. */
import type { ApfConfig, Mappings } from '../../../../../src/config/types.ts';
import type { SourceContext } from '../../../../../src/plugins/define.ts';
import { silentLogger, type Logger } from '../../../../../src/logging/logger.ts';

/** APF's mappings.conf [PANDAWMSSTATUS-JOBSSTATISTICSPERSITE2INFO] (apf-behaviour.md §2.7), written out here. */
export const APF_PANDA_TABLE: ReadonlyMap<string, string> = new Map<string, string>([
  ['pending', 'notready'],
  ['defined', 'notready'],
  ['assigned', 'notready'],
  ['waiting', 'notready'],
  ['throttled', 'notready'],
  ['activated', 'ready'],
  ['starting', 'running'],
  ['sent', 'running'],
  ['running', 'running'],
  ['holding', 'running'],
  ['transferring', 'running'],
  ['finished', 'done'],
  ['failed', 'failed'],
  ['cancelled', 'failed'],
]);

/**
 * A SourceContext whose config carries only what the Panda source reads (the mappings). The rest
 * of ApfConfig is not consulted by the plugin, so it is left out on purpose.
 */
export function pandaContext(opts: { mappings?: Mappings; logger?: Logger; now?: () => number } = {}): SourceContext {
  const mappings: Mappings = opts.mappings ?? new Map([['PANDAWMSSTATUS-JOBSSTATISTICSPERSITE2INFO', APF_PANDA_TABLE]]);
  const config = { mappings } as unknown as ApfConfig;
  return {
    config,
    factory: config.factory,
    logger: opts.logger ?? silentLogger(),
    queues: [],
    now: opts.now ?? Date.now,
  };
}
