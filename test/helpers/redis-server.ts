/**
 * A real Redis for integration tests: one server per test file on a free loopback port, never a
 * mock and never the machine's own 6379.
 *
 * When a Docker engine plausibly answers (`DOCKER_HOST` is set or `/var/run/docker.sock` exists)
 * the server runs in a container through testcontainers; when that fails for any reason (typically
 * "Could not find a working container runtime strategy") or no engine is there, `redis-server` is
 * spawned from PATH. On this project's machines and in CI the spawned process is the normal path.
 * `APF_TEST_REDIS=process` forces the process, `APF_TEST_REDIS=container` skips the Docker check.
 *
 * Every server writes into its own absolute directory (AOF files, `redis.log`, and `redis.out`
 * for what it prints before its log file opens); failures quote the tail of both files.
 */
import { existsSync, readdirSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { ApfError, isApfError } from '../../src/errors.ts';
import { freePort } from './free-port.ts';
import { ensureDir, makeTempDir, removeDir, sleep, spawnTracked, type TrackedProcess } from './processes.ts';

/** Options for {@link startRedis}. */
export interface RedisServerOptions {
  /** Append-only file with `appendfsync everysec`, so data survives a restart (and a crash, minus ≤ 1 s). @defaultValue false */
  aof?: boolean;
  /** Data directory; pass the `dir` of an earlier server to start on its data. @defaultValue a fresh temp dir */
  dir?: string;
  /** `requirepass`: clients must AUTH with it. @defaultValue none */
  password?: string;
  /** Extra `redis-server` arguments, appended last (e.g. `['--replicaof', '127.0.0.1', '41234']`). */
  args?: readonly string[];
  /** Port to listen on. @defaultValue a free port picked by {@link freePort} */
  port?: number;
  /** The server executable. @defaultValue `redis-server` from PATH */
  bin?: string;
  /**
   * Always spawn a process, even when Docker answers. Sentinel setups need this: replicas and
   * sentinels must reach each other at the addresses they announce, i.e. in one network namespace.
   * @defaultValue false
   */
  forceProcess?: boolean;
}

/** A running (or stopped) test Redis. */
export interface RedisServerHandle {
  /** Always loopback. */
  readonly host: '127.0.0.1';
  /** The port; the same across {@link RedisServerHandle.restart}. */
  readonly port: number;
  /** `redis://[:password@]127.0.0.1:port`. */
  readonly url: string;
  /** The `requirepass` password, if any (so the handle itself is a {@link RedisAddress}). */
  readonly password: string | undefined;
  /** Absolute data directory (AOF files, `redis.log`). */
  readonly dir: string;
  /** PID of the current `redis-server` process; `undefined` for a container or when stopped. */
  readonly pid: number | undefined;
  /** How the server runs. */
  readonly kind: 'process' | 'container';
  /** Clean shutdown: SIGTERM by PID (AOF is fsynced), SIGKILL when still running after 5 s; waits for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: a crash, nothing is flushed; waits for the exit. */
  kill(): Promise<void>;
  /**
   * Stops the server if it runs and starts it again on the same port and directory. With `aof`
   * and `keepData` (the default) the data survives; `keepData: false` wipes the directory first.
   */
  restart(opts?: { keepData?: boolean }): Promise<void>;
  /**
   * Stalls the server for `ms` with `CLIENT PAUSE ms ALL`: every client command (reads and
   * writes) is held until the pause ends. Resolves as soon as the pause is in effect.
   */
  pause(ms: number): Promise<void>;
}

/** Where a Redis (or Sentinel) listens, and how to authenticate. */
export interface RedisAddress {
  /** Host name or address (the harness always uses 127.0.0.1). */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
  /** Password for AUTH, if the server requires one. */
  readonly password?: string | undefined;
}

/** How to install the server when it is missing (named in the error). */
export const REDIS_INSTALL_HINT = 'install it with `apt-get install -y redis-server` (CI: .ci/run does this)';

/** Container image used when a Docker engine answers. */
const CONTAINER_IMAGE = process.env['APF_TEST_REDIS_IMAGE'] ?? 'redis:7.0';
/** Deadline for a server to answer PING after it was started. */
const START_TIMEOUT_MS = 10_000;
/** Attempts with a new port when another process took the picked one first. */
const PORT_ATTEMPTS = 3;

/**
 * Sends one command on a fresh connection (RESP2) and closes it. Connecting and the reply share
 * the deadline; nothing is retried or queued. Used for control commands (PING, SENTINEL…, CLIENT PAUSE).
 *
 * @returns The raw reply (string, number, array or null).
 * @throws the ioredis error (connection refused, timeout, a Redis error reply).
 */
export async function redisCall(address: RedisAddress, args: readonly [string, ...(string | number)[]], timeoutMs = 2000): Promise<unknown> {
  const client = new Redis({
    host: address.host,
    port: address.port,
    ...(address.password === undefined ? {} : { password: address.password }),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    disableClientInfo: true,
    // RESP2 keeps replies plain (SENTINEL MASTER as a flat field/value array, not a RESP3 map).
    protocol: 2,
  });
  // Failures surface through the rejected promises below; without a listener ioredis prints them.
  client.on('error', () => undefined);
  // connectTimeout only bounds the TCP connect, not the HELLO handshake a silent listener never
  // answers: closing the client at the deadline rejects whatever is still pending.
  const deadline = setTimeout(() => client.disconnect(), timeoutMs);
  try {
    await client.connect();
    const [command, ...rest] = args;
    return await client.call(command, ...rest);
  } finally {
    clearTimeout(deadline);
    client.disconnect();
  }
}

/** True when a Docker engine plausibly answers, so testcontainers is worth trying. */
export function dockerPlausible(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env['APF_TEST_REDIS'] === 'process') return false;
  if (env['APF_TEST_REDIS'] === 'container') return true;
  return (env['DOCKER_HOST'] ?? '') !== '' || existsSync('/var/run/docker.sock');
}

