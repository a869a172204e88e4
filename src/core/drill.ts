/**
 * A failover drill against a live cluster: make one instance disappear (frozen through a control
 * message — no heartbeats, no polls, no cycles, as if dead — or SIGKILLed when it runs on this
 * host), measure per queue the time until its next cycle completes on another instance, count
 * (queue, slot) pairs submitted under two different tokens (duplicates, from the pilots' cycle
 * tags recorded at submission), restore the victim and report.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { ApfError } from '../errors.ts';
import { decodeSubmittedMember } from '../coordination/contributions.ts';
import { InstanceRegistry } from '../coordination/instances.ts';
import type { Keys } from '../coordination/keys.ts';
import { QueueState } from '../coordination/queue-state.ts';
import type { SubmittedEntry } from '../coordination/cluster-view.ts';
import { freezeInstance, type AdminContext } from './admin.ts';
import { ControlBus } from '../coordination/control.ts';
import { silentLogger } from '../logging/logger.ts';

/** Options of {@link runDrill}. */
export interface DrillOptions {
  /** The victim; default: the alive instance that ran the most recent cycles. */
  readonly instance?: string;
  /** SIGKILL the victim instead of freezing it (only when it runs on this host). */
  readonly kill?: boolean;
  /** Give up waiting for a queue after this long. @defaultValue 2 × the longest interval + lease TTL + 30 s */
  readonly timeoutMs?: number;
  /** Progress lines (CLI). */
  readonly progress?: (line: string) => void;
  readonly now?: () => number;
}

/** One queue's failover in the report. */
export interface DrillQueue {
  readonly queue: string;
  /** Kill/freeze → next completed cycle on another instance, ms; null when none came in time. */
  readonly gapMs: number | null;
  readonly instance: string | null;
  readonly intervalMs: number;
  /** gap ≤ interval + 10 s (the bound). */
  readonly withinBound: boolean;
}

