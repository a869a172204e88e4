/**
 * 3 real `apf start` instances × 30 queues against one Redis and the simulators: every queue
 * cycles, each (queue, slot) runs on exactly one instance (history records and pilot tags agree),
 * and the pilots carry the right tags and add up to what the chain asked for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubmittedEntry } from '../../../src/coordination/cluster-view.ts';
import type { CycleRecord } from '../../../src/coordination/records.ts';
import { CLUSTER_HOOK_TIMEOUT_MS, describeConflicts, makeQueues, slotConflicts, startCluster, tagProblems, type Cluster, type PilotTag } from '../../helpers/cluster.ts';
import { waitUntil } from '../../helpers/processes.ts';

const INSTANCES = ['i1', 'i2', 'i3'];
const QUEUES = makeQueues(30, 2);
/** The cluster runs at least this long, and until every queue has this many cycles and its pilots. */
const MIN_RUN_MS = 20_000;
const MIN_CYCLES = 3;
/** Submit errors after which condor_submit may or may not have queued its pilots (lease lost mid-submit). */
const INTERRUPTED = /^APF_ERR_(ABORTED|COMMAND_TIMEOUT)\b/;
/** Outcomes of a cycle that ran normally (a gate may block when a simulator answers late on a loaded machine). */
const NORMAL = new Set(['submitted', 'nothing', 'blocked']);

