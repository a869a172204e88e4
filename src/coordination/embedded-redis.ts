/**
 * The private Redis an instance starts when no Redis is configured (single-host use, `apf start`
 * out of the box): a `redis-server` child from PATH on a free 127.0.0.1 port, with its data in
 * `<stateDir>/redis` (mode 0700) and AOF persistence (`appendfsync everysec`: a crash loses at most
 * about one second of writes), so queue state, history and the fencing counters survive restarts.
 *
 * Access: it listens on loopback only with protected mode on, and it requires a random password
 * (written to `redis.conf` in the 0700 directory, mode 0600, never on the command line) so that other
 * local users cannot read or write the factory's state. The returned URL carries that password;
 * log it only through `describeRedis`.
 *
 * Lifetime: the child runs in its own process group (a Ctrl-C in the terminal reaches only apf,
 * which then shuts down gracefully while Redis is still up) and is stopped by PID: by
 * {@link EmbeddedRedis.stop}, on the parent's `exit`, and on SIGTERM/SIGINT/SIGHUP when the parent has
 * no handler of its own for them (a daemon with its own handler calls `stop()` as the last step of
 * its shutdown). A parent killed with SIGKILL cannot clean up; the next start finds the orphan
 * through `embedded.json` (PID and port, checked against `/proc/<pid>/cmdline`) and stops it before
 * starting a new server on the same data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { ApfError, isApfError } from '../errors.ts';
import type { Logger } from '../logging/logger.ts';

/** How to install the server, named in the "not found" error. */
export const REDIS_INSTALL_COMMAND = '`apt-get install redis-server` (Debian/Ubuntu) or `dnf install redis` (RHEL/Fedora/Alma)';

/** Options for {@link startEmbeddedRedis}. */
export interface EmbeddedRedisOptions {
  /** apf's state directory (`cluster.state_dir`); the server's data goes to `<stateDir>/redis`. */
  stateDir: string;
  /** Receives start/stop events and orphan reaping. */
  logger: Logger;
  /** The server executable. @defaultValue `redis-server` from PATH */
  bin?: string;
  /** Deadline for the server to answer PING (AOF loading included). @defaultValue 30 000 ms */
  startTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping. @defaultValue 10 000 ms */
  stopGraceMs?: number;
}

/** A running embedded server. */
export interface EmbeddedRedis {
  /** `redis://:<password>@127.0.0.1:<port>` (contains the password: never log it). */
  readonly url: string;
  /** The loopback port it listens on. */
  readonly port: number;
  /** The server's PID (signals go to this PID only). */
  readonly pid: number;
  /** The server's data directory (`<stateDir>/redis`). */
  readonly dir: string;
  /**
   * SIGTERM by PID (Redis fsyncs the AOF and exits), SIGKILL after the grace; resolves once it has
   * exited. Idempotent; never throws.
   */
  stop(): Promise<void>;
}

/** What `embedded.json` records about the running server (for orphan detection after a SIGKILL). */
interface Marker {
  readonly pid: number;
  readonly port: number;
}

const MARKER = 'embedded.json';
const PORT_ATTEMPTS = 3;
const FATAL_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/** A free loopback port (the kernel picks it; a race with another process is retried by the caller). */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** Sends `sig` to `pid`, ignoring a process that has already gone (ESRCH). */
function signalPid(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already exited.
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Whether `pid` runs and is not a zombie. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

function tail(path: string, lines = 12): string {
  if (!existsSync(path)) return '';
  return readFileSync(path, 'utf8').split('\n').slice(-lines - 1).join('\n').trimEnd();
}

/**
 * Stops a server a previous apf process left running (it was SIGKILLed): the PID from
 * `embedded.json` is signalled only when `/proc/<pid>/cmdline` still shows a redis-server on the
 * recorded loopback port, so a reused PID is never touched.
 */
async function reapOrphan(dir: string, log: Logger): Promise<void> {
  const path = join(dir, MARKER);
  if (!existsSync(path)) return;
  let marker: Marker;
  try {
    marker = JSON.parse(readFileSync(path, 'utf8')) as Marker;
  } catch {
    rmSync(path, { force: true });
    return;
  }
  if (!Number.isInteger(marker.pid) || marker.pid <= 1 || !alive(marker.pid)) {
    rmSync(path, { force: true });
    return;
  }
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${marker.pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return;
  }
  if (!cmdline.includes('redis-server') || !cmdline.includes(`127.0.0.1:${marker.port}`)) {
    rmSync(path, { force: true });
    return;
  }
  log.warn({ pid: marker.pid, port: marker.port }, 'stopping the embedded redis-server a previous apf process left running');
  signalPid(marker.pid, 'SIGTERM');
  const until = performance.now() + 10_000;
  while (alive(marker.pid) && performance.now() < until) await sleep(20);
  if (alive(marker.pid)) signalPid(marker.pid, 'SIGKILL');
  rmSync(path, { force: true });
}

/** Sends one command on a short-lived connection with a hard deadline. */
async function call(port: number, password: string, args: [string, ...string[]], timeoutMs: number): Promise<unknown> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    password,
    lazyConnect: true,
    protocol: 2,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    disableClientInfo: true,
    // Close the socket at once after the reply instead of waiting up to 2 s for a graceful close.
    disconnectTimeout: 50,
  });
  client.on('error', () => undefined);
  const deadline = setTimeout(() => client.disconnect(), timeoutMs);
  try {
    await client.connect();
    const [cmd, ...rest] = args;
    return await client.call(cmd, ...rest);
  } finally {
    clearTimeout(deadline);
    client.disconnect();
  }
}

