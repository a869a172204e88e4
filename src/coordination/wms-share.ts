/**
 * The WMS (PanDA) status shared by the whole cluster: fetched once per interval by one instance,
 * read by all.
 *
 * Redis holds, per source key, the last result — a snapshot or the failure — with the time it was
 * stored. A result younger than the source's `sleep` is used as is; otherwise the first instance
 * to take the fetch lock (`SET NX PX sleep`) fetches and stores a new one, and the others keep
 * using what Redis holds meanwhile (the previous snapshot, still good until `maxage`; the gate
 * blocks after that). A failed fetch is stored too, so every instance sees the source as
 * unavailable until the next interval (APF's Panda plugin blanked its cache on failure).
 *
 * In memory, each key's parsed result is kept while it is fresh, and a stale or missing one is
 * re-checked at most every `recheckMs`, so thousands of queue cycles cost a handful of Redis
 * commands per interval (GET, SET NX, and the winner's SET).
 */
import type { Redis } from 'ioredis';
import { describeError } from '../errors.ts';
import type { WmsSnapshot } from '../core/info.ts';
import type { SourceView } from '../core/source-view.ts';
import type { Logger } from '../logging/logger.ts';
import type { WmsSource } from '../plugins/define.ts';
import type { Keys } from './keys.ts';
import { decodeWmsResult, encodeWmsResult, type DecodedWmsResult } from './wms-codec.ts';

/** Options of {@link SharedWms}. */
export interface SharedWmsOptions {
  /**
   * How often a stale or missing result is looked up again in Redis while another instance
   * fetches (or Redis fails), ms. @defaultValue 1000
   */
  readonly recheckMs?: number;
}

/** One key's result in memory. */
interface CacheEntry {
  readonly view: SourceView<WmsSnapshot>;
  /** Epoch ms until which the result is this interval's (no Redis command needed). */
  readonly freshUntil: number;
  /** Monotonic ms before which a not-fresh result is not looked up again. */
  readonly recheckAt: number;
}

/** The cluster's shared view of its WMS sources. */
export class SharedWms {
  readonly #redis: Redis;
  readonly #keys: Keys;
  readonly #instanceId: string;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #recheckMs: number;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #inflight = new Map<string, Promise<SourceView<WmsSnapshot>>>();
  /** Aborts fetches in flight at close(); a fetch serves many cycles, so no single cycle's signal may cancel it. */
  readonly #closing = new AbortController();

  constructor(redis: Redis, keys: Keys, instanceId: string, logger: Logger, now: () => number = Date.now, opts: SharedWmsOptions = {}) {
    this.#redis = redis;
    this.#keys = keys;
    this.#instanceId = instanceId;
    this.#log = logger;
    this.#now = now;
    this.#recheckMs = opts.recheckMs ?? 1000;
  }

