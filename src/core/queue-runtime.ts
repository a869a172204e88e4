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

/**
 * Chains already built, by the configured chain they were built from. The config loader shares
 * equal chains between queues (ChoiceInterner), and sched functions are pure, so queues configured
 * alike share one built chain: with thousands of queues, one closure per plugin per queue adds up.
 */
const BUILT = new WeakMap<QueueConfig['sched'], readonly ChainLink[]>();

/** Builds the sched chain of a queue (once per distinct configured chain). */
export function buildChain(queue: QueueConfig): readonly ChainLink[] {
  let chain = BUILT.get(queue.sched);
  if (chain !== undefined) return chain;
  chain = Object.freeze(
    queue.sched.map((choice) => {
      const def = findPlugin('sched', choice.id);
      if (def === undefined) throw new Error(`sched plugin ${choice.id} vanished from the registry`);
      return Object.freeze({ id: def.id, fn: def.create(choice.options) });
    }),
  );
  BUILT.set(queue.sched, chain);
  return chain;
}

/**
 * The submit plugins' loggers, by parent logger and plugin id: one pino child per plugin, shared by
 * its queues (which name the queue in each log call, see SubmitContext), not one per queue.
 */
const PLUGIN_LOGGERS = new WeakMap<Logger, Map<string, Logger>>();
function pluginLogger(logger: Logger, plugin: string): Logger {
  let byPlugin = PLUGIN_LOGGERS.get(logger);
  if (byPlugin === undefined) PLUGIN_LOGGERS.set(logger, (byPlugin = new Map<string, Logger>()));
  let child = byPlugin.get(plugin);
  if (child === undefined) byPlugin.set(plugin, (child = logger.child({ plugin })));
  return child;
}

/** Builds the runtime of a queue. */
export function buildQueueRuntime(config: ApfConfig, queue: QueueConfig, logger: Logger): QueueRuntime {
  const def = findPlugin('batchsubmit', queue.batchsubmit.id);
  if (def === undefined) throw new Error(`batchsubmit plugin ${queue.batchsubmit.id} vanished from the registry`);
  const submitter = def.create(queue.batchsubmit.options, { config, factory: config.factory, queue, logger: pluginLogger(logger, def.id) });
  return { queue, chain: buildChain(queue), submitter };
}
