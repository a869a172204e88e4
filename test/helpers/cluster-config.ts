/**
 * The configuration of a test cluster (cluster.ts): autopyfactory.conf with short timings and
 * queues.conf for the simulators, and the PanDA simulator's scenario for the same queues.
 */
import { join } from 'node:path';
import type { PandaSim } from '../../src/sim/panda/index.ts';
import { parseScenario } from '../../src/sim/panda/index.ts';
import type { SentinelCluster } from './sentinel.ts';

/** One APF queue of the test cluster. */
export interface QueueSpec {
  /** Section name (also the PanDA queue name prefixed with `PQ_`). */
  readonly name: string;
  /** `apfqueue.sleep`, seconds. */
  readonly sleepS: number;
  /** PanDA `activated` jobs: what Ready asks for (cluster-wide pending target). */
  readonly activated: number;
  /** Extra `key = value` lines of its section (e.g. another sched chain). */
  readonly extra?: readonly string[];
}

/** Cluster timings small enough for tests, large enough for a loaded 2-core machine. */
export const DEFAULT_FACTORY: Readonly<Record<string, string | number>> = {
  'redis.timeout': 1,
  'cluster.prefix': 'apft',
  'cluster.concurrency': 16,
  'cluster.lease_ttl': 2.5,
  'cluster.heartbeat': 0.5,
  'cluster.dead_after': 2,
  'cluster.offline_grace': 8,
  'cluster.reconcile_interval': 2,
  'cluster.lock_duration': 1.5,
  'cluster.stalled_interval': 1.5,
  'cluster.shutdown_timeout': 5,
  'wmsstatus.panda.sleep': 2,
  'wmsstatus.panda.maxage': 60,
  'wmsstatus.panda.timeout': 10,
  'wmsstatus.panda.retries': 0,
  'batchstatus.condor.sleep': 2,
  'batchstatus.condor.maxage': 60,
  'batchstatus.condor.timeout': 20,
  // One simulated tool run costs ~0.5 s of CPU: condor_q alone keeps the counts (pilots stay idle).
  'batchstatus.condor.history': 'False',
};

/** `n` queues `Q01…` with sleeps cycling through 3–6 s and `activated` pilots wanted each. */
export function makeQueues(n: number, activated: number, sleeps: readonly number[] = [3, 4, 5, 6]): QueueSpec[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `Q${String(i + 1).padStart(2, '0')}`,
    sleepS: sleeps[i % sleeps.length] as number,
    activated,
  }));
}

/** autopyfactory.conf of a test cluster: the simulators' URLs, Redis (URL or Sentinel), {@link DEFAULT_FACTORY} and `over`. */
export function factoryConf(
  root: string,
  panda: Pick<PandaSim, 'url' | 'cricUrl'>,
  redis: { readonly url: string } | { readonly sentinel: SentinelCluster },
  over: Readonly<Record<string, string | number>> = {},
): string {
  const values: Record<string, string | number> = {
    factoryId: 'cluster-test',
    factoryAdminEmail: 'admin@example.org',
    factoryUser: 'apf',
    baseLogDir: join(root, 'logs'),
    baseLogDirUrl: 'http://factory.example.org:25880',
    'wmsstatus.panda.url': panda.url,
    'wmsstatus.panda.sitestatus.url': panda.cricUrl,
    'state.dir': join(root, 'state'),
    ...DEFAULT_FACTORY,
    ...over,
  };
  if ('sentinel' in redis) {
    values['redis.sentinels'] = redis.sentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(', ');
    values['redis.sentinel.master'] = redis.sentinel.masterName;
  } else {
    values['redis.url'] = redis.url;
  }
  return `[Factory]\n${Object.entries(values).map(([k, v]) => `${k} = ${v}`).join('\n')}\n`;
}

/** queues.conf of a test cluster: Ready + MaxPerCycle against PanDA `PQ_<queue>`, CondorLocal; `defaults` extra [DEFAULT] lines. */
export function queuesConf(queues: readonly QueueSpec[], defaults: readonly string[] = []): string {
  const head = [
    '[DEFAULT]',
    'enabled = True',
    'wmsstatusplugin = Panda',
    'batchstatusplugin = Condor',
    'batchsubmitplugin = CondorLocal',
    'batchsubmit.condorlocal.timeout = 30',
    'executable = /usr/libexec/wrapper.sh',
    'executable.arguments = --wrapperwmsqueue=%(wmsqueue)s',
    'schedplugin = Ready, MaxPerCycle',
    'sched.maxpercycle.maximum = 10',
    ...defaults,
  ];
  const sections = queues.map((q) => [`[${q.name}]`, `wmsqueue = PQ_${q.name}`, `apfqueue.sleep = ${q.sleepS}`, ...(q.extra ?? []), ''].join('\n'));
  return `${head.join('\n')}\n\n${sections.join('\n')}`;
}

/** The PanDA scenario: each queue's `activated` from t = 0, online. */
export function pandaScenario(queues: readonly QueueSpec[]) {
  return parseScenario({
    queues: Object.fromEntries(queues.map((q) => [`PQ_${q.name}`, { timeline: [{ t: 0, activated: q.activated, status: 'online' }] }])),
  });
}