/** The last `lines` lines of a text file, or a note that it does not exist. */
export function fileTail(path: string, lines = 15): string {
  if (!existsSync(path)) return `(${path} does not exist)`;
  const text = readFileSync(path, 'utf8');
  return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
}

/** Everything needed to (re)launch one server. */
interface LaunchConfig {
  readonly port: number;
  readonly dir: string;
  readonly aof: boolean;
  readonly password: string | undefined;
  readonly args: readonly string[];
  readonly bin: string;
}

/** One launched server (process or container). */
interface Instance {
  readonly pid: number | undefined;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/** The `redis-server` arguments shared by both launchers. */
function serverArgs(cfg: LaunchConfig, where: { bind: string; port: number; dir: string; logfile?: string }): string[] {
  return [
    '--bind', where.bind,
    '--port', String(where.port),
    '--dir', where.dir,
    '--daemonize', 'no',
    '--save', '',
    '--appendonly', cfg.aof ? 'yes' : 'no',
    '--appendfsync', 'everysec',
    // In a container the connections arrive through Docker's proxy, not from loopback.
    '--protected-mode', where.bind === '127.0.0.1' ? 'yes' : 'no',
    ...(where.logfile === undefined ? [] : ['--logfile', where.logfile]),
    ...(cfg.password === undefined ? [] : ['--requirepass', cfg.password]),
    ...cfg.args,
  ];
}

/**
 * Waits until the server `proc` answers PING at `address` (and `INFO` names `proc`'s PID, so a
 * foreign server on a stolen port is not mistaken for it). Fails at once when the process exits,
 * and after `timeoutMs` (killing it); the error quotes the tail of every file in `logFiles` and
 * sets `details.portInUse` when they say the port was taken (callers then retry on a new port).
 *
 * @throws ApfError `APF_ERR_COMMAND_FAILED`.
 */
export async function awaitPing(proc: TrackedProcess, address: RedisAddress, logFiles: readonly string[], timeoutMs = START_TIMEOUT_MS): Promise<void> {
  const failure = (why: string): ApfError => {
    const tails = logFiles.map((f) => `--- ${f} ---\n${fileTail(f)}`).join('\n');
    return new ApfError('APF_ERR_COMMAND_FAILED', `${proc.name} on ${address.host}:${address.port} ${why}; log tail:\n${tails}`, {
      details: { port: address.port, logFiles: [...logFiles], portInUse: /address already in use/i.test(tails) },
    });
  };
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (!proc.running()) throw failure(`exited during start (${describeExit(proc)})`);
    try {
      await redisCall(address, ['PING'], 500);
      // Make sure the answer came from this process, not from whoever else may hold the port.
      const info = String(await redisCall(address, ['INFO', 'server'], 500));
      if (/^process_id:(\d+)/m.exec(info)?.[1] === String(proc.pid)) return;
      if (!proc.running()) throw failure(`exited during start (${describeExit(proc)}; another server answers on its port)`);
    } catch (err) {
      if (isApfError(err)) throw err;
      // Not listening yet, or still loading its AOF (a LOADING reply).
    }
    if (performance.now() > deadline) {
      await proc.kill();
      throw failure(`did not answer PING within ${timeoutMs} ms`);
    }
    await sleep(20);
  }
}

function describeExit(proc: TrackedProcess): string {
  const info = proc.exitInfo();
  return info?.signal != null ? `signal ${info.signal}` : `exit status ${info?.code}`;
}

/** Spawns `redis-server` and waits until it answers PING; kills it again on failure. */
async function launchProcess(cfg: LaunchConfig): Promise<Instance> {
  const logfile = join(cfg.dir, 'redis.log');
  const outfile = join(cfg.dir, 'redis.out');
  const proc = await spawnTracked(cfg.bin, serverArgs(cfg, { bind: '127.0.0.1', port: cfg.port, dir: cfg.dir, logfile }), {
    name: `redis-server:${cfg.port}`,
    outputFile: outfile,
    installHint: REDIS_INSTALL_HINT,
  });
  await awaitPing(proc, { host: '127.0.0.1', port: cfg.port, password: cfg.password }, [logfile, outfile]);
  return {
    pid: proc.pid,
    stop: async () => void (await proc.stop()),
    kill: async () => void (await proc.kill()),
  };
}

