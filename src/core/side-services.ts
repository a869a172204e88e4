/**
 * What an instance runs beside its cycles: the web server (monitor, API, metrics, pilot logs), the
 * metrics registry, the hourly log cleanup and the apfmon client. None of them is on a cycle's
 * path: they observe records through hooks that return at once, and a failure in any of them
 * (a port already taken, apfmon down) is logged and never stops submission.
 */
import type { Redis } from 'ioredis';
import type { ApfConfig, RedisSettings } from '../config/types.ts';
import type { Keys } from '../coordination/keys.ts';
import type { CycleRecord } from '../coordination/records.ts';
import type { Logger } from '../logging/logger.ts';
import { startLogCleanup } from '../cleanup/log-cleanup.ts';
import { createApfmon } from '../monitor/apfmon.ts';
import { Metrics } from '../observability/metrics.ts';
import { startWebServer, type WebHost } from '../web/host.ts';
import type { Readiness } from '../web/deps.ts';

/** Options of {@link startSideServices}. */
export interface SideServicesOptions {
  readonly config: () => ApfConfig;
  readonly instanceId: string;
  readonly version: string;
  /** Redis settings as the daemon connected (embedded: with its URL), and the env it read. */
  readonly redisSettings: RedisSettings;
  readonly env: Readonly<Record<string, string | undefined>> | undefined;
  readonly keys: Keys;
  readonly logger: Logger;
  /** `--web-port` / `$APF_WEB_PORT`; else `web.port` of the config. */
  readonly webPort: number | null | undefined;
  /** The daemon's command connection, pinged by /readyz. */
  readonly redis: Redis;
  /** Extra readiness checks (the worker, the state). */
  readonly checks: () => Readiness['checks'];
}

/** The running side services. */
export interface SideServices {
  readonly metrics: Metrics;
  /** The port the web server listens on, or null when it could not bind (yet). */
  readonly webPort: () => number | null;
  onRecord(record: CycleRecord): void;
  onSkip(queue: string, reason: string): void;
  stop(): Promise<void>;
}

/** Starts the web server, metrics, cleanup and apfmon. Never rejects. */
export async function startSideServices(o: SideServicesOptions): Promise<SideServices> {
  const metrics = new Metrics();
  const cfg = o.config();
  const ready = async (): Promise<Readiness> => {
    let redisOk = true;
    let detail: string | undefined;
    try {
      await o.redis.ping();
    } catch (err) {
      redisOk = false;
      detail = err instanceof Error ? err.message : String(err);
    }
    const checks = { redis: { ok: redisOk, ...(detail === undefined ? {} : { detail }) }, config: { ok: true, detail: o.config().hash.slice(0, 12) }, ...o.checks() };
    return { ok: Object.values(checks).every((c) => c.ok), checks };
  };
  // always on: monitor, API, metrics and health; the log routes obey logserver.enabled themselves
  const web: WebHost = await startWebServer({
    config: o.config,
    instanceId: o.instanceId,
    version: o.version,
    redisSettings: o.redisSettings,
    ...(o.env === undefined ? {} : { env: o.env }),
    keys: o.keys,
    logger: o.logger,
    metrics,
    port: o.webPort ?? cfg.factory.web.port,
    bind: cfg.factory.web.bind,
    ready,
  });
  const cleanup = startLogCleanup({ config: o.config, logger: o.logger });
  const apfmon = createApfmon({ config: o.config, logger: o.logger, version: o.version });
  return {
    metrics,
    webPort: () => (web.listening ? web.port : null),
    onRecord(r) {
      metrics.onRecord(r);
      if (r.error?.startsWith('APF_ERR_LEASE_LOST') === true) metrics.onLeaseLost(r.queue);
      apfmon.onCycle(r);
    },
    onSkip: (q, why) => metrics.onSkip(q, why),
    async stop() {
      await cleanup.stop().catch(() => undefined);
      await apfmon.close().catch(() => undefined);
      await web.close();
    },
  };
}
