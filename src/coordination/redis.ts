/**
 * The Redis connections of an instance: one builder for every client (state, leases, BullMQ), so
 * that deadlines, reconnects, TLS, Sentinel and secrets are handled the same way everywhere.
 *
 * Two kinds of client (coordination.md §1.7):
 * - **normal** clients (leases, queue state, counts) fail fast: every command has a deadline
 *   (`commandTimeout` = `redis.timeout`), commands issued while disconnected are rejected at once
 *   (`enableOfflineQueue: false`) and commands in flight when the connection drops are not resent
 *   after the reconnect. A partitioned instance therefore learns within one deadline that Redis is
 *   gone, instead of queueing lease renewals and state writes that would run much later, and its
 *   lease self-fences on the local deadline (lease.ts).
 * - **BullMQ** clients (`bullmq: true`) follow BullMQ's rules: `maxRetriesPerRequest: null`
 *   (BullMQ refuses or warns otherwise) and no `commandTimeout`, because a worker's blocking
 *   `BZPOPMIN` legitimately waits for seconds and a per-command timeout would cut it off. Their
 *   deadline is `blockingTimeout` instead: a blocking command that has not answered within its own
 *   block time plus one command deadline resolves empty (a dead TCP connection cannot hang a worker).
 *
 * Passwords never come from the configuration text, only from files (`redis.password_file`,
 * `redis.sentinel.password_file`), and never appear in messages, logs or {@link describeRedis}.
 * Error events are logged by message only: an ioredis reply error carries the failed command and
 * its arguments, which for `AUTH` include the password.
 */
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { ConnectionOptions } from 'node:tls';
import type { RedisSettings } from '../config/types.ts';
import { ApfError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';

/** Environment variable that overrides `redis.url`. */
export const REDIS_URL_ENV = 'APF_REDIS_URL';

/** Default Redis and Sentinel ports. */
const REDIS_PORT = 6379;
const SENTINEL_PORT = 26379;

/** Reconnect backoff: first delay, cap, and the share of random jitter added on top. */
const RETRY_BASE_MS = 100;
const RETRY_CAP_MS = 5000;
const RETRY_JITTER = 0.1;

/** A repeated identical error event is logged at most this often per client. */
const ERROR_LOG_INTERVAL_MS = 30_000;

/** Options for {@link createRedis} and {@link buildRedisOptions}. */
export interface CreateRedisOptions {
  /** What the client is for (`state`, `lease`, `bullmq-worker`…): the connection name is `apf:<role>`. */
  role: string;
  /** A BullMQ connection: no command timeout, unlimited retries (see the module comment). @defaultValue false */
  bullmq?: boolean;
  /** Environment read for `$APF_REDIS_URL`. @defaultValue `process.env` */
  env?: Readonly<Record<string, string | undefined>>;
  /** Receives connection errors (message only) and reconnects. @defaultValue nothing is logged */
  logger?: Logger;
  /** Do not connect until the first command or `connect()`. @defaultValue false */
  lazyConnect?: boolean;
}

/** A parsed `redis://` / `rediss://` URL. */
export interface RedisEndpoint {
  /** `rediss://`. */
  readonly tls: boolean;
  /** Host name or address (IPv6 without brackets). */
  readonly host: string;
  /** TCP port. @defaultValue 6379 */
  readonly port: number;
  /** ACL user from the URL, if any. */
  readonly username: string | undefined;
  /** Password from the URL, if any (a password file takes precedence). Never logged. */
  readonly password: string | undefined;
  /** Database index from the path (`/2`). @defaultValue 0 */
  readonly db: number;
}

/** A Sentinel address. */
export interface SentinelAddress {
  /** Host name or address. */
  readonly host: string;
  /** TCP port. @defaultValue 26379 */
  readonly port: number;
}

/**
 * Parses a Redis URL. The message of a rejected URL never repeats it (it may hold a password).
 *
 * @throws ApfError `APF_ERR_CONFIG_INVALID` for another scheme, a bad port or database.
 */
export function parseRedisUrl(url: string): RedisEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new ApfError('APF_ERR_CONFIG_INVALID', 'redis.url is not a valid URL (expected redis://host:port or rediss://host:port)', { cause: err });
  }
  const scheme = parsed.protocol;
  if (scheme !== 'redis:' && scheme !== 'rediss:') {
    throw new ApfError('APF_ERR_CONFIG_INVALID', `redis.url: unsupported scheme "${scheme}" (expected redis:// or rediss://)`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new ApfError('APF_ERR_CONFIG_INVALID', 'redis.url has no host');
  const port = parsed.port === '' ? REDIS_PORT : Number(parsed.port);
  const path = parsed.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) {
    throw new ApfError('APF_ERR_CONFIG_INVALID', `redis.url: the path must be a database number, not "/${path}"`);
  }
  return {
    tls: scheme === 'rediss:',
    host,
    port,
    username: parsed.username === '' ? undefined : decodeURIComponent(parsed.username),
    password: parsed.password === '' ? undefined : decodeURIComponent(parsed.password),
    db: path === '' ? 0 : Number(path),
  };
}

