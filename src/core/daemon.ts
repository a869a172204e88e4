/**
 * One `apf start` instance: connects to Redis (or starts a private redis-server), registers and
 * heartbeats, polls and publishes its batch counts, runs dispatched queue cycles under leases,
 * keeps the BullMQ schedulers in line with the config (when it holds the reconciler lease), and
 * obeys control messages (reload, drain, freeze for drills). Signals are handled by the CLI.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Worker } from 'bullmq';
import { ApfError, describeError } from '../errors.ts';
import { loadConfig } from '../config/load.ts';
import { formatProblem, type ApfConfig, type ConfigProblem } from '../config/types.ts';
import type { Logger } from '../logging/logger.ts';
import type { EmbeddedRedis } from '../coordination/embedded-redis.ts';
import { Keys } from '../coordination/keys.ts';
import { QueueLeases } from '../coordination/lease.ts';
import { QueueState } from '../coordination/queue-state.ts';
import { InstanceRegistry } from '../coordination/instances.ts';
import { ContributionStore } from '../coordination/contributions.ts';
import { SharedWms } from '../coordination/wms-share.ts';
import { ControlBus, type ControlMessage } from '../coordination/control.ts';
import { Dispatcher, queueOfJob, slotOf } from '../coordination/dispatch.ts';
import { startReconciler, type Reconciler } from '../coordination/reconciler.ts';
import type { InstanceRecord, InstanceState } from '../coordination/records.ts';
import { BatchPublisher } from './batch-publisher.ts';
import type { BatchJob } from './info.ts';
import { ClusterBatch } from './cluster-batch.ts';
import { runCycle, type CycleDeps, type CycleSummary } from './cycle-runner.ts';
import { buildRuntimes, type RuntimeObservers, type Runtimes } from './runtimes.ts';
import { startSideServices, type SideServices } from './side-services.ts';
import { configError, connect, type Connections, type DaemonHooks, type DaemonOptions } from './daemon-setup.ts';
import { resolveInstanceId } from '../util/instance-id.ts';

export type { DaemonHooks, DaemonOptions } from './daemon-setup.ts';

/** A running instance. */
export class FactoryDaemon {
  readonly instanceId: string;
  /** Unique per process: a restarted process never mistakes an old lease for its own. */
  readonly owner: string;
  readonly keys: Keys;
  #rt: Runtimes;
  #state: InstanceState = 'active';
  #lastCycleAt: number | null = null;
  readonly #startedAt = Date.now();
  #worker: Worker | undefined;
  #publisher: BatchPublisher;
  #heartbeat: NodeJS.Timeout | undefined;
  #inflight = new Set<AbortController>();
  #stopping = false;
  #freezeTimer: NodeJS.Timeout | undefined;
  #reloading: Promise<unknown> = Promise.resolve();
  readonly #o: DaemonOptions;
  readonly #log: Logger;
  readonly #redis: Redis;
  readonly #bull: Redis;
  readonly #sub: Redis;
  readonly #embedded: EmbeddedRedis | undefined;
  readonly #leases: QueueLeases;
  readonly #queueState: QueueState;
  readonly #registry: InstanceRegistry;
  readonly #contributions: ContributionStore;
  readonly #wms: SharedWms;
  readonly #control: ControlBus;
  readonly #dispatcher: Dispatcher;
  readonly #reconciler: Reconciler;
  readonly #cluster: ClusterBatch;
  readonly #conn: Connections;
  #side: SideServices | undefined;
  #resolveStopped: () => void = () => undefined;
  /** Resolves once the instance has stopped (also when it stopped itself). */
  readonly stopped: Promise<void> = new Promise((r) => {
    this.#resolveStopped = r;
  });
  readonly hooks: DaemonHooks = {};