/** One launched server process. */
interface Launched {
  readonly pid: number;
  readonly exited: Promise<void>;
  running(): boolean;
}

function launch(bin: string, dir: string, port: number): Promise<Launched> {
  const out = openSync(join(dir, 'redis.out'), 'a');
  let child: ChildProcess;
  try {
    child = spawn(bin, [join(dir, 'redis.conf'), '--port', String(port)], {
      stdio: ['ignore', out, out],
      cwd: dir,
      detached: true,
    });
  } finally {
    closeSync(out);
  }
  return new Promise((resolveLaunch, reject) => {
    let done = false;
    const exited = new Promise<void>((r) => child.once('exit', () => {
      done = true;
      r();
    }));
    child.once('spawn', () => {
      // The parent must be able to exit without waiting for the server; the exit hook stops it.
      child.unref();
      resolveLaunch({ pid: child.pid as number, exited, running: () => !done });
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      done = true;
      reject(
        err.code === 'ENOENT'
          ? new ApfError('APF_ERR_COMMAND_FAILED', `${bin} was not found on PATH: install it with ${REDIS_INSTALL_COMMAND}, or set redis.url to an existing Redis`, { cause: err, details: { bin } })
          : new ApfError('APF_ERR_COMMAND_FAILED', `${bin} could not be started: ${err.message}`, { cause: err, details: { bin } }),
      );
    });
  });
}