/**
 * Parses `redis.sentinels` entries (`host:port`, `host` for port 26379, `[v6]:port`).
 *
 * @throws ApfError `APF_ERR_CONFIG_INVALID` naming the bad entry.
 */
export function parseSentinels(entries: readonly string[]): SentinelAddress[] {
  return entries.map((entry) => {
    const m = /^(?:\[([^\]]+)\]|([^:\s]+))(?::(\d{1,5}))?$/.exec(entry.trim());
    const host = m?.[1] ?? m?.[2];
    const port = m?.[3] === undefined ? SENTINEL_PORT : Number(m[3]);
    if (host === undefined || port < 1 || port > 65535) {
      throw new ApfError('APF_ERR_CONFIG_INVALID', `redis.sentinels: "${entry}" is not host:port`);
    }
    return { host, port };
  });
}

/** The settings with `$APF_REDIS_URL` applied (it overrides `redis.url`; an empty value is ignored). */
export function resolveRedisSettings(settings: RedisSettings, env: Readonly<Record<string, string | undefined>> = process.env): RedisSettings {
  const override = env[REDIS_URL_ENV];
  return override === undefined || override.trim() === '' ? settings : { ...settings, url: override.trim() };
}

/** True when no Redis is configured (no URL, no `$APF_REDIS_URL`, no Sentinels): the private embedded server is used. */
export function usesEmbeddedRedis(settings: RedisSettings, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  const s = resolveRedisSettings(settings, env);
  return s.url === undefined && s.sentinels.length === 0;
}

/**
 * A one-line description of where the client connects, for logs and `apf status`: the URL without
 * its password, or the Sentinel master and addresses. Never contains a password.
 */
export function describeRedis(settings: RedisSettings, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const s = resolveRedisSettings(settings, env);
  let endpoint: RedisEndpoint | undefined;
  try {
    endpoint = s.url === undefined ? undefined : parseRedisUrl(s.url);
  } catch {
    return 'redis (invalid redis.url)';
  }
  const user = s.username ?? endpoint?.username;
  const userPart = user === undefined ? '' : `${encodeURIComponent(user)}@`;
  const db = endpoint === undefined || endpoint.db === 0 ? '' : `/${endpoint.db}`;
  if (s.sentinels.length > 0) {
    const tls = endpoint?.tls === true || hasTlsFiles(s) ? ' (tls)' : '';
    return `sentinel ${s.sentinelMaster} via ${s.sentinels.join(',')}: ${userPart}master${db}${tls}`;
  }
  if (endpoint === undefined) return 'embedded redis-server';
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return `${endpoint.tls ? 'rediss' : 'redis'}://${userPart}${host}:${endpoint.port}${db}`;
}

/** Reconnect delay for attempt `times` (1, 2…): exponential from 100 ms, capped at 5 s, plus up to 10 % jitter. */
export function redisRetryDelay(times: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_BASE_MS * 2 ** Math.max(0, times - 1), RETRY_CAP_MS);
  return Math.round(base * (1 + RETRY_JITTER * random()));
}

