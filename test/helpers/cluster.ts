/**
 * A whole apf cluster on this machine for the failure tests: a real redis-server (or a Sentinel
 * setup), the PanDA simulator in-process, one HTCondor simulator (state dir + bin dir) PER
 * INSTANCE — each submit host has its own local schedd — and N real `apf start` processes with
 * short timings, each tracked by PID and logging JSON lines to its own file.
 *
 * The harness only observes through the interfaces an operator has: Redis (collectStatus,
 * QueueState), the simulators' condor_q/condor_history output and the instances' logs. The pure
 * checks over what it observes (duplicates, gaps) are in cluster-checks.ts.
 *
 * Cluster tests must not share the 2 cores with another cluster: {@link startCluster} first takes
 * a machine-wide lock (a file in the temp dir, freed when its holder's PID is gone), so cluster
 * files run one at a time even when vitest runs test files in parallel.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/load.ts';
import { formatProblem, type ApfConfig } from '../../src/config/types.ts';
import { createRedis, waitForRedis } from '../../src/coordination/redis.ts';
import { Keys } from '../../src/coordination/keys.ts';
import { decodeSubmittedMember } from '../../src/coordination/contributions.ts';
import { Dispatcher } from '../../src/coordination/dispatch.ts';
import { silentLogger } from '../../src/logging/logger.ts';
import type { SubmittedEntry } from '../../src/coordination/cluster-view.ts';
import { QueueState } from '../../src/coordination/queue-state.ts';
import type { CycleRecord } from '../../src/coordination/records.ts';
import { collectStatus, type StatusReport } from '../../src/core/status.ts';
import { startPandaSim, type PandaSim } from '../../src/sim/panda/index.ts';
import { updateState, writeWrappers } from '../../src/sim/condor/admin.ts';
import type { Fault } from '../../src/sim/condor/config.ts';
import { runCondorTool } from '../../src/sim/condor/run.ts';
import { APF_ENTRY } from './cli.ts';
import { makeTempDir, removeDir, spawnTracked, waitUntil, type TrackedProcess } from './processes.ts';
import { startRedis, type RedisServerHandle } from './redis-server.ts';
import type { SentinelCluster } from './sentinel.ts';
import { parseCycleId, type PilotTag } from './cluster-checks.ts';
import { factoryConf, pandaScenario, queuesConf, type QueueSpec } from './cluster-config.ts';
import { killTree, LOCK_WAIT_MS, readLogFile, takeMachineLock, type LogRecord } from './cluster-procs.ts';

export * from './cluster-checks.ts';
export * from './cluster-config.ts';
export * from './cluster-procs.ts';

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Instance ids, started in order (all at once). */
  readonly instances: readonly string[];
  readonly queues: readonly QueueSpec[];
  /** `[Factory]` keys overriding {@link DEFAULT_FACTORY} (cluster timings…). */
  readonly factory?: Readonly<Record<string, string | number>>;
  /** Extra lines for the `[DEFAULT]` section of queues.conf. */
  readonly queueDefaults?: readonly string[];
  /** Redis: a private server (AOF or not), or an existing Sentinel setup. @defaultValue plain */
  readonly redis?: { readonly aof?: boolean } | { readonly sentinel: SentinelCluster };
  /** HTCondor simulator timeline of every schedd. @defaultValue pilots stay idle for an hour */
  readonly condor?: { readonly idleSeconds?: number; readonly runSeconds?: number };
}

/** One `apf start` process and its simulator. */
export interface InstanceHandle {
  readonly id: string;
  readonly proc: TrackedProcess;
  /** HTCondor simulator state and bin dirs of this submit host. */
  readonly condorState: string;
  readonly condorBin: string;
  readonly logFile: string;
  /** Parsed JSON log records (lines that are not JSON are skipped). */
  logs(): LogRecord[];
  /** Sets (or with `undefined` clears) a fault on this host's simulated `condor_submit`. */
  submitFault(fault: Fault | undefined): Promise<void>;
}

