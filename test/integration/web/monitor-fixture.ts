/**
 * A realistic cluster state for the monitor's HTTP and browser tests, written into a real
 * redis-server with the real stores (InstanceRegistry.register, ContributionStore.publish,
 * QueueState.commit under a real lease from QueueLeases, setPaused), a configuration loaded from
 * INI files, and the monitor served by buildServer on 127.0.0.1 port 0.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../../src/config/load.ts';
import { formatProblem, type ApfConfig } from '../../../src/config/types.ts';
import { ContributionStore } from '../../../src/coordination/contributions.ts';
import { InstanceRegistry } from '../../../src/coordination/instances.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import { QueueLeases } from '../../../src/coordination/lease.ts';
import { QueueState } from '../../../src/coordination/queue-state.ts';
import type { CycleRecord, InstanceRecord } from '../../../src/coordination/records.ts';
import { createRedis, waitForRedis } from '../../../src/coordination/redis.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import type { SchedStep } from '../../../src/plugins/define.ts';
import type { WebDeps } from '../../../src/web/deps.ts';
import { healthRoutes } from '../../../src/web/routes/health.ts';
import { monitorRoutes } from '../../../src/web/routes/monitor.ts';
import { makeTempDir } from '../../helpers/processes.ts';
import { serveWeb } from '../../helpers/web-server.ts';
import { cycleRecord } from '../../helpers/cycle-record.ts';

/** The queue whose name needs escaping everywhere (path, attribute, text). */
export const WEIRD = 'we/ird:q "<b>x</b>"';
export const CERN = 'CERN-ce503';
export const BNL = 'BNL-atlas';
export const TOKEN = 'monitor-test-token-0123456789';

/** Everything a test needs. */
export interface MonitorFixture {
  readonly now: number;
  readonly config: ApfConfig;
  readonly redis: Redis;
  readonly keys: Keys;
  readonly deps: WebDeps;
  readonly state: QueueState;
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  /** What was committed, per queue, newest first (as stored). */
  readonly records: ReadonlyMap<string, readonly CycleRecord[]>;
  close(): Promise<void>;
}

const MIN = 60_000;

function factoryConf(redisUrl: string, root: string): string {
  return `[Factory]
factoryId = web-test
factoryAdminEmail = admins@example.org
factoryUser = apf
baseLogDir = ${join(root, 'logs')}
baseLogDirUrl = http://factory.example.org:25880
batchstatus.condor.maxage = 120
redis.url = ${redisUrl}
redis.timeout = 2
cluster.prefix = apfweb
cluster.dead_after = 30
cluster.offline_grace = 7200
`;
}

const QUEUES_CONF = `[DEFAULT]
enabled = True
batchstatusplugin = Condor
batchsubmitplugin = CondorLocal
schedplugin = Ready, MaxPerCycle
sched.maxpercycle.maximum = 10
wmsstatusplugin = Panda
wmsstatus.panda.url = http://127.0.0.1:9
executable = /bin/true
apfqueue.sleep = 300

[${CERN}]
wmsqueue = CERN

[${BNL}]
wmsqueue = BNL

[${WEIRD}]
wmsqueue = WEIRD
`;

function steps(ready: number, pending: number): SchedStep[] {
  const want = Math.max(0, ready - pending);
  return [
    { plugin: 'Ready', in: 0, out: want, msg: `Ready:in=0,activated=${ready},pending=${pending},ret=${want}` },
    { plugin: 'MaxPerCycle', in: want, out: Math.min(want, 10), msg: want > 10 ? `MaxPerCycle:in=${want},max=10,ret=10` : null },
  ];
}

/** A committed cycle as the runner writes it. */
function record(
  queue: string,
  at: number,
  instance: string,
  token: number,
  o: { ready: number; pending: number; running: number; jobs: number; firstJob: number; blocked?: string; error?: string },
): CycleRecord {
  const s = steps(o.ready, o.pending);
  const n = s[s.length - 1]?.out ?? 0;
  const jobIds = Array.from({ length: o.jobs }, (_, i) => `${o.firstJob}.${i}`);
  return cycleRecord({
    queue,
    slot: at - 2000,
    token,
    instance,
    owner: `${instance}:100:1`,
    startedAt: at - 1500,
    at,
    durationMs: 1500,
    lagMs: 500,
    outcome: o.blocked !== undefined ? 'blocked' : o.error !== undefined ? 'failed' : o.jobs > 0 ? 'submitted' : 'nothing',
    n,
    submit: o.blocked !== undefined ? 0 : n,
    msg: s.flatMap((x) => (x.msg === null ? [] : [x.msg])).join(';'),
    steps: s,
    blocked: o.blocked ?? null,
    inputs: { ready: o.ready, pending: o.pending, running: o.running, siteStatus: 'online' },
    jobIds,
    error: o.error ?? null,
    configHash: 'hash-a',
  });
}

/** Commits `records` (oldest first) under one real lease. */
async function commitAll(leases: QueueLeases, state: QueueState, queue: string, make: (token: number) => CycleRecord[]): Promise<CycleRecord[]> {
  const lease = await leases.tryAcquire(queue);
  if (lease === null) throw new Error(`no lease for ${queue}`);
  const rs = make(lease.token);
  try {
    for (const r of rs) {
      const res = await state.commit(queue, lease, r);
      if (!res.ok) throw new Error(`commit of ${r.cycleId} rejected: ${res.reason}`);
    }
  } finally {
    await lease.release();
  }
  return [...rs].reverse();
}

