/**
 * A real Redis Sentinel setup for failover tests: a primary, one replica and three sentinels
 * (quorum 2), all spawned processes on free loopback ports.
 *
 * Sentinels run as `redis-server <conf> --sentinel` (the same binary as the `redis-sentinel`
 * command, so only the redis-server package is needed). Each has its own writable config file in a
 * temp dir because Sentinel rewrites it as it learns about replicas and other sentinels.
 *
 * `startSentinelCluster` returns only once every sentinel sees the other two and the replica with
 * a healthy link: a `SENTINEL FAILOVER` sent earlier fails with `NOGOODSLAVE No suitable replica to
 * promote` (infra.md §1, measured: about 5 s from nothing to converged).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isApfError } from '../../src/errors.ts';
import { freePort } from './free-port.ts';
import { ensureDir, makeTempDir, removeDir, spawnTracked, waitUntil, type TrackedProcess } from './processes.ts';
import { awaitPing, REDIS_INSTALL_HINT, redisCall, startRedis, type RedisServerHandle } from './redis-server.ts';

/** Options for {@link startSentinelCluster}. */
export interface SentinelClusterOptions {
  /** The monitored master's name. @defaultValue `mymaster` */
  masterName?: string;
  /** `down-after-milliseconds`: how long the master must be silent before it is subjectively down. @defaultValue 1000 */
  downAfterMs?: number;
  /** `failover-timeout` in milliseconds. @defaultValue 5000 */
  failoverTimeoutMs?: number;
}

/** A loopback host and port. */
export interface HostPort {
  /** Always `127.0.0.1` here. */
  readonly host: string;
  /** TCP port. */
  readonly port: number;
}

/** A running primary + replica + 3 sentinels. */
export interface SentinelCluster {
  /** The name sentinels know the master by (ioredis `name`). */
  readonly masterName: string;
  /** The three sentinels (ioredis `sentinels`). */
  readonly sentinels: ReadonlyArray<HostPort>;
  /** The server that was primary at start (after a failover it is the replica: ask {@link SentinelCluster.currentMaster}). */
  readonly primary: RedisServerHandle;
  /** The server that was the replica at start. */
  readonly replica: RedisServerHandle;
  /**
   * `SENTINEL FAILOVER` (retried while the sentinels answer NOGOODSLAVE or INPROG, e.g. right after
   * an earlier failover), then waits until every sentinel's `get-master-addr-by-name` names the
   * other server and that server's `ROLE` is master.
   */
  failover(): Promise<void>;
  /** The master address according to the first sentinel that answers. */
  currentMaster(): Promise<HostPort>;
  /** Stops the sentinels, then both servers, and removes the temp dir. */
  stop(): Promise<void>;
}

/** Deadline for the sentinels to discover each other and the replica. */
const CONVERGE_TIMEOUT_MS = 30_000;
/** Deadline for a failover to be accepted (a second failover waits until the old master is a replica again, ~10 s). */
const FAILOVER_ACCEPT_TIMEOUT_MS = 30_000;
/** Deadline for every sentinel to report the new master. */
const FAILOVER_SWITCH_TIMEOUT_MS = 20_000;
/** Attempts with a new port when another process took the picked one first. */
const PORT_ATTEMPTS = 3;

/** `SENTINEL MASTER`/`REPLICAS` answer a flat [field, value, …] array. */
function fields(reply: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = String(reply[i + 1]);
  return out;
}

/** Writes the sentinel's config file and starts it; retries on a new port when the picked one was taken. */
async function launchSentinel(root: string, index: number, masterName: string, primaryPort: number, opts: Required<SentinelClusterOptions>): Promise<{ proc: TrackedProcess; port: number }> {
  const dir = join(root, `s${index}`);
  ensureDir(dir);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'sentinel.conf');
    const logfile = join(dir, 'sentinel.log');
    const outfile = join(dir, 'sentinel.out');
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        'daemonize no',
        `dir ${dir}`,
        `logfile ${logfile}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${primaryPort} 2`,
        `sentinel down-after-milliseconds ${masterName} ${opts.downAfterMs}`,
        `sentinel failover-timeout ${masterName} ${opts.failoverTimeoutMs}`,
        '',
      ].join('\n'),
    );
    const proc = await spawnTracked('redis-server', [conf, '--sentinel'], {
      name: `redis-sentinel:${port}`,
      outputFile: outfile,
      installHint: REDIS_INSTALL_HINT,
    });
    try {
      await awaitPing(proc, { host: '127.0.0.1', port }, [logfile, outfile]);
      return { proc, port };
    } catch (err) {
      if (!(isApfError(err) && err.details['portInUse'] === true) || attempt >= PORT_ATTEMPTS) throw err;
    }
  }
}