/** A running test cluster. */
export interface Cluster {
  readonly root: string;
  readonly configDir: string;
  readonly panda: PandaSim;
  /** The private server (undefined with Sentinel). */
  readonly redisServer: RedisServerHandle | undefined;
  /** The test's own Redis connection (fails fast; reconnects by itself). */
  readonly redis: Redis;
  readonly keys: Keys;
  /** The configuration the cluster started with. */
  readonly config: ApfConfig;
  readonly instances: Map<string, InstanceHandle>;
  readonly queues: readonly QueueSpec[];
  instance(id: string): InstanceHandle;
  /**
   * Starts one more instance (or restarts a stopped id); resolves once it logged "instance started".
   * `redisUrl` becomes its `APF_REDIS_URL` (e.g. through a TCP proxy).
   */
  startInstance(id: string, opts?: { redisUrl?: string }): Promise<InstanceHandle>;
  status(): Promise<StatusReport>;
  /** The committed cycle records of a queue, oldest first. */
  history(queue: string): Promise<CycleRecord[]>;
  /** Every queue's committed records, oldest first. */
  histories(queues?: readonly string[]): Promise<Map<string, CycleRecord[]>>;
  queueState(): QueueState;
  /** Every pilot in one instance's schedd (queue and history), tagged with that schedd. */
  pilots(id: string): Promise<PilotTag[]>;
  /** Every pilot of every instance's schedd. */
  allPilots(): Promise<PilotTag[]>;
  /** Every submission recorded in the cluster's batch contributions (what the cycles counted), all sources. */
  submissions(): Promise<SubmittedEntry[]>;
  /** How many BullMQ job schedulers exist (one per enabled queue when all is well). */
  schedulers(): Promise<number>;
  /** Rewrites queues.conf (reload tests). */
  writeQueuesConf(text: string): void;
  /** The queues.conf text for `queues` (what the cluster started with). */
  queuesConf(queues: readonly QueueSpec[]): string;
  /** SIGKILLs every instance, stops the simulators and Redis, frees the machine lock. */
  stop(): Promise<void>;
}

const COMPILE_CACHE = join(tmpdir(), 'apf-test-compile-cache');
const PILOT_ATTRS = 'ClusterId,ProcId,JobStatus,QDate,MATCH_APF_QUEUE,APF_FACTORY,APF_CYCLE,APF_INSTANCE';
/** Deadline for an instance to start (Node start-up and the first poll of its schedd, on a loaded machine). */
const START_TIMEOUT_MS = 45_000;

/** Runs one simulated tool in-process against a state dir; the parsed `-json` output. */
async function condorJson(stateDir: string, tool: 'condor_q' | 'condor_history', args: readonly string[]): Promise<Array<Record<string, unknown>>> {
  let out = '';
  let err = '';
  const code = await runCondorTool(tool, args, {
    stateDir,
    stdout: { write: (t: string) => (out += t) },
    stderr: { write: (t: string) => (err += t) },
  });
  if (code !== 0) throw new Error(`${tool} ${args.join(' ')} exited ${code}: ${err}`);
  return out.trim() === '' ? [] : (JSON.parse(out) as Array<Record<string, unknown>>);
}

/** A string attribute of an ad ('' when absent or not a string). */
function str(ad: Record<string, unknown>, name: string): string {
  const v = ad[name];
  return typeof v === 'string' ? v : '';
}

function toPilot(ad: Record<string, unknown>, schedd: string, inQueue: boolean): PilotTag {
  const cycle = str(ad, 'APF_CYCLE');
  const parsed = parseCycleId(cycle);
  return {
    id: `${String(ad['ClusterId'])}.${String(ad['ProcId'])}`,
    schedd,
    inQueue,
    jobStatus: Number(ad['JobStatus']),
    qdate: Number(ad['QDate']),
    queue: str(ad, 'MATCH_APF_QUEUE'),
    factory: str(ad, 'APF_FACTORY'),
    cycle,
    instance: str(ad, 'APF_INSTANCE'),
    slot: parsed?.slot ?? NaN,
    token: parsed?.token ?? NaN,
  };
}

