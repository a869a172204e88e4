/**
 * The web server's host inside `apf start`: its own Redis connection, the admin token file, all
 * routes, and the listening socket. Nothing here can stop or slow the factory: a port that cannot
 * be bound is logged and retried in the background (APF's log server retried every 60 s), a
 * missing token file only disables the admin actions, and requests never share a connection with
 * the cycles.
 */
import { statSync, readFileSync, type Stats } from 'node:fs';
import type { Server } from 'node:http';
import type { Redis } from 'ioredis';
import { describeError } from '../errors.ts';
import type { ApfConfig, RedisSettings } from '../config/types.ts';
import type { Keys } from '../coordination/keys.ts';
import { createRedis } from '../coordination/redis.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Readiness, WebDeps } from './deps.ts';
import type { Route } from './router.ts';
import { allRoutes } from './routes/index.ts';
import { buildServer, listen } from './server.ts';

/** Options of {@link startWebServer}. */
export interface WebHostOptions {
  /** The configuration in use; pass a function so that a reload is seen. */
  readonly config: ApfConfig | (() => ApfConfig);
  readonly instanceId: string;
  readonly version: string;
  /** Redis settings as the daemon connects with them (embedded Redis: with its URL filled in). */
  readonly redisSettings: RedisSettings;
  /** Environment read for `$APF_REDIS_URL` (pass the daemon's; `{}` ignores the variable). @defaultValue `process.env` */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly keys: Keys;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Final port (`--web-port` / `$APF_WEB_PORT` / `web.port` already resolved); 0 picks a free one. */
  readonly port: number;
  /** Listen address (`web.bind`). */
  readonly bind: string;
  /** `/readyz`. */
  readonly ready: () => Promise<Readiness>;
  /** @defaultValue every route (`allRoutes()`) */
  readonly routes?: readonly Route[];
  /** After a failed bind, try again this often (ms); 0 = never. @defaultValue 60 000 */
  readonly retryBindMs?: number;
  /** @defaultValue `Date.now` */
  readonly now?: () => number;
}

/** A started web server. */
export interface WebHost {
  /** The port listened on (the requested one while not listening). */
  readonly port: number;
  /** False while the bind has failed (retries continue in the background). */
  readonly listening: boolean;
  /** The Redis connection the server reads through (its own). */
  readonly redis: Redis | undefined;
  /** Stops listening, ends open connections and closes the Redis connection. Never rejects. */
  close(): Promise<void>;
}

/**
 * Reads the admin bearer token from the file `path()` names: the first line, trimmed. The file is
 * stat'ed on every call and re-read only when it changed (cheap per admin request; a rotated token
 * applies at once). Missing, unreadable or empty file → undefined (admin actions disabled), with
 * one warning per new condition. The token itself is never logged.
 */
export function adminTokenReader(path: () => string | undefined, logger: Logger): () => string | undefined {
  let cached: { path: string; stamp: string; token: string | undefined } | undefined;
  let lastProblem = '';
  const problem = (what: string, fields: Record<string, unknown> = {}): undefined => {
    if (what !== lastProblem) logger.warn(fields, what);
    lastProblem = what;
    return undefined;
  };
  return () => {
    const file = path();
    if (file === undefined || file.trim() === '') {
      cached = undefined;
      return problem('admin actions disabled: web.admin_token_file is not set');
    }
    let st: Stats;
    try {
      st = statSync(file);
    } catch (err) {
      cached = undefined;
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      return problem(`admin actions disabled: cannot read web.admin_token_file (${code})`, { file });
    }
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    if (cached?.path === file && cached.stamp === stamp) return cached.token;
    let token: string | undefined;
    try {
      token = readFileSync(file, 'utf8').split(/\r?\n/, 1)[0]?.trim() ?? '';
    } catch (err) {
      cached = undefined;
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      return problem(`admin actions disabled: cannot read web.admin_token_file (${code})`, { file });
    }
    if (token === '') {
      cached = { path: file, stamp, token: undefined };
      return problem('admin actions disabled: web.admin_token_file is empty', { file });
    }
    cached = { path: file, stamp, token };
    if ((st.mode & 0o077) !== 0) problem('web.admin_token_file is readable by other users: chmod 600 it', { file, mode: (st.mode & 0o777).toString(8) });
    else lastProblem = '';
    return token;
  };
}

/**
 * Starts the instance's web server (monitor, API, admin API, metrics, health, logs) on its own
 * Redis connection. Resolves once listening — or once the bind has failed, which is logged and
 * retried every `retryBindMs` while the factory goes on. Never rejects.
 */
export async function startWebServer(opts: WebHostOptions): Promise<WebHost> {
  const log = opts.logger.child({ component: 'web' });
  const config = typeof opts.config === 'function' ? opts.config : (): ApfConfig => opts.config as ApfConfig;
  let redis: Redis;
  try {
    redis = createRedis(opts.redisSettings, { role: 'web', logger: log, ...(opts.env === undefined ? {} : { env: opts.env }) });
  } catch (err) {
    log.error({ err: describeError(err) }, 'web server not started: its Redis connection could not be created');
    return { port: opts.port, listening: false, redis: undefined, close: () => Promise.resolve() };
  }
  const adminToken = adminTokenReader(() => config().factory.web.adminTokenFile, log);
  adminToken();
  const deps: WebDeps = {
    config,
    redis,
    keys: opts.keys,
    instanceId: opts.instanceId,
    version: opts.version,
    logger: opts.logger,
    adminToken,
    ready: opts.ready,
    metrics: () => opts.metrics.exposition(),
    now: opts.now ?? Date.now,
  };
  const server = buildServer(deps, opts.routes ?? allRoutes());
  let port = opts.port;
  let listening = false;
  let closed = false;
  let retry: NodeJS.Timeout | undefined;
  const retryMs = opts.retryBindMs ?? 60_000;
  const bind = async (): Promise<void> => {
    try {
      port = await listen(server, opts.port, opts.bind);
      listening = true;
      server.on('error', (err) => log.error({ err: describeError(err) }, 'web server error'));
      log.info({ bind: opts.bind, port }, 'web server listening');
    } catch (err) {
      log.error({ err: describeError(err), bind: opts.bind, port: opts.port, retryInMs: retryMs }, 'web server cannot listen (the factory keeps running)');
      if (retryMs > 0 && !closed) {
        retry = setTimeout(() => void bind(), retryMs);
        retry.unref();
      }
    }
  };
  await bind();
  return {
    get port() {
      return port;
    },
    get listening() {
      return listening;
    },
    redis,
    async close() {
      closed = true;
      clearTimeout(retry);
      if (listening) await closeServer(server);
      listening = false;
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