/** Resolves once every sentinel sees 2 other sentinels and a healthy replica, and the replica's link is up. */
async function waitConverged(sentinels: readonly HostPort[], replica: RedisServerHandle, masterName: string): Promise<void> {
  let last = '';
  await waitUntil(
    'the sentinels to see each other and the replica',
    async () => {
      for (const s of sentinels) {
        const master = fields(await redisCall(s, ['SENTINEL', 'MASTER', masterName]));
        const replicas = (await redisCall(s, ['SENTINEL', 'REPLICAS', masterName])) as unknown[];
        const healthy = replicas.map(fields).filter((r) => r['flags'] === 'slave' && r['master-link-status'] === 'ok');
        last = `sentinel ${s.port}: ${master['num-other-sentinels']} other sentinels, ${healthy.length} healthy replicas`;
        if (master['num-other-sentinels'] !== '2' || healthy.length < 1) return undefined;
      }
      const info = String(await redisCall(replica, ['INFO', 'replication']));
      last = 'replica link not up yet';
      return /master_link_status:up/.test(info) ? true : undefined;
    },
    { timeoutMs: CONVERGE_TIMEOUT_MS, intervalMs: 100, describe: () => last },
  );
}

/**
 * Starts a primary, a replica and three sentinels on free loopback ports and waits (≤ 30 s) until
 * they have converged, so a failover can be requested at once.
 *
 * @throws ApfError `APF_ERR_COMMAND_FAILED` when a process cannot start, `APF_ERR_COMMAND_TIMEOUT`
 *   when they do not converge in time (everything started is stopped again first).
 */
export async function startSentinelCluster(opts: SentinelClusterOptions = {}): Promise<SentinelCluster> {
  const settings: Required<SentinelClusterOptions> = {
    masterName: opts.masterName ?? 'mymaster',
    downAfterMs: opts.downAfterMs ?? 1000,
    failoverTimeoutMs: opts.failoverTimeoutMs ?? 5000,
  };
  const { masterName } = settings;
  const root = makeTempDir('apf-sentinel-');
  const procs: TrackedProcess[] = [];
  const servers: RedisServerHandle[] = [];
  const stopAll = async (): Promise<void> => {
    // Sentinels first, so they do not react to the servers going away.
    await Promise.all(procs.map((p) => p.stop()));
    await Promise.all(servers.map((s) => s.stop()));
    removeDir(root);
  };
  try {
    const primary = await startRedis({ dir: join(root, 'primary'), forceProcess: true });
    servers.push(primary);
    const replica = await startRedis({ dir: join(root, 'replica'), forceProcess: true, args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    servers.push(replica);
    const sentinels: HostPort[] = [];
    for (const i of [1, 2, 3]) {
      const { proc, port } = await launchSentinel(root, i, masterName, primary.port, settings);
      procs.push(proc);
      sentinels.push({ host: '127.0.0.1', port });
    }
    await waitConverged(sentinels, replica, masterName);

    const masterAt = async (s: HostPort): Promise<HostPort> => {
      const reply = (await redisCall(s, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName])) as [string, string] | null;
      if (reply === null) throw new Error(`sentinel ${s.port} does not know ${masterName}`);
      return { host: reply[0], port: Number(reply[1]) };
    };
    const cluster: SentinelCluster = {
      masterName,
      sentinels,
      primary,
      replica,
      async currentMaster() {
        let lastError: unknown;
        for (const s of sentinels) {
          try {
            return await masterAt(s);
          } catch (err) {
            lastError = err;
          }
        }
        throw lastError;
      },
      async failover() {
        const before = await cluster.currentMaster();
        let turn = 0;
        await waitUntil(
          `sentinels to accept SENTINEL FAILOVER ${masterName}`,
          async () => {
            // Rotate through the sentinels so one that is down cannot block the request.
            const s = sentinels[turn++ % sentinels.length] as HostPort;
            return (await redisCall(s, ['SENTINEL', 'FAILOVER', masterName])) === 'OK' ? true : undefined;
          },
          { timeoutMs: FAILOVER_ACCEPT_TIMEOUT_MS, intervalMs: 200 },
        );
        await waitUntil(
          `every sentinel to report a master other than 127.0.0.1:${before.port}`,
          async () => {
            const seen = await Promise.all(sentinels.map(masterAt));
            const after = seen[0] as HostPort;
            if (seen.some((m) => m.port === before.port || m.port !== after.port)) return undefined;
            const role = (await redisCall(after, ['ROLE'])) as unknown[];
            return role[0] === 'master' ? true : undefined;
          },
          { timeoutMs: FAILOVER_SWITCH_TIMEOUT_MS, intervalMs: 50 },
        );
      },
      stop: stopAll,
    };
    return cluster;
  } catch (err) {
    await stopAll();
    throw err;
  }
}
