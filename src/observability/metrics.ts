/**
 * The instance's Prometheus metrics (`GET /metrics`). One {@link Metrics} owns its own prom-client
 * Registry — never the global default one, so tests (and several daemons in one process) never
 * share or collide on metric names.
 *
 * Label cardinality: a site may run thousands of queues, so only gauges and counters carry a
 * `queue` label (one series each per queue). Histograms are per outcome / family / source, never
 * per queue: a per-queue histogram would be (buckets + 2) series per queue.
 *
 * Everything here is called from the daemon's cycle path; every method is synchronous, cheap and
 * never throws (a metrics bug must not affect submission).
 */
import { Counter, Histogram, Registry, collectDefaultMetrics, type LabelValues } from 'prom-client';
import { QueueStore, ScrapedCounter, ScrapedGauge, bump, type Fill } from './per-queue.ts';
import type { CycleRecord } from '../coordination/records.ts';

/** Options of {@link Metrics}. */
export interface MetricsOptions {
  /** Prefix of every apf metric name. @defaultValue `apf_` */
  readonly prefix?: string;
  /** Also collect the Node process metrics (CPU, memory, event loop lag, GC) on this registry. @defaultValue true */
  readonly processMetrics?: boolean;
}

/** The exposition of a registry: what `GET /metrics` answers. */
export interface MetricsExposition {
  /** `text/plain; version=0.0.4; charset=utf-8`. */
  readonly contentType: string;
  readonly body: string;
}

/** Buckets (seconds) of cycle durations: a cycle is a few Redis round trips plus a condor_submit. */
const CYCLE_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];
/** Buckets (seconds) of dispatch lag: BullMQ delivers within ms; a cycle over half an interval late is skipped as stale. */
const LAG_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180];
/** Buckets (seconds) of external calls: PanDA, CRIC, condor_q, condor_submit. */
const CALL_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/** A finite value ≥ 0, else undefined (metrics never record NaN or negative durations). */
function nonNegative(v: number): number | undefined {
  return Number.isFinite(v) && v >= 0 ? v : undefined;
}

type NumberField = 'ready' | 'pending' | 'running' | 'lastCycle' | 'submitted' | 'retired' | 'submitErrors' | 'leaseLosses' | 'fenced';
type CountsField = 'cycles' | 'skipped';

/** prom-client metrics of one apf instance, with the methods the daemon calls. */
export class Metrics {
  /** The registry every metric here is registered on (and only those). */
  readonly registry: Registry;
  /** The per-queue series, read by the scraped gauges and counters (per-queue.ts). */
  readonly #queues = new QueueStore();
  readonly #cycleDuration: Histogram<'outcome'>;
  readonly #dispatchLag: Histogram;
  readonly #fetch: Histogram<'family' | 'source' | 'result'>;
  readonly #fetchErrors: Counter<'family' | 'source'>;
  readonly #submitLatency: Histogram<'result'>;

