/**
 * SIGSTOP of the lease holder of a queue for longer than its lease, in the middle of a (slow)
 * submission, then SIGCONT: meanwhile another instance runs the queue's next slot with a higher
 * fencing token; the resumed process finds its lease gone, cancels what it was doing, submits
 * nothing for that cycle, and its state writes are refused by the fence.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CycleRecord } from '../../../src/coordination/records.ts';
import { CLUSTER_HOOK_TIMEOUT_MS, childProcesses, describeConflicts, parseCycleId, slotConflicts, startCluster, type Cluster, type LogRecord } from '../../helpers/cluster.ts';
import { waitUntil } from '../../helpers/processes.ts';

/** One queue that submits one pilot every cycle, so every cycle calls condor_submit. */
const QUEUES = [{ name: 'Q01', sleepS: 4, activated: 0, extra: ['schedplugin = Fixed', 'sched.fixed.pilotspercycle = 1'] }];

describe('core/daemon: SIGSTOP of a lease holder past its lease, then SIGCONT', () => {
  let c: Cluster;
  let stale: { queue: string; slot: number; token: number };
  let staleCycle: string;
  let stoppedAt: number;
  let resumedAt: number;
  let overtaken: CycleRecord;

  beforeAll(async () => {
    c = await startCluster({ instances: ['s1', 's2'], queues: QUEUES, factory: { 'cluster.offline_grace': 120 } });
    const s1 = c.instance('s1');
    // s1's condor_submit now sleeps 20 s before it queues anything.
    await s1.submitFault({ mode: 'slow', delayMs: 20_000 });
    await waitUntil('s1 to run condor_submit for Q01', () => childProcesses(s1.proc.pid).find((p) => p.cmdline.includes('condor_submit')), {
      timeoutMs: 60_000,
      intervalMs: 20,
    });
    // Nobody else can write Q01's submit file while s1 holds the lease: it names s1's cycle.
    const day = readdirSync(join(c.root, 'logs'))[0] as string;
    const jdl = readFileSync(join(c.root, 'logs', day, 'Q01', 'submit.jdl'), 'utf8');
    staleCycle = /^\+APF_CYCLE\s*=\s*"([^"]+)"/m.exec(jdl)?.[1] ?? '';
    stale = parseCycleId(staleCycle) ?? { queue: '', slot: 0, token: 0 };
    expect(stale.queue).toBe('Q01');
    s1.proc.signal('SIGSTOP');
    stoppedAt = Date.now();
    overtaken = await waitUntil(
      's2 to commit a Q01 cycle with a higher token',
      async () => (await c.history('Q01')).find((r) => r.instance === 's2' && r.token > stale.token),
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    s1.proc.signal('SIGCONT');
    resumedAt = Date.now();
    await s1.submitFault(undefined);
  }, CLUSTER_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    c?.instance('s1').proc.signal('SIGCONT');
    await c?.stop();
  });

  const s1Logs = (): LogRecord[] => c.instance('s1').logs().filter((r) => Date.parse(r.time) >= resumedAt - 50);

  it('lets another instance run the next slot with a higher token while the holder is stopped', () => {
    expect(overtaken.slot).toBeGreaterThan(stale.slot);
    expect(overtaken.at).toBeLessThan(resumedAt);
    console.info(`[pause-resume] s1 stopped for ${resumedAt - stoppedAt} ms; s2 committed token ${overtaken.token} > ${stale.token} ${overtaken.at - stoppedAt} ms after the stop`);
  });

  it('makes the resumed process drop the cycle: lease lost on its local deadline, submission cancelled, commit fenced', async () => {
    const fencedLog = await waitUntil(
      's1 to log the fenced commit of its stale cycle',
      () => s1Logs().find((r) => r.msg.startsWith('state write rejected by the fence') && r['cycle'] === staleCycle),
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(['lease-lost', 'stale-token']).toContain(fencedLog['reason']);
    // Ended without a word to Redis: the local deadline, or redlock's own expiry check of its renew.
    const lost = s1Logs().find((r) => r.msg.startsWith('lease lost') && r['queue'] === 'Q01' && r['fence'] === stale.token);
    expect(lost?.['reason'], JSON.stringify(s1Logs().slice(0, 6))).toBe('deadline');
    // The interrupted submission was still counted, in case condor_submit had queued it.
    expect(s1Logs().some((r) => r.msg.startsWith('submission interrupted') && r['cycle'] === staleCycle)).toBe(true);
    // The condor_submit in flight was cancelled before it queued anything: no pilot of the stale cycle.
    const pilots = await c.allPilots();
    expect(pilots.filter((p) => p.cycle === staleCycle)).toEqual([]);
    expect((await c.queueState().stats('Q01'))['fenced']).toBeGreaterThanOrEqual(1);
  });

  it('keeps the stale token out of the history, which stays in token order', async () => {
    const h = await c.history('Q01');
    expect(h.find((r) => r.token === stale.token)).toBeUndefined();
    for (let i = 1; i < h.length; i++) expect((h[i] as CycleRecord).token).toBeGreaterThan((h[i - 1] as CycleRecord).token);
    const found = slotConflicts(h, await c.allPilots());
    expect(found, describeConflicts(found)).toEqual([]);
  });

  it('takes cycles again afterwards, with new tokens', async () => {
    const back = await waitUntil(
      's1 to commit a Q01 cycle again',
      async () => (await c.history('Q01')).find((r) => r.instance === 's1' && r.token > overtaken.token),
      { timeoutMs: 40_000, intervalMs: 250 },
    );
    expect(back.outcome).toBe('submitted');
    const pilots = await c.pilots('s1');
    expect(pilots.some((p) => p.cycle === back.cycleId)).toBe(true);
  });
});
