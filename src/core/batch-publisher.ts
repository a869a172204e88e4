/**
 * Polls this instance's batch sources on their own timers (not per cycle) and publishes the
 * per-queue counts to Redis for the whole cluster. A local schedd is this instance's alone; a
 * shared schedd (`-name`/`-pool`) is polled by one instance per interval (a Redis claim), so it is
 * queried — and counted — once.
 */
import { describeError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import { sourceIdFor, type ContributionStore } from '../coordination/contributions.ts';
import type { BatchJob, BatchQueueInfo } from './info.ts';
import type { StatusSources } from './status-sources.ts';

/** The cluster identity of a local batch source key (`Condor:local` → `condor:local@<instance>`). */
export function clusterSourceOf(statusKey: string, instanceId: string): { source: string; owner: string | null } {
  const sep = statusKey.indexOf(':');
  return sourceIdFor(sep === -1 ? statusKey : statusKey.slice(sep + 1), instanceId);
}

/** Options for {@link BatchPublisher}. */
export interface BatchPublisherOptions {
  readonly sources: StatusSources;
  readonly contributions: ContributionStore;
  readonly instanceId: string;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** The poll-and-publish loop of one instance. */
export class BatchPublisher {
  readonly #o: BatchPublisherOptions;
  readonly #lastPoll = new Map<string, number>();
  readonly #controller = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  readonly #running = new Map<string, Promise<void>>();

  constructor(o: BatchPublisherOptions) {
    this.#o = o;
  }

  /** Polls every source now (awaited: the first cycles then see fresh counts), then keeps polling. */
  async start(): Promise<void> {
    await Promise.all(this.#o.sources.batchKeys.map((k) => this.poll(k)));
    this.#timer = setInterval(() => this.#tick(), 250);
    this.#timer.unref();
  }

  #tick(): void {
    const now = (this.#o.now ?? Date.now)();
    for (const key of this.#o.sources.batchKeys) {
      if (this.#running.has(key)) continue;
      if (now - (this.#lastPoll.get(key) ?? 0) >= this.#o.sources.batchSleepMs(key)) void this.poll(key);
    }
  }

  /** Polls one source (claiming it first when shared) and publishes its counts. Never rejects. */
  poll(key: string): Promise<void> {
    const running = this.#running.get(key);
    if (running !== undefined) return running;
    const p = this.#poll(key).finally(() => this.#running.delete(key));
    this.#running.set(key, p);
    return p;
  }

  async #poll(key: string): Promise<void> {
    const now = (this.#o.now ?? Date.now)();
    this.#lastPoll.set(key, now);
    const { source, owner } = clusterSourceOf(key, this.#o.instanceId);
    try {
      if (owner === null && !(await this.#o.contributions.claimPoll(source, this.#o.instanceId, this.#o.sources.batchSleepMs(key)))) {
        return; // another instance polls this shared schedd this interval
      }
      const view = await this.#o.sources.refreshBatch(key, this.#controller.signal, true);
      if (!view.available) return; // nothing new to publish; the old record ages into stale
      const queues: Record<string, BatchQueueInfo> = {};
      for (const [q, info] of view.snapshot.queues) queues[q] = info;
      await this.#o.contributions.publish({ source, owner, publisher: this.#o.instanceId, at: view.snapshot.at, queues });
    } catch (err) {
      if (!this.#controller.signal.aborted) this.#o.logger.warn({ source, err: describeError(err) }, 'batch counts not published');
    }
  }

  /** Pilots of `queue` in this instance's own snapshots (what a retire may remove). */
  jobsOf(statusKey: string): ReadonlyMap<string, readonly BatchJob[]> {
    const v = this.#o.sources.batchView(statusKey);
    return v.available ? v.snapshot.jobs : new Map();
  }

  /** Stops polling, cancels polls in flight and waits until they have settled. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#controller.abort();
    await Promise.allSettled([...this.#running.values()]);
  }
}
