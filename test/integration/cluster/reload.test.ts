/**
 * Configuration reloads of a running cluster: a broken configuration changes nothing (the
 * instances keep cycling with the old one), whether the reload comes from `apf reload` (a control
 * message to every instance) or from SIGHUP; a valid one with a new queue makes that queue cycle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { decodeSourceRecord } from '../../../src/coordination/contributions.ts';
import { reloadCluster, type AdminContext } from '../../../src/core/admin.ts';
import { CLUSTER_HOOK_TIMEOUT_MS, makeQueues, pandaScenario, startCluster, type Cluster, type QueueSpec } from '../../helpers/cluster.ts';
import { sleep, waitUntil } from '../../helpers/processes.ts';

const INSTANCES = ['l1', 'l2'];
const QUEUES = makeQueues(3, 1, [3]);
const NEW_QUEUE: QueueSpec = { name: 'Q04', sleepS: 3, activated: 1 };
/** How long the poll rate of a batch source is measured. */
const RATE_WINDOW_MS = 9_000;

describe('core/daemon: configuration reload', () => {
  let c: Cluster;
  let ctx: AdminContext;
  let goodConf: string;

  beforeAll(async () => {
    c = await startCluster({ instances: INSTANCES, queues: QUEUES });
    ctx = { redis: c.redis, keys: c.keys, config: c.config, who: 'tester@cli' };
    goodConf = c.queuesConf(QUEUES);
    await waitUntil(
      'a cycle of every queue',
      async () => {
        const h = await c.histories();
        return QUEUES.every((q) => (h.get(q.name)?.length ?? 0) >= 1) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  }, CLUSTER_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await c?.stop();
  });

  /** Waits until `id` logged `msg` after `since`. */
  const logged = (id: string, msg: string, since: number) =>
    waitUntil(`${id} to log "${msg}"`, () => c.instance(id).logs().find((r) => r.msg.startsWith(msg) && Date.parse(r.time) >= since), {
      timeoutMs: 20_000,
      intervalMs: 100,
    });

  /** Waits until every queue in `queues` has a cycle started after `since`; returns those cycles. */
  const cyclesAfter = (since: number, queues: readonly QueueSpec[] = QUEUES) =>
    waitUntil(
      'a new cycle of every queue',
      async () => {
        const h = await c.histories(queues.map((q) => q.name));
        const fresh = queues.map((q) => (h.get(q.name) ?? []).find((r) => r.startedAt > since));
        return fresh.every((r) => r !== undefined) ? fresh.filter((r) => r !== undefined) : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );

  /** The config hash each instance reports in its registration. */
  const hashes = async (): Promise<string[]> => (await c.status()).instances.map((i) => i.configHash);

  it('keeps the old configuration when `apf reload` finds the new one broken', async () => {
    c.writeQueuesConf(`${goodConf}\n[Q99\nthis is not INI\n`);
    const t = Date.now();
    const result = await reloadCluster(ctx);
    expect(result.message).toMatch(/received it/);
    for (const id of INSTANCES) {
      const r = await logged(id, 'reload rejected', t);
      expect(String(r['problem'])).toMatch(/queues\.conf/);
    }
    const fresh = await cyclesAfter(Date.now());
    expect(fresh.every((r) => r.configHash === c.config.hash)).toBe(true);
    expect(await hashes()).toEqual([c.config.hash, c.config.hash]);
    for (const id of INSTANCES) expect(c.instance(id).proc.running()).toBe(true);
  });

  it('keeps the old configuration when SIGHUP finds it broken', async () => {
    const t = Date.now();
    expect(c.instance('l1').proc.signal('SIGHUP')).toBe(true);
    await logged('l1', 'reload rejected', t);
    const fresh = await cyclesAfter(Date.now());
    expect(fresh.every((r) => r.configHash === c.config.hash)).toBe(true);
    expect(await hashes()).toEqual([c.config.hash, c.config.hash]);
    expect(c.instance('l1').proc.running()).toBe(true);
  });

  it('starts cycling a queue added by a valid reload', async () => {
    c.panda.setScenario(pandaScenario([...QUEUES, NEW_QUEUE]));
    c.writeQueuesConf(c.queuesConf([...QUEUES, NEW_QUEUE]));
    const next = await loadConfig({ dir: c.configDir });
    const hash = next.config?.hash ?? '';
    expect(hash).not.toBe(c.config.hash);
    const t = Date.now();
    await reloadCluster(ctx);
    for (const id of INSTANCES) await logged(id, 'configuration reloaded', t);
    const [q04] = await cyclesAfter(t, [NEW_QUEUE]);
    expect(q04?.configHash).toBe(hash);
    await waitUntil('the new hash in every registration', async () => ((await hashes()).every((h) => h === hash) ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 200,
    });
    expect(await c.schedulers()).toBe(4);
    const pilots = await waitUntil('the new queue\'s pilot', async () => {
      const ps = (await c.allPilots()).filter((p) => p.queue === NEW_QUEUE.name);
      return ps.length >= 1 ? ps : undefined;
    }, { timeoutMs: 20_000, intervalMs: 500 });
    expect(pilots).toHaveLength(1);
    // the old queues go on, under the new configuration
    const fresh = await cyclesAfter(Date.now());
    expect(fresh.every((r) => r.configHash === hash)).toBe(true);
  });

  it('polls each schedd once per interval after two reloads at once (no second poller left behind)', async () => {
    const seq = async (id: string): Promise<number> => {
      const text = await c.redis.get(c.keys.sourceSnapshot(`condor:local@${id}`));
      return text === null ? 0 : (decodeSourceRecord(text)?.seq ?? 0);
    };
    const rate = async (): Promise<number[]> => {
      const a = await Promise.all(INSTANCES.map(seq));
      await sleep(RATE_WINDOW_MS);
      const b = await Promise.all(INSTANCES.map(seq));
      return b.map((x, i) => x - (a[i] as number));
    };
    const before = await rate();
    c.writeQueuesConf(`${c.queuesConf([...QUEUES, NEW_QUEUE])}\n# touched\n[Q05]\nwmsqueue = PQ_Q05\napfqueue.sleep = 3\n`);
    const t = Date.now();
    // `apf reload` twice in a row: every instance receives two reload messages at once.
    await Promise.all([reloadCluster(ctx), reloadCluster(ctx)]);
    for (const id of INSTANCES) await logged(id, 'configuration reloaded', t);
    await sleep(1000);
    const after = await rate();
    INSTANCES.forEach((id, i) => expect(after[i] as number, `${id}: publishes per ${RATE_WINDOW_MS} ms, before ${before[i]}`).toBeLessThanOrEqual(Math.ceil((before[i] as number) * 1.5) + 1));
    expect(c.instance('l1').logs().filter((r) => r.msg === 'configuration reloaded' && Date.parse(r.time) >= t)).toHaveLength(1);
  });
});
