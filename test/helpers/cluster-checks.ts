/**
 * Pure checks over what a cluster test observed (cycle records from Redis, pilots from the
 * simulated schedds): the Jepsen-style checkers of coordination.md §4.2 that the cluster tests
 * share. Data in, findings out; no I/O.
 */
import type { CycleRecord } from '../../src/coordination/records.ts';

/** One pilot as a schedd reports it, with apf's tags. */
export interface PilotTag {
  /** `<cluster>.<proc>` in its schedd. */
  readonly id: string;
  /** The instance whose local schedd holds it. */
  readonly schedd: string;
  /** In the queue (condor_q) rather than in history. */
  readonly inQueue: boolean;
  readonly jobStatus: number;
  /** Submission time, epoch seconds. */
  readonly qdate: number;
  /** `+MATCH_APF_QUEUE`. */
  readonly queue: string;
  /** `+APF_FACTORY`. */
  readonly factory: string;
  /** `+APF_CYCLE` = `<queue>:<slot>:<token>`. */
  readonly cycle: string;
  /** `+APF_INSTANCE`. */
  readonly instance: string;
  /** Slot and token parsed from the cycle tag (NaN when it does not parse). */
  readonly slot: number;
  readonly token: number;
}

/** Splits `<queue>:<slot>:<token>` (the queue may itself contain ':'); null when malformed. */
export function parseCycleId(cycle: string): { queue: string; slot: number; token: number } | null {
  const m = /^(.+):(\d+):(\d+)$/.exec(cycle);
  if (m === null) return null;
  return { queue: m[1] as string, slot: Number(m[2]), token: Number(m[3]) };
}

/** A (queue, slot) acted on more than once: by two tokens, or by two instances. */
export interface SlotConflict {
  readonly queue: string;
  readonly slot: number;
  readonly tokens: readonly number[];
  readonly instances: readonly string[];
  /** Where the evidence comes from. */
  readonly from: 'records' | 'pilots';
}

function conflicts(
  items: ReadonlyArray<{ queue: string; slot: number; token: number; instance: string }>,
  from: SlotConflict['from'],
  countSameTokenTwice: boolean,
): SlotConflict[] {
  const by = new Map<string, { queue: string; slot: number; tokens: number[]; instances: Set<string> }>();
  for (const it of items) {
    const key = `${it.queue}\u0000${it.slot}`;
    let v = by.get(key);
    if (v === undefined) by.set(key, (v = { queue: it.queue, slot: it.slot, tokens: [], instances: new Set() }));
    v.tokens.push(it.token);
    v.instances.add(it.instance);
  }
  const out: SlotConflict[] = [];
  for (const v of by.values()) {
    const distinct = [...new Set(v.tokens)];
    const twice = countSameTokenTwice && v.tokens.length > 1;
    if (distinct.length > 1 || v.instances.size > 1 || twice) {
      out.push({ queue: v.queue, slot: v.slot, tokens: distinct, instances: [...v.instances], from });
    }
  }
  return out;
}

/**
 * Every (queue, slot) that ran more than once: two committed records for one slot (whatever their
 * tokens), or pilots of one slot carrying two tokens or two instance tags.
 */
export function slotConflicts(records: Iterable<CycleRecord>, pilots: readonly PilotTag[]): SlotConflict[] {
  const recs = [...records].map((r) => ({ queue: r.queue, slot: r.slot, token: r.token, instance: r.instance }));
  const tagged = pilots.filter((p) => Number.isFinite(p.slot)).map((p) => ({ queue: p.queue, slot: p.slot, token: p.token, instance: p.instance }));
  return [...conflicts(recs, 'records', true), ...conflicts(tagged, 'pilots', false)];
}

/**
 * Pilots whose tags disagree with each other or with the cluster: factory id, the queue in the
 * cycle tag vs +MATCH_APF_QUEUE, +APF_INSTANCE vs the schedd it sits in (every instance submits
 * into its own local schedd), and — when its cycle was committed — the record's instance.
 */
export function tagProblems(pilots: readonly PilotTag[], records: Iterable<CycleRecord>, factoryId: string): string[] {
  const byCycle = new Map<string, CycleRecord>();
  for (const r of records) byCycle.set(r.cycleId, r);
  const out: string[] = [];
  for (const p of pilots) {
    const parsed = parseCycleId(p.cycle);
    const where = `pilot ${p.id}@${p.schedd} (${p.cycle})`;
    if (parsed === null) out.push(`${where}: +APF_CYCLE does not parse`);
    else if (parsed.queue !== p.queue) out.push(`${where}: cycle queue ${parsed.queue} ≠ +MATCH_APF_QUEUE ${p.queue}`);
    if (p.factory !== factoryId) out.push(`${where}: +APF_FACTORY ${p.factory} ≠ ${factoryId}`);
    if (p.instance !== p.schedd) out.push(`${where}: +APF_INSTANCE ${p.instance} but it sits in ${p.schedd}'s schedd`);
    const rec = byCycle.get(p.cycle);
    if (rec !== undefined && rec.instance !== p.instance) out.push(`${where}: the record of its cycle says instance ${rec.instance}`);
  }
  return out;
}

/** The `q`-quantile (0…1) of `values` (nearest rank); null when empty. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/**
 * Per queue, the time from `t0` (epoch ms) to the end of its first committed cycle that started at
 * or after `t0` on an instance other than `excluded`; null when it has none.
 */
export function firstCycleAfter(histories: ReadonlyMap<string, readonly CycleRecord[]>, t0: number, excluded?: string): Map<string, { gapMs: number; record: CycleRecord } | null> {
  const out = new Map<string, { gapMs: number; record: CycleRecord } | null>();
  for (const [queue, records] of histories) {
    const first = records.filter((r) => r.startedAt >= t0 && r.instance !== excluded).sort((a, b) => a.at - b.at)[0];
    out.set(queue, first === undefined ? null : { gapMs: first.at - t0, record: first });
  }
  return out;
}

/** A one-line summary of a few conflicts (test failure messages). */
export function describeConflicts(list: readonly SlotConflict[]): string {
  return list
    .slice(0, 10)
    .map((c) => `${c.queue}@${c.slot} (${c.from}): tokens ${c.tokens.join(',')} instances ${c.instances.join(',')}`)
    .join('; ');
}