  private constructor(o: DaemonOptions, config: ApfConfig, conn: Connections, instanceId: string) {
    this.#o = o;
    const c = config.factory.cluster;
    this.instanceId = instanceId;
    this.owner = `${this.instanceId}:${process.pid}:${Date.now()}`;
    this.#log = o.logger.child({ instance: this.instanceId });
    this.keys = new Keys(c.prefix);
    this.#redis = conn.redis;
    this.#bull = conn.bull;
    this.#sub = conn.sub;
    this.#embedded = conn.embedded;
    this.#conn = conn;
    this.#rt = buildRuntimes(config, this.instanceId, this.#log, this.#observers());
    this.#leases = new QueueLeases(this.#redis, this.keys, this.owner, { ttlMs: c.leaseTtlMs }, this.#log);
    this.#queueState = new QueueState(this.#redis, this.keys, { history: c.history });
    this.#registry = new InstanceRegistry(this.#redis, this.keys, { deadAfterMs: c.deadAfterMs });
    this.#contributions = new ContributionStore(this.#redis, this.keys);
    this.#wms = new SharedWms(this.#redis, this.keys, this.instanceId, this.#log);
    this.#control = new ControlBus(this.#sub, this.#redis, this.keys, this.#log);
    const spreadStepMs = (): number => this.#rt.config.factory.cluster.spreadStepMs;
    this.#dispatcher = new Dispatcher({ connection: this.#bull, keys: this.keys, logger: this.#log, commandTimeoutMs: c.redis.commandTimeoutMs, spreadStepMs });
    this.#cluster = new ClusterBatch({
      contributions: this.#contributions,
      registry: this.#registry,
      logger: this.#log,
      offlineGraceMs: c.offlineGraceMs,
      maxAgeMs: (source) => this.#rt.maxAgeMs.get(source) ?? 360_000,
    });
    this.#publisher = this.#newPublisher();
    this.#reconciler = startReconciler({
      dispatcher: this.#dispatcher,
      redis: this.#redis,
      keys: this.keys,
      owner: this.owner,
      intervalMs: c.reconcileIntervalMs,
      desired: () => this.#rt.desired,
      logger: this.#log,
    });
  }

  /** Loads the config, connects, registers and starts taking cycles. Rejects with every config problem. */
  static async start(o: DaemonOptions): Promise<FactoryDaemon> {
    const loaded = await loadConfig({ dir: o.configDir });
    if (loaded.config === undefined) throw configError(loaded.problems);
    for (const w of loaded.problems) o.logger.warn({ problem: formatProblem(w) }, 'configuration warning');
    // Before anything is connected: a bad id (from --instance or the hostname) is a usage error.
    const instanceId = resolveInstanceId(o.instanceId, loaded.config.factory.cluster.instanceId, hostname());
    const conn = await connect(loaded.config, o);
    const d = new FactoryDaemon(o, loaded.config, conn, instanceId);
    await d.#begin();
    return d;
  }

  /** This process's registration as of now. */
  #registration(): Omit<InstanceRecord, 'heartbeatAt'> {
    return {
      id: this.instanceId,
      owner: this.owner,
      host: hostname(),
      pid: process.pid,
      version: this.#o.version,
      configHash: this.#rt.config.hash,
      startedAt: this.#startedAt,
      lastCycleAt: this.#lastCycleAt,
      state: this.#state,
      webPort: this.#side?.webPort() ?? null,
    };
  }

  /** Metrics observers of the external calls (the side services exist once started). */
  #observers(): RuntimeObservers {
    return {
      fetch: (family, key, s, ok) => this.#side?.metrics.observeFetch(family, key, s, ok),
      submit: (queue, s, ok) => this.#side?.metrics.observeSubmit(queue, s, ok),
    };
  }

  async #begin(): Promise<void> {
    this.#side = await startSideServices({
      config: () => this.#rt.config,
      instanceId: this.instanceId,
      version: this.#o.version,
      redisSettings: this.#conn.settings,
      env: this.#conn.env,
      keys: this.keys,
      logger: this.#log,
      webPort: this.#o.webPort,
      redis: this.#redis,
      checks: () => ({ worker: { ok: this.#worker !== undefined || this.#state !== 'active', detail: this.#state } }),
    });
    await this.#registry.register(this.#registration());
    await this.#control.subscribe((msg) => void this.#onControl(msg));
    this.#startHeartbeat();
    await this.#publisher.start();
    this.#startWorker();
    this.#log.info({ owner: this.owner, queues: this.#rt.queues.size, redis: this.#embedded === undefined ? 'external' : 'embedded' }, 'instance started');
  }

  /** The configuration in use. */
  get config(): ApfConfig {
    return this.#rt.config;
  }

  /** Lifecycle state in the registry. */
  get state(): InstanceState {
    return this.#state;
  }

  /** The command connection (status readers, web server). */
  get redis(): Redis {
    return this.#redis;
  }

  /** Cycle dependencies (exposed for tests). */
  #deps(): CycleDeps {
    return {
      instanceId: this.instanceId,
      owner: this.owner,
      configHash: () => this.#rt.config.hash,
      queue: (name) => this.#rt.queues.get(name),
      tryLease: (queue, claim) => this.#leases.tryAcquireAndClaim(queue, claim),
      state: this.#queueState,
      wmsView: async (q, signal) => {
        const rq = this.#rt.queues.get(q.queue.name);
        if (rq?.wmsKey === undefined) return undefined;
        const source = this.#rt.sources.wmsSource(rq.wmsKey);
        if (source === undefined) return { available: false, key: rq.wmsKey, reason: 'no such source' };
        return this.#wms.view(rq.wmsKey, source, signal);
      },
      batchView: async (q, notBefore) => {
        const rq = this.#rt.queues.get(q.queue.name);
        const jobs: ReadonlyMap<string, readonly BatchJob[]> = rq === undefined ? new Map() : this.#publisher.jobsOf(rq.batchStatusKey);
        const view = await this.#cluster.queueView(q.queue.name, q.batchSource, jobs, notBefore);
        return { view, jobs: jobs.get(q.queue.name) ?? [] };
      },
      maxPerFactory: () => this.#rt.config.factory.maxPerFactory,
      logger: this.#log,
      onRecord: (r) => {
        this.#lastCycleAt = r.at;
        this.#side?.onRecord(r);
        this.hooks.onRecord?.(r);
      },
      onSkip: (q, why) => {
        this.#side?.onSkip(q, why);
        this.hooks.onSkip?.(q, why);
      },
    };
  }

  #startWorker(): void {
    const c = this.#rt.config.factory.cluster;
    this.#worker = this.#dispatcher.createWorker(
      async (job, signal): Promise<CycleSummary> => {
        const ac = new AbortController();
        this.#inflight.add(ac);
        try {
          const s = signal === undefined ? ac.signal : AbortSignal.any([ac.signal, signal]);
          return await runCycle(this.#deps(), queueOfJob(job), slotOf(job), s);
        } finally {
          this.#inflight.delete(ac);
        }
      },
      { concurrency: c.concurrency, lockDurationMs: c.lockDurationMs, stalledIntervalMs: c.stalledIntervalMs, owner: this.owner },
    );
    // BullMQ worker errors are logged by Dispatcher.createWorker ("BullMQ worker error").
  }

  #startHeartbeat(): void {
    // While Redis is unreachable every beat fails: the first failure is a warning, the rest are
    // debug records, and the first success after them says how many there were.
    let failures = 0;
    const beat = async (): Promise<void> => {
      try {
        const r = await this.#registry.heartbeat(this.instanceId, this.owner, {
          lastCycleAt: this.#lastCycleAt,
          configHash: this.#rt.config.hash,
          state: this.#state,
        });
        if (r === 'replaced') {
          // Redis lost the registration (restart without persistence, failover that lost writes):
          // register again. Only another process's registration under our id means stop.
          if ((await this.#registry.get(this.instanceId)) === null) {
            this.#log.warn('registration missing from Redis (data lost?): registering again');
            await this.#registry.register(this.#registration());
            return;
          }
          this.#log.error('another process registered with this instance id: stopping work (ids must be unique per instance)');
          void this.stop();
        }
        if (failures > 0) this.#log.info({ failures }, 'heartbeat restored');
        failures = 0;
      } catch (err) {
        failures += 1;
        if (failures === 1) this.#log.warn({ err: describeError(err) }, 'heartbeat failed (repeats are logged at debug level until it succeeds)');
        else this.#log.debug({ err: describeError(err), failures }, 'heartbeat failed');
      }
    };
    this.#heartbeat = setInterval(() => void beat(), this.#rt.config.factory.cluster.heartbeatMs);
    this.#heartbeat.unref();
  }

  #newPublisher(): BatchPublisher {
    return new BatchPublisher({ sources: this.#rt.sources, contributions: this.#contributions, instanceId: this.instanceId, logger: this.#log });
  }

  async #onControl(msg: ControlMessage): Promise<void> {
    if (msg.action === 'reload') {
      await this.reload();
      return;
    }
    if (msg.action === 'run-now') return;
    if (msg.instance !== this.instanceId) return;
    this.#log.warn({ action: msg.action, by: msg.by }, 'control message');
    if (msg.action === 'drain') await this.drain();
    else if (msg.action === 'undrain') await this.undrain();
    else if (msg.action === 'freeze') await this.freeze(msg.durationMs);
    else await this.thaw();
  }

  /**
   * Validates and applies the configuration from disk; an invalid one changes nothing. Reloads run
   * one at a time (SIGHUP and `apf reload` messages may arrive together): two interleaved ones
   * would each start a batch publisher and leave one of them polling forever.
   */
  reload(): Promise<{ ok: boolean; problems: readonly ConfigProblem[] }> {
    const run = this.#reloading.then(() => this.#reloadNow());
    this.#reloading = run.catch(() => undefined);
    return run;
  }

  async #reloadNow(): Promise<{ ok: boolean; problems: readonly ConfigProblem[] }> {
    const loaded = await loadConfig({ dir: this.#o.configDir });
    if (loaded.config === undefined) {
      for (const p of loaded.problems) this.#log.error({ problem: formatProblem(p) }, 'reload rejected: the old configuration keeps running');
      return { ok: false, problems: loaded.problems };
    }
    if (loaded.config.hash === this.#rt.config.hash) {
      this.#log.info('reload: configuration unchanged');
      return { ok: true, problems: loaded.problems };
    }
    // Frozen (drill) or stopping: no publisher runs now; thaw starts one with the new runtimes.
    const polling = this.#state !== 'frozen' && !this.#stopping;
    if (polling) await this.#publisher.stop();
    this.#rt = buildRuntimes(loaded.config, this.instanceId, this.#log, this.#observers());
    if (polling) {
      this.#publisher = this.#newPublisher();
      await this.#publisher.start();
    }
    await this.#reconciler.runOnce().catch((err: unknown) => this.#log.warn({ err: describeError(err) }, 'reconcile after reload failed'));
    this.#log.warn({ hash: loaded.config.hash.slice(0, 12), queues: this.#rt.queues.size }, 'configuration reloaded');
    return { ok: true, problems: loaded.problems };
  }

  /** Stops taking cycles (in-flight ones finish); the instance stays registered. */
  async drain(): Promise<void> {
    this.#state = 'draining';
    await this.#registry.setState(this.instanceId, 'draining');
    await this.#worker?.pause();
  }

  /** Takes cycles again after a drain. */
  async undrain(): Promise<void> {
    this.#state = 'active';
    await this.#registry.setState(this.instanceId, 'active');
    // resume() restarts the fetch loop; it resolves when the worker stops again, so it is not awaited
    void Promise.resolve(this.#worker?.resume()).catch((err: unknown) => this.#log.warn({ err: describeError(err) }, 'worker resume failed'));
  }

  /**
   * Drill: behave as if dead for `durationMs` — no heartbeats, no polls, no cycles (in-flight ones
   * are aborted and their leases released), then come back.
   */
  async freeze(durationMs: number): Promise<void> {
    if (this.#state === 'frozen') return;
    this.#state = 'frozen';
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    await this.#publisher.stop();
    for (const ac of this.#inflight) ac.abort(new ApfError('APF_ERR_ABORTED', 'instance frozen for a drill'));
    await this.#worker?.close(true);
    this.#worker = undefined;
    this.#freezeTimer = setTimeout(() => void this.thaw(), durationMs);
    this.#freezeTimer.unref();
  }

  /** Ends a freeze. */
  async thaw(): Promise<void> {
    if (this.#state !== 'frozen' || this.#stopping) return;
    if (this.#freezeTimer !== undefined) clearTimeout(this.#freezeTimer);
    this.#state = 'active';
    await this.#registry.heartbeat(this.instanceId, this.owner, { state: 'active', configHash: this.#rt.config.hash }).catch(() => undefined);
    this.#startHeartbeat();
    this.#publisher = this.#newPublisher();
    await this.#publisher.start();
    this.#startWorker();
  }

  /**
   * Graceful stop: take no new cycles, let in-flight ones finish within `cluster.shutdown_timeout`
   * (then abort them), release leases, deregister, close connections.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#state = 'stopping';
    this.#log.info('stopping');
    if (this.#freezeTimer !== undefined) clearTimeout(this.#freezeTimer);
    const timeout = this.#rt.config.factory.cluster.shutdownTimeoutMs;
    const deadline = setTimeout(() => {
      for (const ac of this.#inflight) ac.abort(new ApfError('APF_ERR_ABORTED', 'shutdown deadline passed'));
    }, timeout);
    deadline.unref();
    await this.#worker?.close().catch(() => undefined);
    clearTimeout(deadline);
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    await this.#publisher.stop();
    await this.#reconciler.stop().catch(() => undefined);
    await this.#leases.close().catch(() => undefined);
    this.#wms.close();
    await this.#control.close().catch(() => undefined);
    await this.#registry.deregister(this.instanceId, this.owner).catch(() => undefined);
    await this.#dispatcher.close().catch(() => undefined);
    await this.#side?.stop();
    for (const r of [this.#sub, this.#bull, this.#redis]) await r.quit().catch(() => r.disconnect());
    await this.#embedded?.stop();
    this.#log.info('stopped');
    this.#resolveStopped();
  }
}