/** Starts Redis (unless Sentinel), the PanDA simulator, the config and the instances. */
export async function startCluster(o: ClusterOptions): Promise<Cluster> {
  const release = await takeMachineLock(LOCK_WAIT_MS);
  const root = makeTempDir('apf-cluster-');
  const configDir = join(root, 'etc');
  mkdirSync(configDir);
  mkdirSync(COMPILE_CACHE, { recursive: true });
  // Last: the temp dir (once nothing can write into it any more), then the machine lock.
  const cleanups: Array<() => Promise<void>> = [() => Promise.resolve(release()), () => Promise.resolve(removeDir(root))];
  const instances = new Map<string, InstanceHandle>();
  try {
    const sentinel = o.redis !== undefined && 'sentinel' in o.redis ? o.redis.sentinel : undefined;
    const redisServer = sentinel === undefined ? await startRedis({ aof: o.redis !== undefined && 'aof' in o.redis && o.redis.aof === true }) : undefined;
    if (redisServer !== undefined) cleanups.push(() => redisServer.stop());
    const panda = await startPandaSim({ port: 0, scenario: pandaScenario(o.queues) });
    cleanups.push(() => panda.close());
    const redisAt = sentinel === undefined ? { url: redisServer?.url ?? '' } : { sentinel };
    writeFileSync(join(configDir, 'autopyfactory.conf'), factoryConf(root, panda, redisAt, o.factory));
    const queuesText = (queues: readonly QueueSpec[]): string => queuesConf(queues, o.queueDefaults ?? []);
    writeFileSync(join(configDir, 'queues.conf'), queuesText(o.queues));
    const loaded = await loadConfig({ dir: configDir });
    if (loaded.config === undefined) throw new Error(`test cluster config invalid: ${loaded.problems.map(formatProblem).join('; ')}`);
    const config = loaded.config;
    const redis = createRedis(config.factory.cluster.redis, { role: 'test', env: {} });
    cleanups.push(async () => void (await redis.quit().catch(() => redis.disconnect())));
    await waitForRedis(redis, 20_000);
    const keys = new Keys(config.factory.cluster.prefix);
    const state = new QueueState(redis, keys, { history: config.factory.cluster.history });

    const startInstance = async (id: string, opts: { redisUrl?: string } = {}): Promise<InstanceHandle> => {
      const condorState = join(root, `condor-${id}`);
      const condorBin = join(root, `bin-${id}`);
      const logFile = join(root, `${id}.log`);
      await updateState(condorState, { set: { idleSeconds: o.condor?.idleSeconds ?? 3600, runSeconds: o.condor?.runSeconds ?? 3600 } });
      writeWrappers(condorBin, condorState, process.execPath, APF_ENTRY);
      const url = opts.redisUrl;
      const proc = await spawnTracked(process.execPath, [APF_ENTRY, 'start', '--config', configDir, '--instance', id], {
        name: `apf:${id}`,
        outputFile: logFile,
        env: {
          PATH: `${condorBin}:${process.env['PATH'] ?? ''}`,
          APF_LOG_LEVEL: 'info',
          NODE_COMPILE_CACHE: COMPILE_CACHE,
          // Tests run as root on CI machines: stay root rather than drop to factoryUser.
          APF_ALLOW_ROOT: '1',
          APF_WEB_PORT: '0',
          ...(url === undefined ? {} : { APF_REDIS_URL: url }),
        },
      });
      const handle: InstanceHandle = {
        id,
        proc,
        condorState,
        condorBin,
        logFile,
        logs: () => readLogFile(logFile),
        submitFault: async (fault) => {
          await updateState(condorState, fault === undefined ? { clearFaults: true } : { faults: { condor_submit: fault } });
        },
      };
      instances.set(id, handle);
      await waitUntil(
        `instance ${id} to start`,
        () => {
          if (!proc.running()) throw new Error(`apf start ${id} exited: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
          return handle.logs().some((r) => r.msg === 'instance started' && typeof r['owner'] === 'string' && r['owner'].includes(`:${proc.pid}:`)) ? true : undefined;
        },
        { timeoutMs: START_TIMEOUT_MS, intervalMs: 100 },
      );
      return handle;
    };
    cleanups.push(async () => {
      await Promise.all([...instances.values()].map((i) => killTree(i.proc)));
    });
    await Promise.all(o.instances.map((id) => startInstance(id)));

    const cluster: Cluster = {
      root,
      configDir,
      panda,
      redisServer,
      redis,
      keys,
      config,
      instances,
      queues: o.queues,
      instance(id) {
        const i = instances.get(id);
        if (i === undefined) throw new Error(`no instance ${id}`);
        return i;
      },
      startInstance,
      status: () => collectStatus(redis, keys, config),
      async history(queue) {
        return (await state.history(queue)).reverse();
      },
      async histories(queues = o.queues.map((q) => q.name)) {
        const out = new Map<string, CycleRecord[]>();
        for (const q of queues) out.set(q, (await state.history(q)).reverse());
        return out;
      },
      queueState: () => state,
      async pilots(id) {
        const inst = cluster.instance(id);
        const args = ['-json', '-attributes', PILOT_ATTRS];
        const queued = await condorJson(inst.condorState, 'condor_q', ['-allusers', ...args]);
        const done = await condorJson(inst.condorState, 'condor_history', args);
        return [...queued.map((ad) => toPilot(ad, id, true)), ...done.map((ad) => toPilot(ad, id, false))];
      },
      async allPilots() {
        const out: PilotTag[] = [];
        for (const id of instances.keys()) out.push(...(await cluster.pilots(id)));
        return out;
      },
      async submissions() {
        const out: SubmittedEntry[] = [];
        for (const source of await redis.zrange(keys.sources, '0', '-1')) {
          const flat = await redis.zrange(keys.sourceSubmitted(source), '0', '-1', 'WITHSCORES');
          for (let i = 0; i + 1 < flat.length; i += 2) {
            const e = decodeSubmittedMember(source, flat[i] as string, flat[i + 1] as string);
            if (e !== null) out.push(e);
          }
        }
        return out;
      },
      async schedulers() {
        const d = new Dispatcher({ connection: redis, keys, logger: silentLogger() });
        try {
          return (await d.counts()).schedulers;
        } finally {
          await d.close();
        }
      },
      writeQueuesConf(text) {
        writeFileSync(join(configDir, 'queues.conf'), text);
      },
      queuesConf: queuesText,
      async stop() {
        // Newest first: instances, then the test's connection, the simulator, Redis, the lock.
        for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
      },
    };
    return cluster;
  } catch (err) {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    throw err;
  }
}

