/**
 * The Sentinel harness against real processes: a converged primary + replica + 3 sentinels, a
 * forced failover, and an ioredis Sentinel client (failoverDetector) following the new master.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPidAlive, waitUntil } from '../../helpers/processes.ts';
import { redisCall } from '../../helpers/redis-server.ts';
import { startSentinelCluster, type SentinelCluster } from '../../helpers/sentinel.ts';

/** `SENTINEL MASTER` as a field map. */
async function masterFields(cluster: SentinelCluster, i: number): Promise<Record<string, string>> {
  const reply = (await redisCall(cluster.sentinels[i] as { host: string; port: number }, ['SENTINEL', 'MASTER', cluster.masterName])) as string[];
  const out: Record<string, string> = {};
  for (let j = 0; j + 1 < reply.length; j += 2) out[reply[j] as string] = reply[j + 1] as string;
  return out;
}

describe('test/helpers/sentinel', () => {
  let cluster: SentinelCluster;
  let client: Redis | undefined;

  beforeAll(async () => {
    cluster = await startSentinelCluster({ masterName: 'apf-test' });
  }, 45_000);

  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  });

  it('starts a primary, a replica and three sentinels that have converged', async () => {
    const ports = [cluster.primary.port, cluster.replica.port, ...cluster.sentinels.map((s) => s.port)];
    expect(new Set(ports).size).toBe(5);
    expect(ports).not.toContain(6379);
    expect(cluster.masterName).toBe('apf-test');
    expect(await cluster.currentMaster()).toEqual({ host: '127.0.0.1', port: cluster.primary.port });
    expect(((await redisCall(cluster.replica, ['ROLE'])) as unknown[])[0]).toBe('slave');
    for (const i of [0, 1, 2]) {
      const m = await masterFields(cluster, i);
      expect(m['num-other-sentinels']).toBe('2');
      expect(m['num-slaves']).toBe('1');
      expect(m['quorum']).toBe('2');
    }
  });

  it('fails over, and an ioredis Sentinel client with failoverDetector keeps working on the new master', async () => {
    client = new Redis({ sentinels: [...cluster.sentinels], name: cluster.masterName, failoverDetector: true, maxRetriesPerRequest: 5 });
    client.on('error', () => undefined);
    expect(await client.set('before', 'written-to-primary')).toBe('OK');
    // Acknowledged by the replica, so the failover cannot lose it.
    expect(await client.wait(1, 2000)).toBe(1);

    const started = performance.now();
    await cluster.failover();
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(await cluster.currentMaster()).toEqual({ host: '127.0.0.1', port: cluster.replica.port });
    expect(((await redisCall(cluster.replica, ['ROLE'])) as unknown[])[0]).toBe('master');

    // The same client object ends up connected to the promoted server and writes there.
    const c = client;
    await waitUntil(
      'the Sentinel client to switch to the new master',
      async () => ((await c.info('server')).includes(`tcp_port:${cluster.replica.port}`) ? true : undefined),
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect(await c.set('after', 'written-to-new-master')).toBe('OK');
    expect(await redisCall(cluster.replica, ['GET', 'after'])).toBe('written-to-new-master');
    expect(await redisCall(cluster.replica, ['GET', 'before'])).toBe('written-to-primary');
  }, 40_000);

  it('stop() ends every process it started', async () => {
    const pids = [cluster.primary.pid, cluster.replica.pid];
    expect(pids.every((p) => p !== undefined && isPidAlive(p))).toBe(true);
    client?.disconnect();
    await cluster.stop();
    expect(pids.some((p) => isPidAlive(p as number))).toBe(false);
    for (const s of cluster.sentinels) await expect(redisCall(s, ['PING'], 300)).rejects.toThrow();
  });
});
