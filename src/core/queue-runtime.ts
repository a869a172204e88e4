/**
 * Building the plugin instances of one queue from its validated config: the sched chain and the
 * submitter. Built once per config (re-built on reload), used by every cycle.
 */
import type { ApfConfig, QueueConfig } from '../config/types.ts';
import type { Logger } from '../logging/logger.ts';
import type { BatchSubmitter } from '../plugins/define.ts';
import { findPlugin } from '../plugins/registry.ts';
import type { ChainLink } from '../plugins/sched/compose.ts';

/** The live objects of one queue. */
export interface QueueRuntime {
  readonly queue: QueueConfig;
  readonly chain: readonly ChainLink[];
  readonly submitter: BatchSubmitter;
}

/** Builds the sched chain of a queue. */
export function buildChain(queue: QueueConfig): ChainLink[] {
  return queue.sched.map((choice) => {
    const def = findPlugin('sched', choice.id);
    if (def === undefined) throw new Error(`sched plugin ${choice.id} vanished from the registry`);
    return { id: def.id, fn: def.create(choice.options) };
  });
}

/** Builds the runtime of a queue. */
export function buildQueueRuntime(config: ApfConfig, queue: QueueConfig, logger: Logger): QueueRuntime {
  const def = findPlugin('batchsubmit', queue.batchsubmit.id);
  if (def === undefined) throw new Error(`batchsubmit plugin ${queue.batchsubmit.id} vanished from the registry`);
  const submitter = def.create(queue.batchsubmit.options, {
    config,
    factory: config.factory,
    queue,
    logger: logger.child({ queue: queue.name, plugin: def.id }),
  });
  return { queue, chain: buildChain(queue), submitter };
}