describe('core/daemon: 3 instances × 30 queues', () => {
  let c: Cluster;
  let histories: Map<string, CycleRecord[]>;
  let records: CycleRecord[];
  let pilots: PilotTag[];
  let submissions: SubmittedEntry[];
  let fenced: Map<string, number>;

  beforeAll(async () => {
    const t0 = Date.now();
    c = await startCluster({ instances: INSTANCES, queues: QUEUES });
    let progress = '';
    await waitUntil(
      `every queue to have ${MIN_CYCLES} cycles and its pilots`,
      async () => {
        const h = await c.histories();
        const ps = await c.allPilots();
        const normal = (q: string): number => (h.get(q) ?? []).filter((r) => NORMAL.has(r.outcome)).length;
        const short = QUEUES.filter((q) => normal(q.name) < MIN_CYCLES || ps.filter((p) => p.queue === q.name).length < q.activated);
        progress = `waiting for ${short.map((q) => q.name).join(',')}`;
        return short.length === 0 && Date.now() - t0 >= MIN_RUN_MS ? true : undefined;
      },
      { timeoutMs: 150_000, intervalMs: 1000, describe: () => progress },
    );
    histories = await c.histories();
    records = [...histories.values()].flat();
    pilots = await c.allPilots();
    submissions = await c.submissions();
    fenced = new Map(await Promise.all(QUEUES.map(async (q) => [q.name, (await c.queueState().stats(q.name))['fenced'] ?? 0] as const)));
  }, CLUSTER_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await c?.stop();
  });

  it('cycles every queue, on every instance', () => {
    for (const q of QUEUES) {
      const rs = histories.get(q.name) ?? [];
      expect(rs.filter((r) => NORMAL.has(r.outcome)).length, `${q.name}: normal cycles`).toBeGreaterThanOrEqual(MIN_CYCLES);
      // The only failures allowed are cycles whose lease ended (self-fencing on a starved CPU)
      // before the submission (LEASE_LOST) or during it (ABORTED, TIMEOUT).
      for (const r of rs.filter((x) => !NORMAL.has(x.outcome))) expect(`${r.outcome} ${r.error ?? ''}`).toMatch(/^failed APF_ERR_(LEASE_LOST|ABORTED|COMMAND_TIMEOUT)\b/);
    }
    for (const id of INSTANCES) expect(records.filter((r) => r.instance === id).length, `cycles run by ${id}`).toBeGreaterThan(5);
  });

  it('runs each (queue, slot) on exactly one instance, tokens and slots increasing', () => {
    const found = slotConflicts(records, pilots);
    expect(found, describeConflicts(found)).toEqual([]);
    for (const [q, rs] of histories) {
      for (let i = 1; i < rs.length; i++) {
        const prev = rs[i - 1] as CycleRecord;
        const cur = rs[i] as CycleRecord;
        expect(cur.token, `${q}: token order`).toBeGreaterThan(prev.token);
        expect(cur.slot, `${q}: slot order`).toBeGreaterThan(prev.slot);
      }
    }
  });

  it("lands the pilots in the simulators with the cycle's tags", () => {
    expect(tagProblems(pilots, records, 'cluster-test')).toEqual([]);
    const byCycle = new Map(records.map((r) => [r.cycleId, r]));
    const counted = new Set(submissions.map((e) => e.cycleId));
    for (const p of pilots) {
      const rec = byCycle.get(p.cycle);
      const where = `pilot ${p.id}@${p.schedd} (${p.cycle})`;
      // Every pilot was counted by the cluster the moment it was submitted…
      expect(counted.has(p.cycle), `${where} recorded as submitted`).toBe(true);
      if (rec === undefined) {
        // …and its cycle was committed, unless the fence refused the commit (lease lost mid-cycle).
        expect(fenced.get(p.queue) ?? 0, `${where}: uncommitted cycle without a fenced commit`).toBeGreaterThan(0);
        continue;
      }
      expect(rec.instance).toBe(p.schedd);
      // An interrupted condor_submit may have queued pilots that its record cannot name.
      if (!rec.jobIds.includes(p.id)) expect(rec.error ?? '', `${where} missing from its record`).toMatch(INTERRUPTED);
    }
    // Every committed submission's pilots are in its own instance's schedd.
    const ids = new Set(pilots.map((p) => `${p.schedd}/${p.id}`));
    for (const r of records) for (const id of r.jobIds) expect(ids.has(`${r.instance}/${id}`), `${r.cycleId}: ${id}`).toBe(true);
  });

  it('submits what the chain asks for: one extra batch at most, and only where a lease was lost mid-cycle', () => {
    // An instance starved for longer than dead_after + offline_grace (10 s) on a loaded machine has
    // its source dropped, and the others replace its pilots by design: then every queue may have one
    // extra batch.
    const dropped = [...c.instances.values()].some((i) => i.logs().some((r) => String(r['msg']).startsWith('batch source dropped')));
    const extra: string[] = [];
    for (const q of QUEUES) {
      const mine = pilots.filter((p) => p.queue === q.name);
      const lost = dropped || (fenced.get(q.name) ?? 0) > 0 || (histories.get(q.name) ?? []).some((r) => INTERRUPTED.test(r.error ?? ''));
      if (mine.length !== q.activated) extra.push(`${q.name}: ${mine.length}${lost ? ' (lease lost mid-cycle)' : ''}`);
      expect(mine.length, `${q.name}: pilots cluster-wide`).toBeLessThanOrEqual(lost ? 2 * q.activated : q.activated);
    }
    const selfFenced = records.filter((r) => r.outcome === 'failed').length + [...fenced.values()].reduce((a, b) => a + b, 0);
    console.info(`[many-queues] ${records.length} cycles, ${selfFenced} ended by a lost lease${dropped ? ', a source dropped' : ''}; queues with more pilots than asked: ${extra.length === 0 ? 'none' : extra.join(', ')}`);
  });

  it('shows every instance, every source and the cluster-wide counts in the status', async () => {
    // The cluster keeps cycling: a batch that lands between the status and the schedd reads (or
    // between condor_submit and its commit) makes one comparison disagree, so compare a status
    // read between two identical reads of the schedds.
    const pendingOf = (ps: readonly PilotTag[]): Map<string, number> => {
      const m = new Map<string, number>();
      for (const p of ps) if (p.inQueue && p.jobStatus === 1) m.set(p.queue, (m.get(p.queue) ?? 0) + 1);
      return m;
    };
    const same = (a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean => a.size === b.size && [...a].every(([q, n]) => b.get(q) === n);
    let last = '';
    const { s, pending } = await waitUntil(
      'a status read between two identical schedd reads, every instance alive and every source fresh',
      async () => {
        const before = pendingOf(await c.allPilots());
        const st = await c.status();
        const after = pendingOf(await c.allPilots());
        if (!same(before, after)) return undefined;
        last = st.queues.filter((q) => q.pending !== (after.get(q.name) ?? 0)).map((q) => `${q.name}: status ${String(q.pending)}, schedds ${after.get(q.name) ?? 0}`).join('; ');
        const ready = st.instances.filter((i) => i.alive && i.state === 'active').length === 3 && st.sources.filter((x) => x.state === 'fresh').length === 3;
        return ready && last === '' ? { s: st, pending: after } : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, describe: () => last },
    );
    for (const q of s.queues) expect(q.pending, q.name).toBe(pending.get(q.name) ?? 0);
    expect(s.instances.every((i) => !i.configMismatch && i.configHash === c.config.hash)).toBe(true);
    expect(s.sources.map((x) => x.source).sort()).toEqual(INSTANCES.map((i) => `condor:local@${i}`));
  });
});