  constructor(opts: MetricsOptions = {}) {
    const p = opts.prefix ?? 'apf_';
    this.registry = new Registry();
    const registers = [this.registry];
    const store = this.#queues;
    // gauges: every known value; counters: once counted (as prom-client shows a series once incremented)
    const perQueue = (field: NumberField, shown: (v: number) => boolean): Fill<'queue'> => (emit) => {
      for (const [queue, q] of store.entries()) if (shown(q[field])) emit({ queue }, q[field]);
    };
    const known = (v: number): boolean => !Number.isNaN(v);
    const counted = (v: number): boolean => v > 0;
    const perQueueBy = <L extends string>(field: CountsField, label: L): Fill<'queue' | L> => (emit) => {
      for (const [queue, q] of store.entries()) {
        const counts = q[field];
        if (counts !== null) for (const [k, v] of Object.entries(counts)) emit({ queue, [label]: k } as LabelValues<'queue' | L>, v);
      }
    };
    const gauge = (name: string, help: string, field: NumberField): void => void new ScrapedGauge({ name: p + name, help, labelNames: ['queue'], registers }, perQueue(field, known));
    const counter = (name: string, help: string, field: NumberField): void => void new ScrapedCounter({ name: p + name, help, labelNames: ['queue'], registers }, perQueue(field, counted));
    gauge('queue_ready', 'WMS ready (PanDA activated) jobs the last cycle of the queue saw', 'ready');
    gauge('queue_pending', 'Cluster-wide pending pilots the last cycle of the queue saw', 'pending');
    gauge('queue_running', 'Cluster-wide running pilots the last cycle of the queue saw', 'running');
    gauge('queue_last_cycle_timestamp_seconds', 'End of the last cycle of the queue run by this instance (epoch s)', 'lastCycle');
    new ScrapedCounter(
      { name: `${p}cycles_total`, help: 'Cycles run by this instance, by outcome (submitted, retired, nothing, blocked, failed, fenced)', labelNames: ['queue', 'outcome'], registers },
      perQueueBy('cycles', 'outcome'),
    );
    counter('pilots_submitted_total', 'Pilots submitted by this instance', 'submitted');
    counter('pilots_removed_total', 'Pilots removed (retired) by this instance', 'retired');
    counter('submit_errors_total', 'Failed submissions (condor_submit errors, timeouts)', 'submitErrors');
    new ScrapedCounter(
      {
        name: `${p}cycles_skipped_total`,
        help: 'Dispatched cycles skipped: stale, busy (lease held elsewhere), paused, slot-taken, unknown-queue',
        labelNames: ['queue', 'reason'],
        registers,
      },
      perQueueBy('skipped', 'reason'),
    );
    counter('lease_losses_total', 'Queue leases lost while held (renew refused or local deadline passed)', 'leaseLosses');
    counter('fence_rejections_total', "Cycles whose state write the fence rejected (the lease was lost mid-cycle)", 'fenced');
    this.#cycleDuration = new Histogram({ name: `${p}cycle_duration_seconds`, help: 'Cycle duration, lease to commit', labelNames: ['outcome'], buckets: CYCLE_BUCKETS, registers });
    this.#dispatchLag = new Histogram({ name: `${p}dispatch_lag_seconds`, help: 'Cycle start minus its scheduler slot', buckets: LAG_BUCKETS, registers });
    this.#fetch = new Histogram({
      name: `${p}status_fetch_seconds`,
      help: 'Latency of status fetches (family wms: PanDA/CRIC/Condor-WMS; batch: condor_q/condor_history), by source',
      labelNames: ['family', 'source', 'result'],
      buckets: CALL_BUCKETS,
      registers,
    });
    this.#fetchErrors = new Counter({ name: `${p}status_fetch_errors_total`, help: 'Failed status fetches, by family and source', labelNames: ['family', 'source'], registers });
    this.#submitLatency = new Histogram({ name: `${p}submit_seconds`, help: 'Latency of one submission (condor_submit)', labelNames: ['result'], buckets: CALL_BUCKETS, registers });
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: p });
  }

  /**
   * A cycle finished (committed or rejected by the fence): counts it by outcome, its pilots, sets
   * the queue's gauges from what the cycle saw (a value the cycle could not read removes the
   * series rather than keep a stale number), and observes its duration and dispatch lag.
   */
  onRecord(record: CycleRecord): void {
    const q = this.#queues.of(record.queue);
    q.cycles = bump(q.cycles, record.outcome);
    q.submitted += record.jobIds.length;
    q.retired += record.removed.length;
    if (record.outcome === 'fenced') q.fenced++;
    const gauge = (v: number | null): number => (v === null || !Number.isFinite(v) ? Number.NaN : v);
    q.ready = gauge(record.inputs.ready);
    q.pending = gauge(record.inputs.pending);
    q.running = gauge(record.inputs.running);
    if (Number.isFinite(record.at)) q.lastCycle = record.at / 1000;
    const duration = nonNegative(record.durationMs);
    if (duration !== undefined) this.#cycleDuration.observe({ outcome: record.outcome }, duration / 1000);
    const lag = nonNegative(record.lagMs);
    if (lag !== undefined) this.#dispatchLag.observe(lag / 1000);
  }

  /** A dispatched cycle was skipped (`stale`, `busy`, `paused`, `slot-taken`, `unknown-queue`). */
  onSkip(queue: string, reason: string): void {
    const q = this.#queues.of(queue);
    q.skipped = bump(q.skipped, reason);
  }

  /** A held lease was lost (renew refused, or its local monotonic deadline passed). */
  onLeaseLost(queue: string): void {
    this.#queues.of(queue).leaseLosses++;
  }

  /**
   * One status fetch: `family` `wms` (PanDA, CRIC, Condor-WMS) or `batch` (condor_q and
   * condor_history), `source` the shared source key, `seconds` its latency, `ok` false when it failed.
   */
  observeFetch(family: string, source: string, seconds: number, ok: boolean): void {
    const s = nonNegative(seconds);
    if (s !== undefined) this.#fetch.observe({ family, source, result: ok ? 'ok' : 'error' }, s);
    if (!ok) this.#fetchErrors.inc({ family, source });
  }

  /** One submission of a queue (the condor_submit call): its latency, and an error when `ok` is false. */
  observeSubmit(queue: string, seconds: number, ok: boolean): void {
    const s = nonNegative(seconds);
    if (s !== undefined) this.#submitLatency.observe({ result: ok ? 'ok' : 'error' }, s);
    if (!ok) this.#queues.of(queue).submitErrors++;
  }

  /** Removes a queue's gauges (after a reload dropped the queue), so no stale value stays exported. */
  forgetQueue(queue: string): void {
    this.#queues.forgetGauges(queue);
  }

  /** The Prometheus text exposition of this registry. */
  async exposition(): Promise<MetricsExposition> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
