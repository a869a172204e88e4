/**
 * The cluster-wide batch picture an instance works from: every batch source's latest counts
 * (read from Redis in one round trip, cached for a short time), classified by age and by the
 * liveness of the instance owning it, and turned into each queue's pipeline input. Also logs each
 * source transition (→ stale, → offline, → dropped, back to fresh) exactly once.
 */
import { describeError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';
import {
  batchViewFor,
  buildClusterView,
  sourceTransitions,
  type ClusterView,
} from '../coordination/cluster-view.ts';
import type { ContributionStore } from '../coordination/contributions.ts';
import type { InstanceRegistry } from '../coordination/instances.ts';
import type { SourceRecord } from '../coordination/records.ts';
import type { BatchJob, BatchSnapshot } from './info.ts';
import type { SourceView } from './source-view.ts';

/** Options for {@link ClusterBatch}. */
export interface ClusterBatchOptions {
  readonly contributions: ContributionStore;
  readonly registry: InstanceRegistry;
  readonly logger: Logger;
  readonly offlineGraceMs: number;
  /** maxage of a source (ms), from the config of the plugin that polls it. */
  readonly maxAgeMs: (source: string) => number;
  /** How long one read of the cluster picture is reused. @defaultValue 1000 ms */
  readonly cacheMs?: number;
  readonly now?: () => number;
}

/** Reads, caches and classifies the cluster's batch contributions. */
export class ClusterBatch {
  readonly #o: ClusterBatchOptions;
  #view: ClusterView | null = null;
  #readAt = 0;
  #inflight: Promise<ClusterView> | null = null;
  #lastError: string | null = null;

  constructor(o: ClusterBatchOptions) {
    this.#o = o;
  }

  /** The current view (re-read when older than the cache period). Rejects when Redis fails. */
  async view(force = false): Promise<ClusterView> {
    const now = (this.#o.now ?? Date.now)();
    if (!force && this.#view !== null && now - this.#readAt < (this.#o.cacheMs ?? 1000)) return this.#view;
    this.#inflight ??= this.#read().finally(() => {
      this.#inflight = null;
    });
    return this.#inflight;
  }

  async #read(): Promise<ClusterView> {
    const now = (this.#o.now ?? Date.now)();
    const [all, instances] = await Promise.all([this.#o.contributions.readAll(), this.#o.registry.list()]);
    const next = buildClusterView(
      all.sources,
      all.submitted,
      instances,
      { now, offlineGraceMs: this.#o.offlineGraceMs, maxAgeMs: (rec: SourceRecord) => this.#o.maxAgeMs(rec.source) },
    );
    for (const t of sourceTransitions(this.#view, next)) {
      const fields = { source: t.source, owner: t.owner, from: t.from, to: t.to, since: new Date(t.since).toISOString() };
      if (t.to === 'offline' || t.to === 'dropped') this.#o.logger.warn(fields, `batch source ${t.to === 'offline' ? 'owner offline: its pilots keep counting' : 'dropped after the offline grace: its pilots no longer count'}`);
      else if (t.from !== null) this.#o.logger.info(fields, 'batch source state changed');
    }
    this.#view = next;
    this.#readAt = now;
    this.#lastError = null;
    return next;
  }

  /** The pipeline input of a queue; unavailable (with the reason) when Redis cannot be read. */
  async queueView(queue: string, ownSource: string | null, jobs: ReadonlyMap<string, readonly BatchJob[]>): Promise<SourceView<BatchSnapshot>> {
    try {
      return batchViewFor(await this.view(), queue, ownSource, { jobs });
    } catch (err) {
      this.#lastError = describeError(err);
      return { available: false, key: ownSource ?? 'cluster', reason: `cluster batch counts unreadable: ${this.#lastError}` };
    }
  }

  /** The last view read (for status), without I/O. */
  get cached(): ClusterView | null {
    return this.#view;
  }
}
