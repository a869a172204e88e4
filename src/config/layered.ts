/**
 * The effective keys of a section as two layers: the `[DEFAULT]` part, one map shared by every
 * section of the document, and the section's own keys. A site with thousands of queues that
 * inherit most of their keys from `[DEFAULT]` keeps one copy of those keys instead of one per
 * queue (docs/architecture.md, "Memory per queue").
 */

/**
 * A read-only map over `base` overlaid with `own`, in Python's `cp.items(section)` order: the keys
 * of `base` in base order, each taking `own`'s value where `own` has the key, then the keys of
 * `own` that `base` lacks, in `own` order. Neither layer is copied; both must not change after
 * construction (the loader never changes them).
 */
export class LayeredEntries<V> implements ReadonlyMap<string, V> {
  readonly #base: ReadonlyMap<string, V>;
  readonly #own: ReadonlyMap<string, V>;
  /** Number of distinct keys. */
  readonly size: number;

  /**
   * @param base - the shared layer (DEFAULT), whose order comes first
   * @param own - the section's layer, whose values win
   */
  constructor(base: ReadonlyMap<string, V>, own: ReadonlyMap<string, V>) {
    this.#base = base;
    this.#own = own;
    let size = base.size;
    for (const k of own.keys()) if (!base.has(k)) size++;
    this.size = size;
  }

  /** The shared layer (for sharing it again one step later, e.g. when the values are resolved). */
  get base(): ReadonlyMap<string, V> {
    return this.#base;
  }

  /** The section's own layer. */
  get own(): ReadonlyMap<string, V> {
    return this.#own;
  }

  get(key: string): V | undefined {
    return this.#own.has(key) ? this.#own.get(key) : this.#base.get(key);
  }

  has(key: string): boolean {
    return this.#own.has(key) || this.#base.has(key);
  }

  *entries(): MapIterator<[string, V]> {
    for (const [k, v] of this.#base) yield [k, this.#own.has(k) ? (this.#own.get(k) as V) : v];
    for (const [k, v] of this.#own) if (!this.#base.has(k)) yield [k, v];
  }

  *keys(): MapIterator<string> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }

  get [Symbol.toStringTag](): string {
    return 'LayeredEntries';
  }
}
