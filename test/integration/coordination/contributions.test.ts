/**
 * Batch contributions against a real redis-server: publish ordering and seq, pruning of submitted
 * entries, readAll in one round trip at scale (measured with INFO commandstats), decommission, and
 * the cluster view built from what Redis holds.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { buildClusterView } from '../../../src/coordination/cluster-view.ts';
import { ContributionStore } from '../../../src/coordination/contributions.ts';
import { InstanceRegistry } from '../../../src/coordination/instances.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import type { SourceRecord } from '../../../src/coordination/records.ts';
import { isApfError } from '../../../src/errors.ts';
import { freePort } from '../../helpers/free-port.ts';
import { useRedis } from '../../helpers/redis-server.ts';
import { addSubmitted } from '../../helpers/submitted.ts';

const server = useRedis();
const clients: Redis[] = [];
let prefixSeq = 0;

afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

/** A connection like the daemon's normal clients: fail fast, deadline on every command. */
async function client(opts: { protocol?: 2 | 3; port?: number } = {}): Promise<Redis> {
  const c = new Redis({
    host: '127.0.0.1',
    port: opts.port ?? server().port,
    protocol: opts.protocol ?? 2,
    commandTimeout: 5000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  c.on('error', () => undefined);
  clients.push(c);
  if (opts.port === undefined) await c.connect();
  return c;
}

function keys(): Keys {
  return new Keys(`c${++prefixSeq}`);
}

const T0 = 1_800_000_000_000;

function rec(source: string, at: number, queues: SourceRecord['queues'], owner: string | null = null, publisher = 'a'): Omit<SourceRecord, 'seq'> {
  return { source, owner, publisher, at, queues };
}

/** Per-command call counts from INFO commandstats. */
async function commandStats(c: Redis): Promise<Map<string, number>> {
  const text = await c.info('commandstats');
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1] as string, Number(m[2]));
  return out;
}

