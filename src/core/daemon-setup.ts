/**
 * A daemon's contract with its host and its bring-up, apart from the running instance (daemon.ts):
 * the options `apf start` passes ({@link DaemonOptions}), the events the instance reports back
 * ({@link DaemonHooks}), the error that rejects an invalid configuration, and the instance's Redis
 * connections — a private redis-server started first when the settings ask for one.
 */
import type { Redis } from 'ioredis';
import { ApfError, describeError } from '../errors.ts';
import { formatProblem, type ApfConfig, type ConfigProblem, type RedisSettings } from '../config/types.ts';
import type { Logger } from '../logging/logger.ts';
import type { CycleRecord } from '../coordination/records.ts';
import { createRedis, usesEmbeddedRedis, waitForRedis } from '../coordination/redis.ts';
import { startEmbeddedRedis, type EmbeddedRedis } from '../coordination/embedded-redis.ts';

/** Options for {@link FactoryDaemon.start}. */
export interface DaemonOptions {
  readonly configDir: string;
  /** `--instance`; else `instance.id`; else the hostname. */
  readonly instanceId?: string;
  readonly logger: Logger;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly version: string;
  readonly webPort?: number | null;
}

/** Events a daemon reports to its host (CLI, web server, tests). */
export interface DaemonHooks {
  onRecord?(record: CycleRecord): void;
  onSkip?(queue: string, reason: string): void;
}

/** The Redis connections of an instance (and its private redis-server, if any). */
export interface Connections {
  readonly redis: Redis;
  readonly bull: Redis;
  readonly sub: Redis;
  readonly embedded: EmbeddedRedis | undefined;
  /** Settings connected with (embedded: its URL filled in) and the env read, for more connections. */
  readonly settings: RedisSettings;
  readonly env: Readonly<Record<string, string | undefined>> | undefined;
}

/** Starts the private redis-server when the settings ask for one, opens the connections and waits for Redis (30 s). */
export async function connect(config: ApfConfig, o: DaemonOptions): Promise<Connections> {
  let settings = config.factory.cluster.redis;
  let embedded: EmbeddedRedis | undefined;
  if (usesEmbeddedRedis(settings, o.env)) {
    embedded = await startEmbeddedRedis({ stateDir: config.factory.cluster.stateDir, logger: o.logger });
    settings = { ...settings, url: embedded.url };
  }
  const env = embedded === undefined ? o.env : { ...o.env, APF_REDIS_URL: undefined };
  const redis = createRedis(settings, { role: 'state', logger: o.logger, ...(env === undefined ? {} : { env }) });
  const bull = createRedis(settings, { role: 'bullmq', bullmq: true, logger: o.logger, ...(env === undefined ? {} : { env }) });
  const sub = createRedis(settings, { role: 'control', bullmq: true, logger: o.logger, ...(env === undefined ? {} : { env }) });
  try {
    await waitForRedis(redis, 30_000);
  } catch (err) {
    for (const r of [redis, bull, sub]) r.disconnect();
    await embedded?.stop();
    throw new ApfError('APF_ERR_REDIS', `Redis not reachable: ${describeError(err)}`, { cause: err });
  }
  return { redis, bull, sub, embedded, settings, env };
}

/** The error {@link FactoryDaemon.start} rejects with: every error-severity problem of the configuration. */
export function configError(problems: readonly ConfigProblem[]): ApfError {
  const errors = problems.filter((p) => p.severity === 'error');
  return new ApfError('APF_ERR_CONFIG_INVALID', `configuration invalid (${errors.length} error(s)):\n${errors.map(formatProblem).join('\n')}`, {
    details: { problems: errors },
  });
}