function hasTlsFiles(s: RedisSettings): boolean {
  return s.tls.ca !== undefined || s.tls.cert !== undefined || s.tls.key !== undefined;
}

/**
 * Reads a secret or certificate file. The error names the file and the setting, never the content.
 *
 * @throws ApfError `APF_ERR_CONFIG_INVALID`.
 */
function readConfigFile(path: string, setting: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ApfError('APF_ERR_CONFIG_INVALID', `${setting}: cannot read ${path} (${code})`, { details: { file: path, setting, errno: code } });
  }
}

/**
 * Reads a password file: the whole content with one trailing newline (`\n` or `\r\n`) removed.
 *
 * @throws ApfError `APF_ERR_CONFIG_INVALID` when the file is missing, unreadable or empty (the message names the file only).
 */
export function readPasswordFile(path: string, setting = 'redis.password_file'): string {
  const password = readConfigFile(path, setting).toString('utf8').replace(/\r?\n$/, '');
  if (password === '') throw new ApfError('APF_ERR_CONFIG_INVALID', `${setting}: ${path} is empty`, { details: { file: path, setting } });
  return password;
}

/** TLS options from `redis.tls.*`: files are read now; without a CA the system store is used. */
function tlsOptions(s: RedisSettings, servername: string | undefined): ConnectionOptions {
  const out: ConnectionOptions = {};
  if (s.tls.ca !== undefined) out.ca = readConfigFile(s.tls.ca, 'redis.tls.ca');
  if (s.tls.cert !== undefined) out.cert = readConfigFile(s.tls.cert, 'redis.tls.cert');
  if (s.tls.key !== undefined) out.key = readConfigFile(s.tls.key, 'redis.tls.key');
  if ((out.cert === undefined) !== (out.key === undefined)) {
    throw new ApfError('APF_ERR_CONFIG_INVALID', 'redis.tls.cert and redis.tls.key must be set together');
  }
  if (servername !== undefined && !/^[\d.]+$|:/.test(servername)) out.servername = servername;
  return out;
}

/**
 * The ioredis options for one client (pure apart from reading the password and TLS files).
 * Exposed for tests and for callers that need a second client with the same settings.
 *
 * @throws ApfError `APF_ERR_CONFIG_INVALID` for a bad URL or Sentinel entry, an unreadable
 *   password or TLS file, or when no Redis is configured at all (start the embedded one first and
 *   pass its URL).
 */
export function buildRedisOptions(settings: RedisSettings, opts: CreateRedisOptions): RedisOptions {
  const s = resolveRedisSettings(settings, opts.env ?? process.env);
  const endpoint = s.url === undefined ? undefined : parseRedisUrl(s.url);
  if (endpoint === undefined && s.sentinels.length === 0) {
    throw new ApfError('APF_ERR_CONFIG_INVALID', 'no Redis configured: set redis.url, $APF_REDIS_URL or redis.sentinels (or start the embedded redis-server first)');
  }
  const timeout = s.commandTimeoutMs;
  const username = s.username ?? endpoint?.username;
  const password = s.passwordFile !== undefined ? readPasswordFile(s.passwordFile) : endpoint?.password;
  const common: RedisOptions = {
    connectionName: `apf:${opts.role}`,
    // RESP2: plain reply shapes everywhere (the Lua scripts, BullMQ), whatever ioredis' default.
    protocol: 2,
    disableClientInfo: true,
    connectTimeout: timeout,
    retryStrategy: (times: number) => redisRetryDelay(times),
    lazyConnect: opts.lazyConnect ?? false,
    db: endpoint?.db ?? 0,
    ...(username === undefined ? {} : { username }),
    ...(password === undefined ? {} : { password }),
  };
  const behaviour: RedisOptions =
    opts.bullmq === true
      ? {
          maxRetriesPerRequest: null,
          enableOfflineQueue: true,
          // No commandTimeout (it would cut BZPOPMIN short); blocking commands get block time + one deadline.
          blockingTimeout: Math.max(timeout, 1000),
          blockingTimeoutGrace: timeout,
        }
      : {
          commandTimeout: timeout,
          enableOfflineQueue: false,
          autoResendUnfulfilledCommands: false,
          maxRetriesPerRequest: 1,
        };
  if (s.sentinels.length > 0) {
    const sentinelPassword = s.sentinelPasswordFile === undefined ? undefined : readPasswordFile(s.sentinelPasswordFile, 'redis.sentinel.password_file');
    const tls = endpoint?.tls === true || hasTlsFiles(s);
    return {
      ...common,
      ...behaviour,
      sentinels: parseSentinels(s.sentinels),
      name: s.sentinelMaster,
      // Follow a failover as soon as the sentinels announce it (infra.md §1: 0.6 s instead of
      // 11 s of writes acknowledged by a demoted master and then lost).
      failoverDetector: true,
      sentinelCommandTimeout: timeout,
      sentinelRetryStrategy: (times: number) => redisRetryDelay(times),
      ...(sentinelPassword === undefined ? {} : { sentinelPassword }),
      // TLS applies to the data nodes; the sentinels are reached in plain TCP.
      ...(tls ? { tls: tlsOptions(s, undefined), enableTLSForSentinelMode: true } : {}),
    };
  }
  const ep = endpoint as RedisEndpoint;
  return {
    ...common,
    ...behaviour,
    host: ep.host,
    port: ep.port,
    ...(ep.tls ? { tls: tlsOptions(s, ep.host) } : {}),
  };
}

