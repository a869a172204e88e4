/**
 * The cycle records the benchmark measures from: read from every queue's history list after the
 * fact (so reading costs nothing inside the measurement window), then analysed by pure functions —
 * dispatch lag, cycles per instance, slots that never produced a record, and the failover gaps
 * after an instance was killed.
 */
import type { Redis } from 'ioredis';
import type { Keys } from '../../src/coordination/keys.ts';
import { percentile } from './probes.ts';

/** The fields of a CycleRecord the benchmark uses. */
export interface Rec {
  readonly queue: string;
  readonly slot: number;
  readonly instance: string;
  readonly startedAt: number;
  readonly at: number;
  readonly lagMs: number;
  readonly outcome: string;
  readonly pilots: number;
}

/** Reads the newest `limit` records of every queue (pipelined in batches), oldest first per queue. */
export async function readHistories(redis: Redis, keys: Keys, queues: readonly string[], limit: number): Promise<Map<string, Rec[]>> {
  const out = new Map<string, Rec[]>();
  const batch = 500;
  for (let i = 0; i < queues.length; i += batch) {
    const names = queues.slice(i, i + batch);
    const pipe = redis.pipeline();
    for (const q of names) pipe.lrange(keys.queueHistory(q), 0, limit - 1);
    const results = (await pipe.exec()) ?? [];
    names.forEach((q, j) => {
      const [err, texts] = results[j] ?? [new Error('no reply'), null];
      if (err !== null) throw err;
      const recs = (texts as string[]).map((t) => {
        const r = JSON.parse(t) as Rec & { jobIds: readonly string[] };
        return { queue: r.queue, slot: r.slot, instance: r.instance, startedAt: r.startedAt, at: r.at, lagMs: r.lagMs, outcome: r.outcome, pilots: r.jobIds.length };
      });
      out.set(q, recs.reverse());
    });
  }
  return out;
}

/** What happened in a measurement window `[from, to)` (by cycle start). */
export interface WindowStats {
  readonly cycles: number;
  readonly perInstance: Map<string, number>;
  readonly outcomes: Map<string, number>;
  readonly pilots: number;
  readonly lagP50: number;
  readonly lagP99: number;
  readonly lagMax: number;
  /** Scheduler slots in `[from, to − settleMs)` that have no record (a cycle that never ran or was not committed). */
  readonly missingSlots: number;
  readonly expectedSlots: number;
}

/**
 * Cycles that started in `[from, to)` and the slots expected in that window (`slot ≡ offset mod
 * interval` per queue) that have no record.
 */
export function windowStats(
  histories: ReadonlyMap<string, readonly Rec[]>,
  from: number,
  to: number,
  slotsOf: (queue: string, from: number, to: number) => number[],
  settleMs = 2000,
): WindowStats {
  const perInstance = new Map<string, number>();
  const outcomes = new Map<string, number>();
  const lags: number[] = [];
  let pilots = 0;
  let missingSlots = 0;
  let expectedSlots = 0;
  for (const [queue, recs] of histories) {
    const seen = new Set<number>();
    for (const r of recs) {
      seen.add(r.slot);
      if (r.startedAt < from || r.startedAt >= to) continue;
      perInstance.set(r.instance, (perInstance.get(r.instance) ?? 0) + 1);
      outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
      lags.push(r.lagMs);
      pilots += r.pilots;
    }
    for (const s of slotsOf(queue, from, to - settleMs)) {
      expectedSlots++;
      if (!seen.has(s)) missingSlots++;
    }
  }
  return {
    cycles: lags.length,
    perInstance,
    outcomes,
    pilots,
    lagP50: percentile(lags, 50),
    lagP99: percentile(lags, 99),
    lagMax: lags.reduce((a, b) => Math.max(a, b), -Infinity),
    missingSlots,
    expectedSlots,
  };
}

/** The slots `k·interval + offset` in `[from, to)`. */
export function slotsBetween(offset: number, intervalMs: number, from: number, to: number): number[] {
  const out: number[] = [];
  const phase = ((offset % intervalMs) + intervalMs) % intervalMs;
  for (let s = Math.ceil((from - phase) / intervalMs) * intervalMs + phase; s < to; s += intervalMs) out.push(s);
  return out;
}

/** Gap statistics of one group of queues (ms; null without any). */
export interface GapStats {
  readonly queues: number;
  /** Queues that had no completed cycle after the kill when the benchmark stopped waiting. */
  readonly unrecovered: number;
  readonly p50: number | null;
  readonly max: number | null;
}

