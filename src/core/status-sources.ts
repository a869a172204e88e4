/**
 * The shared status sources of a process: one WMS source per endpoint and one batch source per
 * (schedd, pool), each shared by every queue whose plugin options give the same key. Fetches run
 * in parallel with a deadline; a failed WMS fetch makes the source unavailable at once (APF's
 * Panda plugin replaced its cache), a failed batch fetch keeps the last good snapshot until it
 * passes `maxage` (APF's Condor plugin did the same).
 */
import { describeError } from '../errors.ts';
import type { ApfConfig, QueueConfig } from '../config/types.ts';
import type { Logger } from '../logging/logger.ts';
import type { SourceContext, WmsSource } from '../plugins/define.ts';
import { findPlugin } from '../plugins/registry.ts';
import type { BatchSnapshot, WmsSnapshot } from './info.ts';
import type { SourceView } from './source-view.ts';

/** What a slot needs of a source. */
interface Fetcher<T> {
  readonly sleepS: number;
  readonly maxAgeS: number;
  fetch(signal: AbortSignal): Promise<T>;
}

interface Slot<T extends { readonly at: number }> {
  readonly source: Fetcher<T>;
  readonly keepLastGood: boolean;
  last: T | undefined;
  lastError: string | undefined;
  lastAttempt: number;
  inflight: Promise<void> | undefined;
}

/** Options for {@link StatusSources}. */
export interface StatusSourcesOptions {
  readonly config: ApfConfig;
  readonly logger: Logger;
  /** The queues to serve (normally the enabled ones). */
  readonly queues: readonly QueueConfig[];
  readonly now?: () => number;
  /** Told the duration of every fetch (metrics: PanDA and condor call latency). */
  readonly observe?: FetchObserver;
}

/** Receives the duration of a status fetch. */
export type FetchObserver = (family: 'wms' | 'batch', key: string, seconds: number, ok: boolean) => void;

/** Wraps a source's fetch with timing. */
function observed<S extends { fetch(signal: AbortSignal): Promise<unknown> }>(source: S, family: 'wms' | 'batch', key: string, observe: FetchObserver | undefined): S {
  if (observe === undefined) return source;
  const fetch = source.fetch.bind(source);
  return {
    ...source,
    fetch: async (signal: AbortSignal) => {
      const t0 = performance.now();
      try {
        const r = await fetch(signal);
        observe(family, key, (performance.now() - t0) / 1000, true);
        return r;
      } catch (err) {
        observe(family, key, (performance.now() - t0) / 1000, false);
        throw err;
      }
    },
  };
}

/** The WMS and batch source keys of a queue (`<plugin id>:<source key>`). */
export interface SourceKeys {
  readonly wms: string | undefined;
  readonly batch: string;
}

/** Builds and caches the shared sources; answers per-queue {@link SourceView}s. */
export class StatusSources {
  readonly #wms = new Map<string, Slot<WmsSnapshot>>();
  readonly #batch = new Map<string, Slot<BatchSnapshot>>();
  readonly #wmsSources = new Map<string, WmsSource>();
  /** Source keys by queue; queues with the same sources share one object (and its strings). */
  readonly #queueKeys = new Map<string, SourceKeys>();
  readonly #now: () => number;
  readonly #log: Logger;

  constructor(opts: StatusSourcesOptions) {
    this.#now = opts.now ?? Date.now;
    this.#log = opts.logger;
    const wmsGroups = new Map<string, QueueConfig[]>();
    const batchGroups = new Map<string, QueueConfig[]>();
    const wmsFirst = new Map<string, QueueConfig>();
    const batchFirst = new Map<string, QueueConfig>();
    const shared = new Map<string, SourceKeys>();
    for (const q of opts.queues) {
      let wmsKey: string | undefined;
      if (q.wmsstatus !== undefined) {
        const def = findPlugin('wmsstatus', q.wmsstatus.id);
        if (def === undefined) throw new Error(`wmsstatus plugin ${q.wmsstatus.id} vanished from the registry`);
        wmsKey = `${def.id}:${def.sourceKey(q.wmsstatus.options, opts.config.factory)}`;
        push(wmsGroups, wmsKey, q);
        if (!wmsFirst.has(wmsKey)) wmsFirst.set(wmsKey, q);
      }
      const bdef = findPlugin('batchstatus', q.batchstatus.id);
      if (bdef === undefined) throw new Error(`batchstatus plugin ${q.batchstatus.id} vanished from the registry`);
      const batchKey = `${bdef.id}:${bdef.sourceKey(q.batchstatus.options, opts.config.factory)}`;
      push(batchGroups, batchKey, q);
      if (!batchFirst.has(batchKey)) batchFirst.set(batchKey, q);
      const pairKey = `${wmsKey ?? ''}\u0000${batchKey}`;
      let keys = shared.get(pairKey);
      if (keys === undefined) shared.set(pairKey, (keys = Object.freeze({ wms: wmsKey, batch: batchKey })));
      this.#queueKeys.set(q.name, keys);
    }
    const ctx = (queues: QueueConfig[], plugin: string): SourceContext => ({
      config: opts.config,
      factory: opts.config.factory,
      logger: opts.logger.child({ source: plugin }),
      queues,
      now: this.#now,
    });
    // As in APF, the first queue to use a shared source sets its options.
    for (const [key, q] of wmsFirst) {
      const def = findPlugin('wmsstatus', q.wmsstatus?.id ?? '');
      if (def === undefined || q.wmsstatus === undefined) continue;
      const source = observed(def.createSource(q.wmsstatus.options, ctx(wmsGroups.get(key) ?? [], key)), 'wms', key, opts.observe);
      this.#wmsSources.set(key, source);
      this.#wms.set(key, newSlot(source, false));
    }
    for (const [key, q] of batchFirst) {
      const def = findPlugin('batchstatus', q.batchstatus.id);
      if (def === undefined) continue;
      const source = observed(def.createSource(q.batchstatus.options, ctx(batchGroups.get(key) ?? [], key)), 'batch', key, opts.observe);
      this.#batch.set(key, newSlot(source, true));
    }
  }