/** Waits until the server answers PING as itself (INFO names its PID). */
async function awaitReady(proc: Launched, dir: string, port: number, password: string, timeoutMs: number, bin: string): Promise<void> {
  const fail = (why: string, extra: Record<string, unknown> = {}): ApfError => {
    const logs = `${tail(join(dir, 'redis.log'))}\n${tail(join(dir, 'redis.out'))}`.trim();
    return new ApfError('APF_ERR_COMMAND_FAILED', `embedded ${bin} on 127.0.0.1:${port} ${why}${logs === '' ? '' : `; log tail:\n${logs}`}`, {
      details: { port, dir, portInUse: /address already in use/i.test(logs), ...extra },
    });
  };
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (!proc.running()) throw fail('exited during start');
    try {
      if ((await call(port, password, ['PING'], 1000)) === 'PONG') {
        const info = String(await call(port, password, ['INFO', 'server'], 1000));
        if (/^process_id:(\d+)/m.exec(info)?.[1] === String(proc.pid)) return;
      }
    } catch {
      // Not listening yet, or loading its AOF (LOADING).
    }
    if (performance.now() > deadline) throw fail(`did not answer PING within ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** Embedded servers of this process that are still running (normally one). */
const running = new Set<Launched>();

/**
 * Stops the children with the parent. 'exit' handlers must be synchronous: SIGTERM is sent and
 * Redis completes its own shutdown (AOF fsync) after apf is gone.
 */
function onExit(): void {
  for (const server of running) if (server.running()) signalPid(server.pid, 'SIGTERM');
}

/**
 * A fatal signal: when apf has its own handler (the daemon's graceful shutdown, which calls
 * `stop()` last) nothing happens here; otherwise the servers are stopped and the signal is raised
 * again without this handler, so its default action (terminate) applies.
 */
function onSignal(sig: NodeJS.Signals): void {
  if (process.listeners(sig).some((l) => l !== onSignal)) return;
  removeHooks();
  onExit();
  process.kill(process.pid, sig);
}

function installHooks(): void {
  if (process.listeners('exit').includes(onExit)) return;
  process.on('exit', onExit);
  for (const s of FATAL_SIGNALS) process.on(s, onSignal);
}

function removeHooks(): void {
  process.off('exit', onExit);
  for (const s of FATAL_SIGNALS) process.off(s, onSignal);
}

/**
 * Starts the private `redis-server` and resolves once it answers PING.
 *
 * @throws ApfError `APF_ERR_COMMAND_FAILED` when `redis-server` is not installed (the message names
 *   the install command) or the server exits or stays silent during start (the message quotes its log).
 */
export async function startEmbeddedRedis(options: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  const bin = options.bin ?? 'redis-server';
  const log = options.logger.child({ component: 'embedded-redis' });
  // Redis chdirs to --dir before opening its log file: every path must be absolute.
  const dir = resolve(options.stateDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  await reapOrphan(dir, log);

  const password = randomBytes(24).toString('hex');
  const conf = [
    'bind 127.0.0.1',
    'protected-mode yes',
    'daemonize no',
    `dir ${dir}`,
    `logfile ${join(dir, 'redis.log')}`,
    'appendonly yes',
    'appendfsync everysec',
    'save ""',
    // Never evict: an evicted lease or fence would break mutual exclusion (coordination.md §1.7).
    'maxmemory-policy noeviction',
    `requirepass ${password}`,
    '',
  ].join('\n');
  writeFileSync(join(dir, 'redis.conf'), conf, { mode: 0o600 });
  chmodSync(join(dir, 'redis.conf'), 0o600);

  let proc: Launched | undefined;
  let port = 0;
  for (let attempt = 1; proc === undefined; attempt++) {
    port = await freeLoopbackPort();
    const candidate = await launch(bin, dir, port);
    try {
      await awaitReady(candidate, dir, port, password, options.startTimeoutMs ?? 30_000, bin);
      proc = candidate;
    } catch (err) {
      if (candidate.running()) {
        signalPid(candidate.pid, 'SIGKILL');
        await candidate.exited;
      }
      if (!(isApfError(err) && err.details['portInUse'] === true) || attempt >= PORT_ATTEMPTS) throw err;
    }
  }
  const server = proc;
  writeFileSync(join(dir, MARKER), JSON.stringify({ pid: server.pid, port } satisfies Marker), { mode: 0o600 });

  running.add(server);
  installHooks();
  log.info({ port, pid: server.pid, dir }, 'embedded redis-server started');
  let stopping: Promise<void> | undefined;
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    port,
    pid: server.pid,
    dir,
    stop() {
      stopping ??= (async () => {
        running.delete(server);
        if (running.size === 0) removeHooks();
        if (server.running()) {
          // the child is unref'd (apf may exit first): keep the loop alive while waiting for it
          const keepAlive = setInterval(() => undefined, 1000);
          server.exited.finally(() => clearInterval(keepAlive)).catch(() => undefined);
          signalPid(server.pid, 'SIGTERM');
          const grace = new Promise<'late'>((r) => setTimeout(() => r('late'), options.stopGraceMs ?? 10_000).unref());
          if ((await Promise.race([server.exited.then(() => 'done' as const), grace])) === 'late' && server.running()) {
            log.warn({ pid: server.pid }, 'embedded redis-server ignored SIGTERM; killing it');
            signalPid(server.pid, 'SIGKILL');
            await server.exited;
          }
        }
        rmSync(join(dir, MARKER), { force: true });
        log.info({ pid: server.pid }, 'embedded redis-server stopped');
      })().catch((err: unknown) => log.error({ error: err instanceof Error ? err.message : String(err) }, 'stopping the embedded redis-server failed'));
      return stopping;
    },
  };
}

/**
 * The embedded server an `apf start` on this host is running under `stateDir`, for the CLI
 * (`apf status`, `apf pause`…): found from its marker and config file (readable only by the user
 * apf runs as), or null when none is running.
 */
export function findEmbeddedRedis(stateDir: string): { url: string; port: number; pid: number } | null {
  const dir = resolve(stateDir, 'redis');
  try {
    const marker = JSON.parse(readFileSync(join(dir, MARKER), 'utf8')) as Marker;
    if (!Number.isInteger(marker.pid) || !alive(marker.pid)) return null;
    const pass = /^requirepass (\S+)$/m.exec(readFileSync(join(dir, 'redis.conf'), 'utf8'))?.[1];
    if (pass === undefined) return null;
    return { url: `redis://:${pass}@127.0.0.1:${marker.port}`, port: marker.port, pid: marker.pid };
  } catch {
    return null;
  }
}
