/**
 * The per-queue series of the instance's metrics, kept compactly between scrapes.
 *
 * A site may run thousands of queues. prom-client keeps every labelled series as a hash string
 * plus a labels object plus a value object per metric, and builds that hash on every update:
 * with 10,000 queues and seven per-queue metrics, about 8 MiB held for good and a few µs per cycle.
 * Here a queue's numbers are one small object ({@link QueueNumbers}), and the prom-client
 * metrics that expose them ({@link ScrapedGauge}, {@link ScrapedCounter}) hand the registry their
 * series built from the store when scraped, so the series exist only while a scrape runs.
 */
import { Counter, Gauge, type CounterConfiguration, type GaugeConfiguration, type LabelValues } from 'prom-client';

/** The numbers of one queue. Gauges are NaN while unknown (no series exported). */
export class QueueNumbers {
  ready = Number.NaN;
  pending = Number.NaN;
  running = Number.NaN;
  /** End of the queue's last cycle on this instance, epoch seconds. */
  lastCycle = Number.NaN;
  submitted = 0;
  retired = 0;
  submitErrors = 0;
  leaseLosses = 0;
  fenced = 0;
  /** Cycles by outcome (created on first use). */
  cycles: Record<string, number> | null = null;
  /** Skipped cycles by reason (created on first use). */
  skipped: Record<string, number> | null = null;
}

/** The numbers of every queue this instance has seen, by queue name. */
export class QueueStore {
  readonly #queues = new Map<string, QueueNumbers>();

  /** The numbers of `queue`, created when new. */
  of(queue: string): QueueNumbers {
    let q = this.#queues.get(queue);
    if (q === undefined) this.#queues.set(queue, (q = new QueueNumbers()));
    return q;
  }

  /** Clears the gauges of `queue` (counters stay: they are cumulative). */
  forgetGauges(queue: string): void {
    const q = this.#queues.get(queue);
    if (q === undefined) return;
    q.ready = q.pending = q.running = q.lastCycle = Number.NaN;
  }

  /** Every queue and its numbers. */
  entries(): IterableIterator<[string, QueueNumbers]> {
    return this.#queues.entries();
  }
}

/** Adds one to `counts[key]`, creating the record when null; returns it. */
export function bump(counts: Record<string, number> | null, key: string, by = 1): Record<string, number> {
  const out = counts ?? {};
  out[key] = (out[key] ?? 0) + by;
  return out;
}

/** Calls `emit` once per series a scrape should show. */
export type Fill<L extends string> = (emit: (labels: LabelValues<L>, value: number) => void) => void;

/**
 * What prom-client's registry formats for one metric, built straight from the store on each call:
 * no series hash strings, labels objects and value objects kept between scrapes, nor built through
 * `set`/`inc` for one. (prom-client's .d.ts types `type` as a numeric enum and adds `collect`; at
 * run time `get()` returns exactly these fields, with `type` the string.)
 */
function scraper<L extends string>(config: { readonly name: string; readonly help: string }, type: 'gauge' | 'counter', fill: Fill<L>): () => unknown {
  const { name, help } = config;
  return () => {
    const values: Array<{ labels: LabelValues<L>; value: number }> = [];
    fill((labels, value) => values.push({ labels, value }));
    return { name, help, type, aggregator: 'sum', values };
  };
}

/** A gauge whose series are read from a store at scrape time (see the module comment). */
export class ScrapedGauge<L extends string> extends Gauge<L> {
  readonly #scrape: () => unknown;

  constructor(config: GaugeConfiguration<L>, fill: Fill<L>) {
    super(config);
    this.#scrape = scraper(config, 'gauge', fill);
  }

  override get(): ReturnType<Gauge<L>['get']> {
    return Promise.resolve(this.#scrape() as Awaited<ReturnType<Gauge<L>['get']>>);
  }
}

/** A counter whose cumulative series are read from a store at scrape time (see the module comment). */
export class ScrapedCounter<L extends string> extends Counter<L> {
  readonly #scrape: () => unknown;

  constructor(config: CounterConfiguration<L>, fill: Fill<L>) {
    super(config);
    this.#scrape = scraper(config, 'counter', fill);
  }

  override get(): ReturnType<Counter<L>['get']> {
    return Promise.resolve(this.#scrape() as Awaited<ReturnType<Counter<L>['get']>>);
  }
}