  /** Source keys of a queue. */
  keysOf(queue: string): SourceKeys | undefined {
    return this.#queueKeys.get(queue);
  }

  /** Every WMS / batch source key. */
  get wmsKeys(): string[] {
    return [...this.#wms.keys()];
  }
  get batchKeys(): string[] {
    return [...this.#batch.keys()];
  }

  /**
   * Fetches every source that is due (older than its `sleep`), or all with `force`. Concurrent
   * callers share one in-flight fetch per source. Never rejects: failures are recorded.
   */
  async refresh(signal: AbortSignal, force = false): Promise<void> {
    const now = this.#now();
    const jobs: Promise<void>[] = [];
    for (const [key, slot] of this.#wms) jobs.push(this.#refreshSlot(key, slot, now, force, signal));
    for (const [key, slot] of this.#batch) jobs.push(this.#refreshSlot(key, slot, now, force, signal));
    await Promise.all(jobs);
  }

  async #refreshSlot<T extends { readonly at: number }>(
    key: string,
    slot: Slot<T>,
    now: number,
    force: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    if (slot.inflight !== undefined) return slot.inflight;
    if (!force && slot.lastAttempt > 0 && now - slot.lastAttempt < slot.source.sleepS * 1000) return;
    slot.lastAttempt = now;
    slot.inflight = (async () => {
      try {
        slot.last = await slot.source.fetch(signal);
        slot.lastError = undefined;
      } catch (err) {
        slot.lastError = describeError(err);
        if (!slot.keepLastGood) slot.last = undefined;
        this.#log.warn({ source: key, err: slot.lastError }, 'status source fetch failed');
      } finally {
        slot.inflight = undefined;
      }
    })();
    return slot.inflight;
  }

  /** The WMS source of a key (a cluster shares its fetches through Redis instead of {@link refresh}). */
  wmsSource(key: string): WmsSource | undefined {
    return this.#wmsSources.get(key);
  }

  /** Refreshes one batch source if it is due (or `force`); resolves with its view. Never rejects. */
  async refreshBatch(key: string, signal: AbortSignal, force = false): Promise<SourceView<BatchSnapshot>> {
    const slot = this.#batch.get(key);
    if (slot !== undefined) await this.#refreshSlot(key, slot, this.#now(), force, signal);
    return this.batchView(key);
  }

  /** The batch poll period of a source key (ms). */
  batchSleepMs(key: string): number {
    return (this.#batch.get(key)?.source.sleepS ?? 60) * 1000;
  }

  /** The WMS view of a source key. */
  wmsView(key: string): SourceView<WmsSnapshot> {
    return view(key, this.#wms.get(key));
  }

  /** The batch view of a source key. */
  batchView(key: string): SourceView<BatchSnapshot> {
    return view(key, this.#batch.get(key));
  }
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list === undefined) m.set(k, [v]);
  else list.push(v);
}

function newSlot<T extends { readonly at: number }>(source: Fetcher<T>, keepLastGood: boolean): Slot<T> {
  return { source, keepLastGood, last: undefined, lastError: undefined, lastAttempt: 0, inflight: undefined };
}

function view<T extends { readonly at: number }>(key: string, slot: Slot<T> | undefined): SourceView<T> {
  if (slot === undefined) return { available: false, key, reason: 'no such source' };
  if (slot.last === undefined) return { available: false, key, reason: slot.lastError ?? 'never fetched' };
  return { available: true, key, snapshot: slot.last, maxAgeMs: slot.source.maxAgeS * 1000 };
}
