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
  buildBatchCounts,
  sourceTransitions,
  type BatchCounts,
  type SnapshotSums,
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
  #view: BatchCounts | null = null;
  /** The snapshot sums of the last read, reused while no snapshot changed (buildBatchCounts). */
  #sums: SnapshotSums | undefined;
  #readAt = 0;
  #inflight: { readonly startedAt: number; readonly promise: Promise<BatchCounts> } | null = null;
  #lastError: string | null = null;
  /** The sources counted from memory after a Redis data loss, as last logged. */
  #carried = '';

  constructor(o: ClusterBatchOptions) {
    this.#o = o;
  }

  /**
   * The current view (re-read when older than the cache period). With `notBefore` (epoch ms), only
   * a read that started at or after it will do: a cycle whose queue was committed by another holder
   * a moment ago must see that holder's submission, which a cached read may predate. Rejects when
   * Redis fails.
   */
  async view(force = false, notBefore = 0): Promise<BatchCounts> {
    const now = (this.#o.now ?? Date.now)();
    if (!force && this.#view !== null && this.#readAt >= notBefore && now - this.#readAt < (this.#o.cacheMs ?? 1000)) return this.#view;
    const current = this.#inflight;
    if (current !== null && current.startedAt >= notBefore) return current.promise;
    const entry = {
      startedAt: now,
      promise: this.#read(now).finally(() => {
        if (this.#inflight === entry) this.#inflight = null;
      }),
    };
    this.#inflight = entry;
    return entry.promise;
  }

  async #read(now: number): Promise<BatchCounts> {
    // A new read of our own: a read the store has in flight may have begun before `notBefore`.
    const [all, instances] = await Promise.all([this.#o.contributions.readAll(true), this.#o.registry.list()]);
    // Only the submitted entries are gone through again while no snapshot changed.
    const { counts: next, sums } = buildBatchCounts(
      all.sources,
      all.submitted,
      instances,
      { now, offlineGraceMs: this.#o.offlineGraceMs, maxAgeMs: (rec: SourceRecord) => this.#o.maxAgeMs(rec.source) },
      this.#sums,
    );
    this.#sums = sums;
    this.#logCarried(all.carried);
    // A slower read that began earlier must not replace (nor log transitions against) a newer view.
    if (this.#view !== null && this.#readAt > now) return next;
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

  #logCarried(carried: readonly string[]): void {
    const key = carried.join(' ');
    if (key === this.#carried) return;
    if (carried.length > 0) {
      this.#o.logger.warn({ sources: carried }, 'Redis lost the batch contributions: these sources count from memory until their owners publish again');
    } else {
      this.#o.logger.info('every batch source lost with Redis data is published again');
    }
    this.#carried = key;
  }

  /**
   * The pipeline input of a queue; unavailable (with the reason) when Redis cannot be read.
   * `notBefore`: see {@link ClusterBatch.view}.
   */
  async queueView(queue: string, ownSource: string | null, jobs: ReadonlyMap<string, readonly BatchJob[]>, notBefore = 0): Promise<SourceView<BatchSnapshot>> {
    try {
      return batchViewFor(await this.view(false, notBefore), queue, ownSource, { jobs });
    } catch (err) {
      this.#lastError = describeError(err);
      return { available: false, key: ownSource ?? 'cluster', reason: `cluster batch counts unreadable: ${this.#lastError}` };
    }
  }

  /** The last view read (for status), without I/O. */
  get cached(): BatchCounts | null {
    return this.#view;
  }
}
