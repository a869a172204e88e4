/**
 * What one configuration turns into inside a running instance: the status sources and, for every
 * enabled queue, its runtime (chain, submitter) with its interval and the cluster id of the batch
 * source it submits into. Rebuilt on every reload; a queue whose plugins cannot be built is logged
 * and left out (the others run).
 */
import { describeError } from '../errors.ts';
import type { ApfConfig } from '../config/types.ts';
import type { Logger } from '../logging/logger.ts';
import { clusterSourceOf } from './batch-publisher.ts';
import type { RunnableQueue } from './cycle-runner.ts';
import { buildQueueRuntime } from './queue-runtime.ts';
import { StatusSources, type FetchObserver } from './status-sources.ts';
import type { BatchSubmitter } from '../plugins/define.ts';

/** The live objects of one configuration. */
export interface Runtimes {
  readonly config: ApfConfig;
  readonly sources: StatusSources;
  readonly queues: ReadonlyMap<string, RunnableQueue & { readonly batchStatusKey: string; readonly wmsKey: string | undefined }>;
  /** maxage (ms) of every cluster batch source id this config knows. */
  readonly maxAgeMs: ReadonlyMap<string, number>;
  /**
   * The job schedulers this config wants (queue → interval ms), built once: the reconciler and
   * every instance's stuck-scheduler check read it every few seconds.
   */
  readonly desired: ReadonlyMap<string, number>;
}

/** Observers of the external calls (metrics). */
export interface RuntimeObservers {
  readonly fetch?: FetchObserver;
  readonly submit?: (queue: string, seconds: number, ok: boolean) => void;
}

/**
 * A submitter whose submit is timed. A class, not a literal of closures: one small object per
 * queue (its methods live on the prototype), which counts with thousands of queues.
 */
class TimedSubmitter implements BatchSubmitter {
  readonly #queue: string;
  readonly #inner: BatchSubmitter;
  readonly #observe: NonNullable<RuntimeObservers['submit']>;

  constructor(queue: string, inner: BatchSubmitter, observe: NonNullable<RuntimeObservers['submit']>) {
    this.#queue = queue;
    this.#inner = inner;
    this.#observe = observe;
  }

  retire(req: Parameters<BatchSubmitter['retire']>[0], signal: AbortSignal): ReturnType<BatchSubmitter['retire']> {
    return this.#inner.retire(req, signal);
  }

  async submit(req: Parameters<BatchSubmitter['submit']>[0], signal: AbortSignal): ReturnType<BatchSubmitter['submit']> {
    const t0 = performance.now();
    try {
      const r = await this.#inner.submit(req, signal);
      this.#observe(this.#queue, (performance.now() - t0) / 1000, true);
      return r;
    } catch (err) {
      this.#observe(this.#queue, (performance.now() - t0) / 1000, false);
      throw err;
    }
  }
}

/** Wraps a submitter's submit with timing. */
function timedSubmitter(queue: string, s: BatchSubmitter, observe: RuntimeObservers['submit']): BatchSubmitter {
  return observe === undefined ? s : new TimedSubmitter(queue, s, observe);
}

/** Builds the runtimes of the enabled queues of `config` for instance `instanceId`. */
export function buildRuntimes(config: ApfConfig, instanceId: string, logger: Logger, observers: RuntimeObservers = {}): Runtimes {
  const enabled = [...config.queues.values()].filter((q) => q.enabled);
  const sources = new StatusSources({ config, logger, queues: enabled, ...(observers.fetch === undefined ? {} : { observe: observers.fetch }) });
  const queues = new Map<string, RunnableQueue & { batchStatusKey: string; wmsKey: string | undefined }>();
  const maxAgeMs = new Map<string, number>();
  // one string per batch source, not one per queue
  const sourceIds = new Map<string, string>();
  for (const q of enabled) {
    const keys = sources.keysOf(q.name);
    if (keys === undefined) continue;
    try {
      const rt = buildQueueRuntime(config, q, logger);
      let source = sourceIds.get(keys.batch);
      if (source === undefined) sourceIds.set(keys.batch, (source = clusterSourceOf(keys.batch, instanceId).source));
      const maxage = q.batchstatus.options['maxage'];
      maxAgeMs.set(source, (typeof maxage === 'number' ? maxage : 360) * 1000);
      queues.set(q.name, {
        ...rt,
        submitter: timedSubmitter(q.name, rt.submitter, observers.submit),
        intervalMs: q.sleep * 1000,
        batchSource: source,
        batchStatusKey: keys.batch,
        wmsKey: keys.wms,
      });
    } catch (err) {
      logger.error({ queue: q.name, err: describeError(err) }, 'queue left out: its plugins could not be built');
    }
  }
  const desired = new Map([...queues.values()].map((q) => [q.queue.name, q.intervalMs]));
  return { config, sources, queues, maxAgeMs, desired };
}
