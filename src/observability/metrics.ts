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
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
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

/** prom-client metrics of one apf instance, with the methods the daemon calls. */
export class Metrics {
  /** The registry every metric here is registered on (and only those). */
  readonly registry: Registry;
  readonly #ready: Gauge<'queue'>;
  readonly #pending: Gauge<'queue'>;
  readonly #running: Gauge<'queue'>;
  readonly #lastCycle: Gauge<'queue'>;
  readonly #cycles: Counter<'queue' | 'outcome'>;
  readonly #submitted: Counter<'queue'>;
  readonly #retired: Counter<'queue'>;
  readonly #submitErrors: Counter<'queue'>;
  readonly #skipped: Counter<'queue' | 'reason'>;
  readonly #leaseLosses: Counter<'queue'>;
  readonly #fenced: Counter<'queue'>;
  readonly #cycleDuration: Histogram<'outcome'>;
  readonly #dispatchLag: Histogram;
  readonly #fetch: Histogram<'family' | 'source' | 'result'>;
  readonly #fetchErrors: Counter<'family' | 'source'>;
  readonly #submitLatency: Histogram<'result'>;

  constructor(opts: MetricsOptions = {}) {
    const p = opts.prefix ?? 'apf_';
    this.registry = new Registry();
    const registers = [this.registry];
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> => new Gauge({ name: p + name, help, labelNames, registers });
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> => new Counter({ name: p + name, help, labelNames, registers });
    this.#ready = gauge('queue_ready', 'WMS ready (PanDA activated) jobs the last cycle of the queue saw', ['queue']);
    this.#pending = gauge('queue_pending', 'Cluster-wide pending pilots the last cycle of the queue saw', ['queue']);
    this.#running = gauge('queue_running', 'Cluster-wide running pilots the last cycle of the queue saw', ['queue']);
    this.#lastCycle = gauge('queue_last_cycle_timestamp_seconds', 'End of the last cycle of the queue run by this instance (epoch s)', ['queue']);
    this.#cycles = counter('cycles_total', 'Cycles run by this instance, by outcome (submitted, retired, nothing, blocked, failed, fenced)', ['queue', 'outcome']);
    this.#submitted = counter('pilots_submitted_total', 'Pilots submitted by this instance', ['queue']);
    this.#retired = counter('pilots_removed_total', 'Pilots removed (retired) by this instance', ['queue']);
    this.#submitErrors = counter('submit_errors_total', 'Failed submissions (condor_submit errors, timeouts)', ['queue']);
    this.#skipped = counter('cycles_skipped_total', 'Dispatched cycles skipped: stale, busy (lease held elsewhere), paused, slot-taken, unknown-queue', [
      'queue',
      'reason',
    ]);
    this.#leaseLosses = counter('lease_losses_total', 'Queue leases lost while held (renew refused or local deadline passed)', ['queue']);
    this.#fenced = counter('fence_rejections_total', "Cycles whose state write the fence rejected (the lease was lost mid-cycle)", ['queue']);
    this.#cycleDuration = new Histogram({ name: `${p}cycle_duration_seconds`, help: 'Cycle duration, lease to commit', labelNames: ['outcome'], buckets: CYCLE_BUCKETS, registers });
    this.#dispatchLag = new Histogram({ name: `${p}dispatch_lag_seconds`, help: 'Cycle start minus its scheduler slot', buckets: LAG_BUCKETS, registers });
    this.#fetch = new Histogram({
      name: `${p}status_fetch_seconds`,
      help: 'Latency of status fetches (family wms: PanDA/CRIC/Condor-WMS; batch: condor_q/condor_history), by source',
      labelNames: ['family', 'source', 'result'],
      buckets: CALL_BUCKETS,
      registers,
    });
    this.#fetchErrors = counter('status_fetch_errors_total', 'Failed status fetches, by family and source', ['family', 'source']);
    this.#submitLatency = new Histogram({ name: `${p}submit_seconds`, help: 'Latency of one submission (condor_submit)', labelNames: ['result'], buckets: CALL_BUCKETS, registers });
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: p });
  }

  /**
   * A cycle finished (committed or rejected by the fence): counts it by outcome, its pilots, sets
   * the queue's gauges from what the cycle saw (a value the cycle could not read removes the
   * series rather than keep a stale number), and observes its duration and dispatch lag.
   */
  onRecord(record: CycleRecord): void {
    const queue = record.queue;
    this.#cycles.inc({ queue, outcome: record.outcome });
    if (record.jobIds.length > 0) this.#submitted.inc({ queue }, record.jobIds.length);
    if (record.removed.length > 0) this.#retired.inc({ queue }, record.removed.length);
    if (record.outcome === 'fenced') this.#fenced.inc({ queue });
    const set = (g: Gauge<'queue'>, v: number | null): void => {
      if (v === null || !Number.isFinite(v)) g.remove({ queue });
      else g.set({ queue }, v);
    };
    set(this.#ready, record.inputs.ready);
    set(this.#pending, record.inputs.pending);
    set(this.#running, record.inputs.running);
    if (Number.isFinite(record.at)) this.#lastCycle.set({ queue }, record.at / 1000);
    const duration = nonNegative(record.durationMs);
    if (duration !== undefined) this.#cycleDuration.observe({ outcome: record.outcome }, duration / 1000);
    const lag = nonNegative(record.lagMs);
    if (lag !== undefined) this.#dispatchLag.observe(lag / 1000);
  }

  /** A dispatched cycle was skipped (`stale`, `busy`, `paused`, `slot-taken`, `unknown-queue`). */
  onSkip(queue: string, reason: string): void {
    this.#skipped.inc({ queue, reason });
  }

  /** A held lease was lost (renew refused, or its local monotonic deadline passed). */
  onLeaseLost(queue: string): void {
    this.#leaseLosses.inc({ queue });
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
    if (!ok) this.#submitErrors.inc({ queue });
  }

  /** Removes a queue's gauges (after a reload dropped the queue), so no stale value stays exported. */
  forgetQueue(queue: string): void {
    for (const g of [this.#ready, this.#pending, this.#running, this.#lastCycle]) g.remove({ queue });
  }

  /** The Prometheus text exposition of this registry. */
  async exposition(): Promise<MetricsExposition> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