  /**
   * The shared view of a WMS source. Never throws: Redis errors, fetch failures and a cancelled
   * `signal` all come back as an unavailable view with the reason.
   *
   * @param key - the source key (queues with the same key share the source).
   * @param signal - the calling cycle's signal: stops waiting, not the shared fetch.
   */
  async view(key: string, source: WmsSource, signal: AbortSignal): Promise<SourceView<WmsSnapshot>> {
    if (signal.aborted) return unavailable(key, 'the cycle was cancelled');
    const cached = this.#cache.get(key);
    if (cached !== undefined && (this.#now() < cached.freshUntil || performance.now() < cached.recheckAt)) return cached.view;
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      pending = this.#refresh(key, source)
        // #refresh handles every expected failure; this only guards the "never throws" promise.
        .catch((err: unknown) => unavailable(key, describeError(err)))
        .finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return raceAbort(pending, signal, unavailable(key, 'the cycle was cancelled'));
  }

  /** Aborts fetches in flight (their callers get an unavailable view); later fetches fail at once. */
  close(): void {
    this.#closing.abort();
  }

  async #refresh(key: string, source: WmsSource): Promise<SourceView<WmsSnapshot>> {
    // PX takes whole milliseconds.
    const sleepMs = Math.max(1, Math.round(source.sleepS * 1000));
    const maxAgeMs = source.maxAgeS * 1000;
    let stored: DecodedWmsResult | null = null;
    try {
      const text = await this.#redis.get(this.#keys.wmsSnapshot(key));
      if (text !== null) {
        stored = decodeWmsResult(text);
        if (stored === null) this.#log.warn({ source: key }, 'ignoring an unreadable shared WMS snapshot in Redis');
      }
      if (stored !== null && this.#now() - stored.at < sleepMs) return this.#remember(key, toView(key, stored, maxAgeMs), stored.at + sleepMs);
      const won = await this.#redis.set(this.#keys.wmsFetchLock(key), this.#instanceId, 'PX', sleepMs, 'NX');
      if (won === null) {
        const view = stored === null ? unavailable(key, 'not fetched yet (another instance is fetching it)') : toView(key, stored, maxAgeMs);
        return this.#remember(key, view, 0);
      }
    } catch (err) {
      return this.#remember(key, unavailable(key, `APF_ERR_REDIS: ${describeError(err)}`), 0);
    }
    return this.#fetch(key, source, sleepMs, maxAgeMs);
  }

  /** This instance holds the fetch lock: fetch, store the result (or the failure), return it. */
  async #fetch(key: string, source: WmsSource, sleepMs: number, maxAgeMs: number): Promise<SourceView<WmsSnapshot>> {
    const signal = AbortSignal.any([this.#closing.signal, AbortSignal.timeout(sleepMs)]);
    let result: { snapshot: WmsSnapshot } | { error: string };
    try {
      result = { snapshot: await source.fetch(signal) };
    } catch (err) {
      if (this.#closing.signal.aborted) return unavailable(key, 'apf is shutting down');
      result = { error: describeError(err) };
      this.#log.warn({ source: key, err }, 'WMS fetch failed: the source is unavailable for the whole cluster until the next interval');
    }
    const at = this.#now();
    try {
      // Kept past the interval so the others can use it until maxage while the next fetch runs.
      const keepMs = Math.max(sleepMs, maxAgeMs) * 3;
      await this.#redis.set(this.#keys.wmsSnapshot(key), encodeWmsResult(at, this.#instanceId, result), 'PX', keepMs);
    } catch (err) {
      this.#log.warn({ source: key, err }, 'could not share the WMS result in Redis: the other instances will fetch it themselves');
    }
    if ('snapshot' in result) this.#log.debug({ source: key, queues: result.snapshot.queues.size }, 'fetched WMS status for the cluster');
    const stored = 'snapshot' in result ? { at, by: this.#instanceId, snapshot: result.snapshot } : { at, by: this.#instanceId, error: result.error };
    return this.#remember(key, toView(key, stored, maxAgeMs), at + sleepMs);
  }

  #remember(key: string, view: SourceView<WmsSnapshot>, freshUntil: number): SourceView<WmsSnapshot> {
    this.#cache.set(key, { view, freshUntil, recheckAt: performance.now() + this.#recheckMs });
    return view;
  }
}

function unavailable(key: string, reason: string): SourceView<WmsSnapshot> {
  return { available: false, key, reason };
}

function toView(key: string, stored: DecodedWmsResult, maxAgeMs: number): SourceView<WmsSnapshot> {
  if ('error' in stored) return unavailable(key, stored.error);
  return { available: true, key, snapshot: stored.snapshot, maxAgeMs };
}

/** `promise`, or `onAbort` as soon as `signal` aborts (the listener is removed either way). */
async function raceAbort<T>(promise: Promise<T>, signal: AbortSignal, onAbort: T): Promise<T> {
  let listener: (() => void) | undefined;
  const aborted = new Promise<T>((resolve) => {
    listener = () => resolve(onAbort);
    signal.addEventListener('abort', listener, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    if (listener !== undefined) signal.removeEventListener('abort', listener);
  }
}