describe('coordination/contributions', () => {
  it('writes a snapshot only when newer, increments seq, and ignores a slow poll’s older one', async () => {
    const k = keys();
    const store = new ContributionStore(await client(), k);
    const s = 'condor:ce01:cm01';
    expect(await store.publish(rec(s, T0, { A: { pending: 1, running: 0, done: 0, failed: 0 } }))).toEqual({ written: true, seq: 1, storedAt: T0 });
    expect(await store.publish(rec(s, T0 + 2000, { A: { pending: 2, running: 0, done: 0, failed: 0 } }, null, 'b'))).toEqual({ written: true, seq: 2, storedAt: T0 + 2000 });
    // A poll that started earlier but finished later, and one with the same time: both ignored.
    expect(await store.publish(rec(s, T0 + 1000, { A: { pending: 99, running: 0, done: 0, failed: 0 } }))).toEqual({ written: false, seq: 2, storedAt: T0 + 2000 });
    expect(await store.publish(rec(s, T0 + 2000, { A: { pending: 98, running: 0, done: 0, failed: 0 } }))).toEqual({ written: false, seq: 2, storedAt: T0 + 2000 });
    const all = await store.readAll();
    expect(all.sources).toEqual([{ source: s, owner: null, publisher: 'b', at: T0 + 2000, seq: 2, queues: { A: { pending: 2, running: 0, done: 0, failed: 0 } } }]);
    expect(all.invalid).toEqual([]);
    const c = await client();
    expect(await c.zscore(k.sources, s)).toBe(String(T0 + 2000));
    expect(await store.publish(rec(s, T0 + 3000, {}))).toMatchObject({ written: true, seq: 3 });
  });

  it('returns submitted entries newer than the snapshot and prunes old ones at publish', async () => {
    const k = keys();
    const c = await client();
    const store = new ContributionStore(c, k, { pruneMarginMs: 60_000 });
    const s = 'condor:local@a';
    await store.publish(rec(s, T0, { A: { pending: 4, running: 0, done: 0, failed: 0 } }, 'a'));
    await addSubmitted(c, k, s, 'A', 'A:1:7', 3, T0 - 120_000);
    await addSubmitted(c, k, s, 'A', 'A:2:7', 2, T0 + 10_000);
    await addSubmitted(c, k, s, 'B', 'B:2:9', 5, T0 + 20_000);
    await addSubmitted(c, k, s, 'A', 'A:3:7', 1, T0 + 90_000);
    let all = await store.readAll();
    expect(all.submitted.map((e) => [e.queue, e.cycleId, e.n, e.at])).toEqual([
      ['A', 'A:2:7', 2, T0 + 10_000],
      ['B', 'B:2:9', 5, T0 + 20_000],
      ['A', 'A:3:7', 1, T0 + 90_000],
    ]);
    expect(await c.pttl(k.sourceSubmitted(s))).toBeGreaterThan(86_000_000);
    // A new snapshot at T0+30 s contains the first two; entries older than T0+30 s − 60 s go.
    await store.publish(rec(s, T0 + 30_000, { A: { pending: 6, running: 0, done: 0, failed: 0 }, B: { pending: 5, running: 0, done: 0, failed: 0 } }, 'a'));
    expect(await c.zrange(k.sourceSubmitted(s), '0', '-1')).toEqual(['A\tA:2:7\t2', 'B\tB:2:9\t5', 'A\tA:3:7\t1']);
    all = await store.readAll();
    expect(all.submitted.map((e) => e.cycleId)).toEqual(['A:3:7']);
    await store.publish(rec(s, T0 + 100_000, {}, 'a'));
    expect(await c.zrange(k.sourceSubmitted(s), '0', '-1')).toEqual(['A\tA:3:7\t1']);
    // The same member twice is one entry (a retried commit does not double count).
    await addSubmitted(c, k, s, 'A', 'A:4:7', 2, T0 + 110_000);
    await addSubmitted(c, k, s, 'A', 'A:4:7', 2, T0 + 110_000);
    expect((await store.readAll()).submitted.map((e) => e.cycleId)).toEqual(['A:4:7']);
  });

  it('reads 1,000 sources in one round trip', async () => {
    const k = keys();
    const c = await client();
    const store = new ContributionStore(c, k);
    const N = 1000;
    // Loaded with a pipeline to keep the setup fast; each publish is still one script call.
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) {
      const queues = Object.fromEntries(Array.from({ length: 10 }, (_, j) => [`Q${(i * 7 + j) % 300}`, { pending: 1, running: 2, done: 0, failed: 0 }]));
      writes.push(store.publish(rec(`condor:s${i}:pool`, T0 + i, queues)));
      if (i % 10 === 0) writes.push(addSubmitted(c, k, `condor:s${i}:pool`, 'Q0', `Q0:${i}:1`, 1, T0 + i + 1));
    }
    await Promise.all(writes);
    await store.readAll(); // loads the script (EVALSHA + EVAL on NOSCRIPT the first time)

    const stats = await client();
    await stats.config('RESETSTAT');
    const started = performance.now();
    const all = await store.readAll();
    const ms = performance.now() - started;
    const delta = await commandStats(stats);
    delta.delete('config|resetstat');

    expect(all.sources).toHaveLength(N);
    expect(all.submitted).toHaveLength(N / 10);
    const view = buildClusterView(all.sources, all.submitted, [], { now: T0 + N, offlineGraceMs: 3_600_000, maxAgeMs: () => 60_000 });
    expect(view.totals).toMatchObject({ pending: 10 * N + N / 10, running: 20 * N, submittedSince: N / 10 });
    // One command from the client; everything else ran inside that script.
    expect(delta.get('evalsha')).toBe(1);
    expect(delta.get('eval')).toBeUndefined();
    const topLevel = [...delta.keys()].filter((cmd) => !['evalsha', 'zrange', 'mget', 'zrangebyscore', 'get'].includes(cmd));
    expect(topLevel).toEqual([]);
    // Snapshots are fetched in chunks of 500 keys, not one GET each; the one GET reads the epoch.
    expect(delta.get('mget')).toBe(2);
    expect(delta.get('get')).toBe(1);
    console.info(`readAll of ${N} sources: ${ms.toFixed(1)} ms, commandstats ${JSON.stringify(Object.fromEntries(delta))}`);
  });

  it('reads 3 sources × 10,000 queues quickly with compact payloads', async () => {
    const k = keys();
    const c = await client();
    const store = new ContributionStore(c, k);
    const queues = Object.fromEntries(Array.from({ length: 10_000 }, (_, j) => [`ANALY_SITE_${j}_ucore`, { pending: j % 5, running: j % 17, done: j % 3, failed: 0 }]));
    for (const s of ['condor:a:p', 'condor:b:p', 'condor:local@x']) await store.publish(rec(s, T0, queues));
    const bytes = await c.strlen(k.sourceSnapshot('condor:a:p'));
    // ~35 bytes per queue (name + 4 counts) rather than ~80 with named fields.
    expect(bytes / 10_000).toBeLessThan(40);
    const started = performance.now();
    const all = await store.readAll();
    const ms = performance.now() - started;
    expect(all.sources.map((s) => Object.keys(s.queues).length)).toEqual([10_000, 10_000, 10_000]);
    expect(ms).toBeLessThan(2000);
    console.info(`readAll of 3 × 10,000 queues (${bytes} bytes per snapshot): ${ms.toFixed(1)} ms`);
  });

  it('works the same on a RESP3 connection', async () => {
    const k = keys();
    const c = await client({ protocol: 3 });
    const store = new ContributionStore(c, k);
    await store.publish(rec('condor:s:p', T0, { A: { pending: 1, running: 2, done: 3, failed: 4, recent: { total: 5, short: 1 } } }));
    await addSubmitted(c, k, 'condor:s:p', 'A', 'A:1:1', 2, T0 + 1);
    const all = await store.readAll();
    expect(all.sources[0]?.queues).toEqual({ A: { pending: 1, running: 2, done: 3, failed: 4, recent: { total: 5, short: 1 } } });
    expect(all.submitted).toEqual([{ source: 'condor:s:p', queue: 'A', cycleId: 'A:1:1', n: 2, at: T0 + 1 }]);
  });

  it('never hands a read begun before a local write to a later caller', async () => {
    const store = new ContributionStore(await client(), keys());
    await store.publish(rec('condor:local@a', T0, {}, 'a'));
    const p1 = store.readAll();
    expect(store.readAll()).toBe(p1);
    await store.publish(rec('condor:local@a', T0 + 5, { A: { pending: 4, running: 0, done: 0, failed: 0 } }, 'a'));
    const p2 = store.readAll();
    expect(p2).not.toBe(p1);
    expect((await p1).sources.map((x) => x.seq)).toEqual([1]);
    expect((await p2).sources.map((x) => [x.seq, x.queues['A']?.pending])).toEqual([[2, 4]]);
  });

  it('skips a damaged snapshot and reports it', async () => {
    const k = keys();
    const c = await client();
    const store = new ContributionStore(c, k);
    await store.publish(rec('condor:good:p', T0, {}));
    await c.zadd(k.sources, T0, 'condor:bad:p');
    await c.set(k.sourceSnapshot('condor:bad:p'), '{"at":1,"seq":1,"oops"');
    const all = await store.readAll();
    expect(all.sources.map((s) => s.source)).toEqual(['condor:good:p']);
    expect(all.invalid).toEqual(['condor:bad:p']);
  });

  it('decommission removes every source an instance owns, with its submitted pilots, and nothing else', async () => {
    const k = keys();
    const c = await client();
    const store = new ContributionStore(c, k);
    await store.publish(rec('condor:local@a', T0, { A: { pending: 1, running: 0, done: 0, failed: 0 } }, 'a', 'a'));
    await store.publish(rec('condor:local@b', T0, { A: { pending: 10, running: 0, done: 0, failed: 0 } }, 'b', 'b'));
    await store.publish(rec('condor:other@b', T0, { B: { pending: 3, running: 0, done: 0, failed: 0 } }, 'b', 'b'));
    // A shared schedd published by b stays: other instances' pilots are in it too.
    await store.publish(rec('condor:ce:p', T0, { A: { pending: 100, running: 0, done: 0, failed: 0 } }, null, 'b'));
    await addSubmitted(c, k, 'condor:local@b', 'A', 'A:1:1', 2, T0 + 10);
    expect(await store.decommission('b')).toEqual(['condor:local@b', 'condor:other@b']);
    const all = await store.readAll();
    expect(all.sources.map((s) => s.source).sort()).toEqual(['condor:ce:p', 'condor:local@a']);
    expect(all.submitted).toEqual([]);
    // removed on purpose, not lost with Redis's data: nothing is counted from memory
    expect(all.carried).toEqual([]);
    expect(await c.exists(k.sourceSnapshot('condor:local@b'), k.sourceSubmitted('condor:local@b'), k.sourceSnapshot('condor:other@b'))).toBe(0);
    expect(await c.zrange(k.sources, '0', '-1')).toEqual(['condor:ce:p', 'condor:local@a']);
  });

  it('after Redis lost its data, counts the sources it had read from memory until their owners publish again', async () => {
    const k = keys();
    const c = await client();
    const reader = new ContributionStore(c, k);
    const a = 'condor:local@a';
    const b = 'condor:local@b';
    await reader.publish(rec(a, T0, { A: { pending: 1, running: 0, done: 0, failed: 0 } }, 'a', 'a'));
    await reader.publish(rec(b, T0, { A: { pending: 2, running: 0, done: 0, failed: 0 } }, 'b', 'b'));
    await addSubmitted(c, k, b, 'A', 'A:1:1', 3, T0 + 10);
    const before = await reader.readAll();
    expect(before.carried).toEqual([]);
    // a restart without persistence: every key of the cluster is gone, the epoch with them
    const epoch = await c.get(k.epoch);
    expect(epoch).toMatch(/^[0-9a-f-]{36}$/);
    await c.del(...(await c.keys(`${k.prefix}:*`)));
    // a publishes again (its next poll); b has not yet
    await reader.publish(rec(a, T0 + 5000, { A: { pending: 4, running: 0, done: 0, failed: 0 } }, 'a', 'a'));
    let all = await reader.readAll();
    expect(await c.get(k.epoch)).not.toBe(epoch);
    expect(all.carried).toEqual([b]);
    expect(all.sources.map((s) => [s.source, s.at, s.queues['A']?.pending])).toEqual([
      [a, T0 + 5000, 4],
      [b, T0, 2],
    ]);
    expect(all.submitted.map((e) => [e.source, e.cycleId, e.n])).toEqual([[b, 'A:1:1', 3]]);
    // still carried at the next read; a process that had not read before the loss has nothing to carry
    expect((await reader.readAll()).carried).toEqual([b]);
    expect((await new ContributionStore(c, k).readAll()).sources.map((s) => s.source)).toEqual([a]);
    // b publishes: read from Redis again, nothing carried
    await reader.publish(rec(b, T0 + 6000, { A: { pending: 5, running: 0, done: 0, failed: 0 } }, 'b', 'b'));
    all = await reader.readAll();
    expect(all.carried).toEqual([]);
    expect(all.sources.map((s) => [s.source, s.at])).toEqual([
      [a, T0 + 5000],
      [b, T0 + 6000],
    ]);
    expect(all.submitted).toEqual([]);
  });

  it('feeds the cluster view: a dead instance’s local schedd goes offline, then dropped', async () => {
    const k = keys();
    const c = await client();
    let now = T0;
    const registry = new InstanceRegistry(c, k, { deadAfterMs: 30_000 }, () => now);
    const store = new ContributionStore(c, k);
    for (const id of ['a', 'b']) {
      await registry.register({ id, owner: `${id}:1:1`, host: id, pid: 1, version: 't', configHash: 'h', startedAt: T0, lastCycleAt: null, state: 'active', webPort: null });
      await store.publish(rec(`condor:local@${id}`, now, { A: { pending: 5, running: 5, done: 0, failed: 0 } }, id, id));
    }
    const view = async (): Promise<ReturnType<typeof buildClusterView>> => {
      const all = await store.readAll();
      return buildClusterView(all.sources, all.submitted, await registry.list(), { now, offlineGraceMs: 600_000, maxAgeMs: () => 120_000 });
    };
    expect((await view()).queues.get('A')?.pending).toBe(10);
    // b stops; a keeps heartbeating and publishing.
    now += 60_000;
    await registry.heartbeat('a', 'a:1:1');
    await store.publish(rec('condor:local@a', now, { A: { pending: 6, running: 5, done: 0, failed: 0 } }, 'a', 'a'));
    let v = await view();
    expect(v.sources.get('condor:local@b')).toMatchObject({ state: 'offline', since: T0 });
    expect(v.queues.get('A')?.pending).toBe(11);
    now = T0 + 600_001;
    await registry.heartbeat('a', 'a:1:1');
    await store.publish(rec('condor:local@a', now, { A: { pending: 6, running: 5, done: 0, failed: 0 } }, 'a', 'a'));
    v = await view();
    expect(v.sources.get('condor:local@b')).toMatchObject({ state: 'dropped', since: T0 + 600_000 });
    expect(v.queues.get('A')?.pending).toBe(6);
  });

  it('lets one instance per interval poll a shared schedd', async () => {
    const k = keys();
    const [a, b] = [new ContributionStore(await client(), k), new ContributionStore(await client(), k)];
    expect(await a.claimPoll('condor:ce:p', 'a', 300)).toBe(true);
    expect(await b.claimPoll('condor:ce:p', 'b', 300)).toBe(false);
    expect(await b.claimPoll('condor:other:p', 'b', 300)).toBe(true);
    await new Promise((r) => setTimeout(r, 350));
    expect(await b.claimPoll('condor:ce:p', 'b', 300)).toBe(true);
  });

  it('turns Redis failures and bad input into coded errors', async () => {
    const down = await client({ port: await freePort() });
    const store = new ContributionStore(down, keys());
    const codes = await Promise.all([
      store.readAll().catch((e: unknown) => (isApfError(e) ? e.code : e)),
      store.publish(rec('condor:s:p', T0, {})).catch((e: unknown) => (isApfError(e) ? e.code : e)),
      store.publish(rec('condor:s:p', T0, { A: { pending: -1, running: 0, done: 0, failed: 0 } })).catch((e: unknown) => (isApfError(e) ? e.code : e)),
    ]);
    expect(codes).toEqual(['APF_ERR_REDIS', 'APF_ERR_REDIS', 'APF_ERR_USAGE']);
  });
});