/** Starts the server in a container with the data dir bind-mounted and the host port fixed. */
async function launchContainer(cfg: LaunchConfig): Promise<Instance> {
  const { GenericContainer, Wait } = await import('testcontainers');
  // The image's redis user must be able to write the AOF into the (root-owned, 0700) temp dir.
  chmodSync(cfg.dir, 0o777);
  const container = await new GenericContainer(CONTAINER_IMAGE)
    .withCommand(['redis-server', ...serverArgs(cfg, { bind: '0.0.0.0', port: 6379, dir: '/data' })])
    .withExposedPorts({ container: 6379, host: cfg.port })
    .withBindMounts([{ source: cfg.dir, target: '/data', mode: 'rw' }])
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .withStartupTimeout(60_000)
    .start();
  const host = container.getHost();
  if (host !== 'localhost' && host !== '127.0.0.1') {
    await container.stop();
    throw new ApfError('APF_ERR_COMMAND_FAILED', `the Docker engine is not local (${host}); the harness needs 127.0.0.1`);
  }
  return {
    pid: undefined,
    stop: async () => void (await container.stop({ timeout: 5000 })),
    kill: async () => void (await container.stop({ timeout: 0 })),
  };
}

/** Removes the data files (not the logs) so the next start begins empty. */
function wipeData(dir: string): void {
  for (const entry of readdirSync(dir)) {
    if (entry === 'redis.log' || entry === 'redis.out') continue;
    rmSync(join(dir, entry), { recursive: true, force: true });
  }
}

/**
 * Starts a real Redis on a free loopback port (container when Docker answers, else a spawned
 * `redis-server`) and resolves once it answers PING.
 *
 * @throws ApfError `APF_ERR_COMMAND_FAILED` when `redis-server` is missing (the message names the
 *   apt-get command) or the server exits or stays silent during start (the message quotes its log).
 */
export async function startRedis(opts: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const dir = opts.dir === undefined ? makeTempDir('apf-redis-') : resolve(opts.dir);
  ensureDir(dir);
  const base = { dir, aof: opts.aof ?? false, password: opts.password, args: opts.args ?? [], bin: opts.bin ?? 'redis-server' };
  let cfg: LaunchConfig | undefined;
  let instance: Instance | undefined;
  let kind: 'process' | 'container' = 'process';
  if (opts.forceProcess !== true && dockerPlausible()) {
    try {
      cfg = { ...base, port: opts.port ?? (await freePort()) };
      instance = await launchContainer(cfg);
      kind = 'container';
    } catch {
      // No working container runtime: the spawned process below is the normal path.
    }
  }
  for (let attempt = 1; instance === undefined; attempt++) {
    cfg = { ...base, port: opts.port ?? (await freePort()) };
    try {
      instance = await launchProcess(cfg);
    } catch (err) {
      const clash = isApfError(err) && err.details['portInUse'] === true;
      if (!clash || opts.port !== undefined || attempt >= PORT_ATTEMPTS) throw err;
    }
  }
  const config = cfg as LaunchConfig;
  const launch = kind === 'container' ? launchContainer : launchProcess;
  const auth = config.password === undefined ? '' : `:${encodeURIComponent(config.password)}@`;
  const handle: RedisServerHandle = {
    host: '127.0.0.1',
    port: config.port,
    url: `redis://${auth}127.0.0.1:${config.port}`,
    password: config.password,
    dir,
    kind,
    get pid() {
      return instance?.pid;
    },
    async stop() {
      const current = instance;
      instance = undefined;
      await current?.stop();
    },
    async kill() {
      const current = instance;
      instance = undefined;
      await current?.kill();
    },
    async restart(restartOpts = {}) {
      await handle.stop();
      if (restartOpts.keepData === false) wipeData(dir);
      instance = await launch(config);
    },
    async pause(ms) {
      await redisCall(handle, ['CLIENT', 'PAUSE', ms, 'ALL']);
    },
  };
  return handle;
}

/**
 * vitest helper: starts a server in `beforeAll`, stops it (and removes its temp dir) in
 * `afterAll`, and returns a getter for the handle, to call inside tests.
 *
 * @throws ApfError `APF_ERR_USAGE` from the getter when called outside the suite's tests.
 */
export function useRedis(opts: RedisServerOptions = {}): () => RedisServerHandle {
  let handle: RedisServerHandle | undefined;
  beforeAll(async () => {
    handle = await startRedis(opts);
  });
  afterAll(async () => {
    const done = handle;
    handle = undefined;
    if (done === undefined) return;
    await done.stop();
    if (opts.dir === undefined) removeDir(done.dir);
  });
  return () => {
    if (handle === undefined) throw new ApfError('APF_ERR_USAGE', 'useRedis(): the server exists only between beforeAll and afterAll');
    return handle;
  };
}