/**
 * Creates an ioredis client for `settings` (see the module comment for the two kinds). Connection
 * errors are logged through `opts.logger` by message only, identical ones at most every 30 s.
 *
 * @throws ApfError `APF_ERR_CONFIG_INVALID` (see {@link buildRedisOptions}).
 */
export function createRedis(settings: RedisSettings, opts: CreateRedisOptions): Redis {
  const options = buildRedisOptions(settings, opts);
  const client = new Redis(options);
  const where = describeRedis(settings, opts.env ?? process.env);
  const log = opts.logger?.child({ redis: where, role: opts.role });
  let lastMessage = '';
  let lastLoggedAt = -Infinity;
  // Always listen: without a listener ioredis prints every error event to the console.
  client.on('error', (err: unknown) => {
    if (log === undefined) return;
    const message = err instanceof Error ? err.message : String(err);
    const code = (err as { code?: unknown } | null)?.code;
    const now = performance.now();
    if (message === lastMessage && now - lastLoggedAt < ERROR_LOG_INTERVAL_MS) {
      log.debug({ error: message }, 'redis connection error (repeated)');
      return;
    }
    lastMessage = message;
    lastLoggedAt = now;
    log.warn({ error: message, ...(typeof code === 'string' ? { code } : {}) }, 'redis connection error');
  });
  client.on('reconnecting', (delay: unknown) => log?.debug({ delayMs: delay }, 'redis reconnecting'));
  client.on('ready', () => {
    lastMessage = '';
    log?.debug('redis ready');
  });
  return client;
}

/**
 * Resolves once `redis` is ready; rejects with ApfError `APF_ERR_REDIS` after `timeoutMs` or when
 * the client ends. Normal clients reject commands issued before they are ready, so callers wait here
 * once at start.
 */
export async function waitForRedis(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  if (redis.status === 'end') throw new ApfError('APF_ERR_REDIS', 'the Redis connection is closed');
  if (redis.status === 'wait') void redis.connect().catch(() => undefined);
  let lastError = '';
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('end', onEnd);
      redis.off('error', onError);
    };
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const onEnd = (): void => {
      cleanup();
      reject(new ApfError('APF_ERR_REDIS', `Redis connection closed before it was ready${lastError === '' ? '' : ` (${lastError})`}`));
    };
    const onError = (err: unknown): void => {
      lastError = err instanceof Error ? err.message : String(err);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new ApfError('APF_ERR_REDIS', `Redis not ready within ${timeoutMs} ms${lastError === '' ? '' : ` (${lastError})`}`, { details: { timeoutMs } }));
    }, timeoutMs);
    redis.on('ready', onReady);
    redis.on('end', onEnd);
    redis.on('error', onError);
    if (redis.status === 'ready') onReady();
  });
}
