/**
 * The cluster status: instances, queues with their last cycle and cluster-wide counts, batch
 * sources with their state. One implementation behind `apf status`, the web API and the monitor.
 *
 * The JSON form is a documented, stable interface (docs/operations.md): fields are only added.
 */
import type { Redis } from 'ioredis';
import type { ApfConfig } from '../config/types.ts';
import { buildClusterView } from '../coordination/cluster-view.ts';
import { ContributionStore } from '../coordination/contributions.ts';
import { InstanceRegistry } from '../coordination/instances.ts';
import type { Keys } from '../coordination/keys.ts';
import { QueueState } from '../coordination/queue-state.ts';
import type { CycleRecord, InstanceState } from '../coordination/records.ts';

/** One instance in the status. */
export interface InstanceStatus {
  readonly id: string;
  readonly state: InstanceState;
  readonly alive: boolean;
  readonly heartbeatAgeMs: number;
  readonly host: string;
  readonly pid: number;
  readonly version: string;
  readonly configHash: string;
  /** True when its config hash differs from the majority's. */
  readonly configMismatch: boolean;
  readonly startedAt: number;
  readonly lastCycleAt: number | null;
  readonly webPort: number | null;
}

/** The last cycle of a queue, as shown. */
export interface LastCycleStatus {
  /** End time, epoch ms. */
  readonly at: number;
  readonly ageMs: number;
  readonly instance: string;
  readonly token: number;
  readonly n: number;
  readonly submit: number;
  readonly msg: string;
  readonly outcome: string;
  readonly blocked: string | null;
}

/** One queue in the status. */
export interface QueueStatus {
  readonly name: string;
  readonly enabled: boolean;
  readonly paused: boolean;
  readonly lastCycle: LastCycleStatus | null;
  /** Cluster-wide pending (snapshot + submitted since) and running; null when unknown. */
  readonly pending: number | null;
  readonly running: number | null;
  readonly done: number | null;
  readonly failed: number | null;
}

/** One batch source in the status. */
export interface SourceStatusLine {
  readonly source: string;
  readonly owner: string | null;
  readonly publisher: string;
  readonly state: string;
  readonly ageMs: number;
  readonly since: number;
  readonly queues: number;
  readonly counted: boolean;
}

/** The whole status report (`apf status --json`). */
export interface StatusReport {
  readonly at: number;
  readonly instances: readonly InstanceStatus[];
  readonly queues: readonly QueueStatus[];
  readonly sources: readonly SourceStatusLine[];
}

/** Reads the status from Redis for the queues of `config`. */
export async function collectStatus(redis: Redis, keys: Keys, config: ApfConfig, now = Date.now()): Promise<StatusReport> {
  const c = config.factory.cluster;
  const registry = new InstanceRegistry(redis, keys, { deadAfterMs: c.deadAfterMs }, () => now);
  const contributions = new ContributionStore(redis, keys);
  const state = new QueueState(redis, keys, { history: c.history }, () => now);
  const names = [...config.queues.keys()];
  const [instances, all, last, paused] = await Promise.all([
    registry.list(),
    contributions.readAll(),
    state.lastMany(names),
    state.pausedMany(names),
  ]);
  const maxAge = new Map<string, number>();
  for (const q of config.queues.values()) {
    const m = q.batchstatus.options['maxage'];
    if (typeof m === 'number') maxAge.set(q.name, m * 1000);
  }
  const view = buildClusterView(all.sources, all.submitted, instances, {
    now,
    offlineGraceMs: c.offlineGraceMs,
    maxAgeMs: () => Math.max(360_000, ...maxAge.values()),
  });
  const hashes = new Map<string, number>();
  for (const i of instances) if (i.alive) hashes.set(i.configHash, (hashes.get(i.configHash) ?? 0) + 1);
  const majority = [...hashes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  return {
    at: now,
    instances: instances.map((i) => ({
      id: i.id,
      state: i.state,
      alive: i.alive,
      heartbeatAgeMs: i.heartbeatAgeMs,
      host: i.host,
      pid: i.pid,
      version: i.version,
      configHash: i.configHash,
      configMismatch: majority !== undefined && i.configHash !== majority,
      startedAt: i.startedAt,
      lastCycleAt: i.lastCycleAt,
      webPort: i.webPort,
    })),
    queues: [...config.queues.values()].map((q) => {
      const counts = view.queues.get(q.name);
      return {
        name: q.name,
        enabled: q.enabled,
        paused: paused.get(q.name) ?? false,
        lastCycle: lastCycle(last.get(q.name) ?? null, now),
        pending: counts?.pending ?? (view.sources.size > 0 ? 0 : null),
        running: counts?.running ?? (view.sources.size > 0 ? 0 : null),
        done: counts?.done ?? null,
        failed: counts?.failed ?? null,
      };
    }),
    sources: [...view.sources.values()].map((s) => ({
      source: s.source,
      owner: s.owner,
      publisher: s.publisher,
      state: s.state,
      ageMs: s.ageMs,
      since: s.since,
      queues: s.queueCount,
      counted: s.counted,
    })),
  };
}

function lastCycle(r: CycleRecord | null, now: number): LastCycleStatus | null {
  if (r === null) return null;
  return {
    at: r.at,
    ageMs: now - r.at,
    instance: r.instance,
    token: r.token,
    n: r.n,
    submit: r.submit,
    msg: r.msg,
    outcome: r.outcome,
    blocked: r.blocked,
  };
}

/** A human rendering of the status. */
export function renderStatus(s: StatusReport): string {
  const age = (ms: number): string => (ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`);
  const out: string[] = ['INSTANCES'];
  for (const i of s.instances) {
    out.push(
      `  ${i.id.padEnd(20)} ${i.alive ? i.state : 'OFFLINE'}  heartbeat ${age(i.heartbeatAgeMs)} ago  ${i.host} pid ${i.pid}  v${i.version}  config ${i.configHash.slice(0, 12)}${i.configMismatch ? ' (DIFFERS)' : ''}`,
    );
  }
  out.push('', 'QUEUES');
  for (const q of s.queues) {
    const l = q.lastCycle;
    const flags = `${q.enabled ? '' : ' [disabled]'}${q.paused ? ' [PAUSED]' : ''}`;
    out.push(
      `  ${q.name}${flags}  pending ${q.pending ?? '?'}  running ${q.running ?? '?'}` +
        (l === null ? '  (no cycle yet)' : `  last: ${age(l.ageMs)} ago on ${l.instance} token ${l.token}: n=${l.n} submit=${l.submit} ${l.outcome}`),
    );
    if (l?.blocked !== null && l?.blocked !== undefined) out.push(`      blocked: ${l.blocked}`);
    if (l !== null && l.msg !== '') out.push(`      ${l.msg}`);
  }
  out.push('', 'BATCH SOURCES');
  for (const src of s.sources) {
    out.push(`  ${src.source.padEnd(32)} ${src.state}${src.counted ? '' : ' (not counted)'}  age ${age(src.ageMs)}  queues ${src.queues}  by ${src.publisher}`);
  }
  return `${out.join('\n')}\n`;
}
