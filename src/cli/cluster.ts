/** CLI access to a running cluster's Redis, found the same way `apf start` finds it. */
import type { Redis } from 'ioredis';
import { ApfError, describeError } from '../errors.ts';
import type { ApfConfig } from '../config/types.ts';
import { createRedis, usesEmbeddedRedis, waitForRedis } from '../coordination/redis.ts';
import { findEmbeddedRedis } from '../coordination/embedded-redis.ts';
import { Keys } from '../coordination/keys.ts';
import { recordAdminAction } from '../coordination/control.ts';
import type { CliIo } from './command.ts';

/** An open admin connection. */
export interface ClusterHandle {
  readonly redis: Redis;
  readonly keys: Keys;
  /** Who is acting, for the admin log: `$USER@host` by default. */
  readonly who: string;
}

/** Connects to the cluster's Redis, runs `fn`, and always closes. */
export async function withCluster<T>(config: ApfConfig, io: CliIo, fn: (h: ClusterHandle) => Promise<T>): Promise<T> {
  let settings = config.factory.cluster.redis;
  if (usesEmbeddedRedis(settings, io.env)) {
    const found = findEmbeddedRedis(config.factory.cluster.stateDir);
    if (found === null) {
      throw new ApfError(
        'APF_ERR_REDIS',
        `no Redis configured and no embedded redis-server running under ${config.factory.cluster.stateDir}: is apf start running on this host? (or set [Factory] redis.url / $APF_REDIS_URL)`,
      );
    }
    settings = { ...settings, url: found.url };
  }
  const redis = createRedis(settings, { role: 'cli', env: usesEmbeddedRedis(config.factory.cluster.redis, io.env) ? {} : io.env });
  try {
    await waitForRedis(redis, 10_000);
  } catch (err) {
    redis.disconnect();
    throw new ApfError('APF_ERR_REDIS', `Redis not reachable: ${describeError(err)}`, { cause: err });
  }
  const who = `${io.env['SUDO_USER'] ?? io.env['USER'] ?? 'unknown'}@cli`;
  try {
    return await fn({ redis, keys: new Keys(config.factory.cluster.prefix), who });
  } finally {
    await redis.quit().catch(() => redis.disconnect());
  }
}

/** Records an admin action in the cluster's admin log (who, what, when). */
export async function logAdmin(h: ClusterHandle, action: string, target: string, result: string): Promise<void> {
  await recordAdminAction(h.redis, h.keys, { who: h.who, action, target, at: Date.now(), result });
}