/** The drill report (`apf drill --json`). */
export interface DrillReport {
  readonly victim: string;
  readonly method: 'freeze' | 'kill';
  readonly startedAt: number;
  readonly endedAt: number;
  readonly queues: readonly DrillQueue[];
  readonly maxGapMs: number | null;
  readonly p50GapMs: number | null;
  /** Queues that had no cycle elsewhere in time. */
  readonly missed: readonly string[];
  /** (queue, slot) pairs with submissions under more than one token. */
  readonly duplicates: ReadonlyArray<{ readonly queue: string; readonly slot: string; readonly tokens: readonly string[] }>;
  readonly restored: boolean;
  readonly note: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs a drill; the victim is thawed even when the measurement fails. */
export async function runDrill(ctx: AdminContext, opts: DrillOptions = {}): Promise<DrillReport> {
  const now = opts.now ?? Date.now;
  const c = ctx.config.factory.cluster;
  const registry = new InstanceRegistry(ctx.redis, ctx.keys, { deadAfterMs: c.deadAfterMs });
  const state = new QueueState(ctx.redis, ctx.keys, { history: c.history });
  const queues = [...ctx.config.queues.values()].filter((q) => q.enabled);
  const alive = (await registry.list()).filter((i) => i.alive);
  if (alive.length < 2) throw new ApfError('APF_ERR_USAGE', `a drill needs at least 2 live instances (found ${alive.length})`);
  const victimId = opts.instance ?? (await pickVictim(state, queues.map((q) => q.name), alive.map((i) => i.id)));
  const victim = alive.find((i) => i.id === victimId);
  if (victim === undefined) throw new ApfError('APF_ERR_USAGE', `instance ${victimId} is not alive (alive: ${alive.map((i) => i.id).join(', ')})`);
  const longest = Math.max(...queues.map((q) => q.sleep * 1000));
  const timeoutMs = opts.timeoutMs ?? 2 * longest + c.leaseTtlMs + 30_000;
  const method = opts.kill === true ? 'kill' : 'freeze';
  if (method === 'kill' && victim.host !== hostname()) {
    throw new ApfError('APF_ERR_USAGE', `--kill needs the victim on this host (${victim.id} runs on ${victim.host}); use a freeze drill`);
  }
  const t0 = now();
  opts.progress?.(`${method === 'kill' ? 'killing' : 'freezing'} ${victim.id} (pid ${victim.pid} on ${victim.host}); waiting up to ${Math.round(timeoutMs / 1000)} s`);
  if (method === 'kill') process.kill(victim.pid, 'SIGKILL');
  else await freezeInstance(ctx, victim.id, timeoutMs + 10_000);
  const gaps = new Map<string, { gapMs: number; instance: string }>();
  let restored = false;
  try {
    while (gaps.size < queues.length && now() - t0 < timeoutMs) {
      const last = await state.lastMany(queues.map((q) => q.name).filter((n) => !gaps.has(n)));
      for (const [name, rec] of last) {
        if (rec !== null && rec.startedAt >= t0 && rec.instance !== victim.id) {
          gaps.set(name, { gapMs: rec.at - t0, instance: rec.instance });
          opts.progress?.(`  ${name}: cycle on ${rec.instance} after ${((rec.at - t0) / 1000).toFixed(1)} s`);
        }
      }
      await sleep(250);
    }
  } finally {
    if (method === 'freeze') {
      await new ControlBus(ctx.redis, ctx.redis, ctx.keys, silentLogger()).publish({ action: 'thaw', instance: victim.id, by: ctx.who });
      restored = true;
    }
  }
  const duplicates = findDuplicates(await submittedSince(ctx.redis, ctx.keys, t0 - longest));
  const rows: DrillQueue[] = queues.map((q) => {
    const g = gaps.get(q.name);
    const intervalMs = q.sleep * 1000;
    return { queue: q.name, gapMs: g?.gapMs ?? null, instance: g?.instance ?? null, intervalMs, withinBound: g !== undefined && g.gapMs <= intervalMs + 10_000 };
  });
  const sorted = rows.flatMap((r) => (r.gapMs === null ? [] : [r.gapMs])).sort((a, b) => a - b);
  return {
    victim: victim.id,
    method,
    startedAt: t0,
    endedAt: now(),
    queues: rows,
    maxGapMs: sorted.length === 0 ? null : (sorted[sorted.length - 1] ?? null),
    p50GapMs: sorted.length === 0 ? null : (sorted[Math.floor((sorted.length - 1) / 2)] ?? null),
    missed: rows.filter((r) => r.gapMs === null).map((r) => r.queue),
    duplicates,
    restored,
    note: method === 'kill' ? `${victim.id} was killed: its service manager (systemd Restart=on-failure, Kubernetes) restarts it` : `${victim.id} thawed`,
  };
}

/** The alive instance that ran the most of the queues' last cycles. */
async function pickVictim(state: QueueState, names: readonly string[], alive: readonly string[]): Promise<string> {
  const counts = new Map(alive.map((a) => [a, 0]));
  for (const rec of (await state.lastMany(names)).values()) {
    if (rec !== null && counts.has(rec.instance)) counts.set(rec.instance, (counts.get(rec.instance) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? (alive[0] as string);
}

/** Every submission recorded since `since` (all sources), from the submitted-pilots zsets. */
export async function submittedSince(redis: Redis, keys: Keys, since: number): Promise<SubmittedEntry[]> {
  const sources = await redis.zrange(keys.sources, '0', '-1');
  const pipe = redis.pipeline();
  for (const s of sources) pipe.zrangebyscore(keys.sourceSubmitted(s), String(since), '+inf', 'WITHSCORES');
  const replies = (await pipe.exec()) ?? [];
  const out: SubmittedEntry[] = [];
  replies.forEach(([err, value], i) => {
    if (err !== null || !Array.isArray(value)) return;
    const flat = value as string[];
    for (let j = 0; j + 1 < flat.length; j += 2) {
      const e = decodeSubmittedMember(sources[i] as string, flat[j] as string, flat[j + 1] as string);
      if (e !== null) out.push(e);
    }
  });
  return out;
}

/** (queue, slot) pairs submitted under more than one token, from the `<queue>:<slot>:<token>` tags. */
export function findDuplicates(entries: readonly SubmittedEntry[]): Array<{ queue: string; slot: string; tokens: string[] }> {
  const bySlot = new Map<string, { queue: string; slot: string; tokens: Set<string> }>();
  for (const e of entries) {
    const token = e.cycleId.slice(e.cycleId.lastIndexOf(':') + 1);
    const rest = e.cycleId.slice(0, e.cycleId.lastIndexOf(':'));
    const slot = rest.slice(rest.lastIndexOf(':') + 1);
    const key = `${e.queue}\0${slot}`;
    let v = bySlot.get(key);
    if (v === undefined) bySlot.set(key, (v = { queue: e.queue, slot, tokens: new Set() }));
    v.tokens.add(token);
  }
  return [...bySlot.values()].filter((v) => v.tokens.size > 1).map((v) => ({ queue: v.queue, slot: v.slot, tokens: [...v.tokens] }));
}