function inst(id: string, over: Partial<Omit<InstanceRecord, 'heartbeatAt'>> = {}): Omit<InstanceRecord, 'heartbeatAt'> {
  return {
    id,
    owner: `${id}:100:1`,
    host: `${id}.example.org`,
    pid: 100,
    version: '0.1.0',
    configHash: 'hash-a',
    startedAt: 0,
    lastCycleAt: null,
    state: 'active',
    webPort: 25880,
    ...over,
  };
}

/** Writes the state, starts the monitor; `adminToken` undefined disables admin actions. */
export async function startMonitorFixture(redisUrl: string, opts: { adminToken?: string | undefined } = { adminToken: TOKEN }): Promise<MonitorFixture> {
  const root = makeTempDir('apf-monitor-');
  writeFileSync(join(root, 'autopyfactory.conf'), factoryConf(redisUrl, root));
  writeFileSync(join(root, 'queues.conf'), QUEUES_CONF);
  const loaded = await loadConfig({ dir: root });
  if (loaded.config === undefined) throw new Error(loaded.problems.map(formatProblem).join('; '));
  const config = loaded.config;
  const redis = createRedis(config.factory.cluster.redis, { role: 'monitor-test', env: {} });
  await waitForRedis(redis, 10_000);
  const keys = new Keys(config.factory.cluster.prefix);
  await redis.eval(`for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end`, 0, `${keys.prefix}:*`);
  const now = Date.now();
  const log = silentLogger();
  const state = new QueueState(redis, keys, { history: config.factory.cluster.history }, () => now);
  const leases = new QueueLeases(redis, keys, 'fixture:1:1', { ttlMs: 10_000 }, log);

  // Instances: two alive, one that stopped heartbeating 10 minutes ago (offline), one draining.
  await new InstanceRegistry(redis, keys, { deadAfterMs: 30_000 }, () => now - 400).register(inst('node1', { startedAt: now - 3 * 3_600_000, lastCycleAt: now - 2 * MIN }));
  await new InstanceRegistry(redis, keys, { deadAfterMs: 30_000 }, () => now - 900).register(inst('node2', { startedAt: now - 5 * 3_600_000, lastCycleAt: now - 7 * MIN, state: 'draining' }));
  await new InstanceRegistry(redis, keys, { deadAfterMs: 30_000 }, () => now - 10 * MIN).register(inst('node3', { startedAt: now - 9 * 3_600_000, lastCycleAt: now - 11 * MIN, version: '0.0.9' }));

  // Batch sources: each instance's local schedd.
  const contributions = new ContributionStore(redis, keys);
  await contributions.publish({
    source: 'condor:local@node1',
    owner: 'node1',
    publisher: 'node1',
    at: now - 20_000,
    queues: { [CERN]: { pending: 30, running: 100, done: 3, failed: 1 }, [WEIRD]: { pending: 2, running: 1, done: 0, failed: 2 } },
  });
  await contributions.publish({
    source: 'condor:local@node2',
    owner: 'node2',
    publisher: 'node2',
    at: now - 30_000,
    queues: { [CERN]: { pending: 10, running: 20, done: 1, failed: 0 }, [BNL]: { pending: 7, running: 50, done: 9, failed: 4 } },
  });

  // CERN: one cycle every 5 minutes for 2 h 30 min, alternating node1 / node2; every third submit failed.
  const records = new Map<string, CycleRecord[]>();
  records.set(
    CERN,
    await commitAll(leases, state, CERN, (token) =>
      Array.from({ length: 30 }, (_, i) => {
        const at = now - (29 - i) * 5 * MIN - 2 * MIN;
        return record(CERN, at, i % 2 === 0 ? 'node1' : 'node2', token, { ready: 400 + i * 10, pending: 20 + i, running: 100 + i * 2, ...(i % 3 === 0 ? { jobs: 0, error: 'APF_ERR_SUBMIT_FAILED: condor_submit exited 1: <schedd> unreachable' } : { jobs: 10 }), firstJob: 1000 + i });
      }),
    ),
  );
  // The weird queue: three cycles on node1, the last one blocked.
  records.set(
    WEIRD,
    await commitAll(leases, state, WEIRD, (token) => [
      record(WEIRD, now - 25 * MIN, 'node1', token, { ready: 5, pending: 0, running: 0, jobs: 3, firstJob: 77 }),
      record(WEIRD, now - 20 * MIN, 'node1', token, { ready: 5, pending: 3, running: 0, jobs: 2, firstJob: 78 }),
      record(WEIRD, now - 15 * MIN, 'node1', token, { ready: 5, pending: 5, running: 1, jobs: 0, firstJob: 79, blocked: 'batch source condor:local@node1 is stale (<i>age</i> 400 s)' }),
    ]),
  );
  records.set(BNL, []);
  await state.setPaused(BNL, true, 'alice@cli');
  await leases.close();

  const deps: WebDeps = {
    config: () => config,
    redis,
    keys,
    instanceId: 'node1',
    version: '0.1.0',
    logger: log,
    adminToken: () => opts.adminToken,
    ready: () => Promise.resolve({ ok: true, checks: {} }),
    metrics: () => Promise.resolve({ contentType: 'text/plain; version=0.0.4', body: '' }),
    now: () => now,
  };
  const web = await serveWeb(deps, [...monitorRoutes, ...healthRoutes]);
  return {
    now,
    config,
    redis,
    keys,
    deps,
    state,
    base: web.base,
    records,
    async close() {
      await web.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