/** The failover after SIGKILL of `victim` at `killAt` (epoch ms). */
export interface FailoverStats {
  /** Queues whose last cycle completed before the kill ran on the victim (and were not interrupted). */
  readonly victimQueues: GapStats;
  /** Queues whose cycle job the victim held at the kill (the survivors found it stalled). */
  readonly interrupted: GapStats;
  /** Every other queue (a control group: its gap is just the time to its next slot). */
  readonly otherQueues: GapStats;
  /** Cycles that completed after the kill on the victim (must be 0). */
  readonly afterKillOnVictim: number;
}

function gapStats(gaps: ReadonlyArray<number | null>): GapStats {
  const known = gaps.filter((g): g is number => g !== null);
  return {
    queues: gaps.length,
    unrecovered: gaps.length - known.length,
    p50: known.length === 0 ? null : percentile(known, 50),
    max: known.length === 0 ? null : Math.max(...known),
  };
}

/**
 * Per queue: the gap from the kill to the next cycle that completed after it (on another
 * instance), grouped into the queues whose cycle job the victim held at the kill (`interrupted`:
 * the survivors' stalled-job checks name them), the queues whose last completed cycle ran on the
 * victim, and the others.
 */
export function failoverStats(histories: ReadonlyMap<string, readonly Rec[]>, victim: string, killAt: number, interrupted: ReadonlySet<string>): FailoverStats {
  const victimGaps: Array<number | null> = [];
  const interruptedGaps: Array<number | null> = [];
  const otherGaps: Array<number | null> = [];
  let afterKillOnVictim = 0;
  for (const [queue, recs] of histories) {
    const after = recs.filter((r) => r.at > killAt);
    afterKillOnVictim += after.filter((r) => r.instance === victim).length;
    const next = after.find((r) => r.instance !== victim);
    const gap = next === undefined ? null : next.at - killAt;
    const last = recs.filter((r) => r.at <= killAt).at(-1);
    if (interrupted.has(queue)) interruptedGaps.push(gap);
    else if (last?.instance === victim) victimGaps.push(gap);
    else otherGaps.push(gap);
  }
  return { victimQueues: gapStats(victimGaps), interrupted: gapStats(interruptedGaps), otherQueues: gapStats(otherGaps), afterKillOnVictim };
}

/** Lag percentiles of the cycles started in consecutive buckets of `bucketMs` from `from`, overall and per instance (diagnostics). */
export function lagOverTime(histories: ReadonlyMap<string, readonly Rec[]>, from: number, to: number, bucketMs: number): string[] {
  const buckets: Array<Map<string, number[]>> = [];
  for (const recs of histories.values()) {
    for (const r of recs) {
      if (r.startedAt < from || r.startedAt >= to) continue;
      const b = (buckets[Math.floor((r.startedAt - from) / bucketMs)] ??= new Map());
      let lags = b.get(r.instance);
      if (lags === undefined) b.set(r.instance, (lags = []));
      lags.push(r.lagMs);
    }
  }
  return Array.from(buckets, (b, i) => {
    const per = [...(b ?? new Map<string, number[]>())].sort(([x], [y]) => (x < y ? -1 : 1));
    const all = per.flatMap(([, l]) => l);
    const each = per.map(([id, l]) => `${id} ${percentile(l, 99)}`).join(', ');
    return `+${((i * bucketMs) / 1000).toFixed(0)} s: ${all.length} cycles, lag p50 ${percentile(all, 50)} ms, p99 ${percentile(all, 99)} ms (${each}), max ${all.length === 0 ? NaN : Math.max(...all)} ms`;
  });
}

/** Skip and fence counters so far, summed over every queue (cycles and pilots left out). */
export async function skipTotals(redis: Redis, keys: Keys, queues: readonly string[]): Promise<Map<string, number>> {
  const sums = new Map<string, number>();
  for (let i = 0; i < queues.length; i += 1000) {
    const pipe = redis.pipeline();
    for (const q of queues.slice(i, i + 1000)) pipe.hgetall(keys.queueStats(q));
    for (const [, h] of (await pipe.exec()) ?? []) {
      for (const [k, v] of Object.entries((h ?? {}) as Record<string, string>)) {
        if (k !== 'cycles' && k !== 'submitted') sums.set(k, (sums.get(k) ?? 0) + Number(v));
      }
    }
  }
  return sums;
}
