/**
 * ContributionStore.readAll against a real redis-server, read after read: a snapshot that did not
 * change since the store last decoded it is neither sent again nor decoded again (the reply is a
 * few bytes instead of the whole snapshot), while a republished, removed or damaged one is seen at
 * once; of the submitted entries only those within the re-read window are sent again, unless one
 * was recorded late below it.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ContributionStore, REREAD_WINDOW_MS, type ContributionsSnapshot } from '../../../src/coordination/contributions.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import type { SourceRecord } from '../../../src/coordination/records.ts';
import type { BatchQueueInfo } from '../../../src/core/info.ts';
import { useRedis } from '../../helpers/redis-server.ts';
import { addSubmitted } from '../../helpers/submitted.ts';

const server = useRedis();
const clients: Redis[] = [];
let prefixSeq = 0;

afterEach(() => {
  for (const c of clients.splice(0)) c.disconnect();
});

function client(): Redis {
  const c = new Redis({ host: '127.0.0.1', port: server().port, protocol: 2, commandTimeout: 5000, maxRetriesPerRequest: 0, enableOfflineQueue: true });
  c.on('error', () => undefined);
  clients.push(c);
  return c;
}

const T0 = 1_800_000_000_000;

function queues(n: number, pending: number): Record<string, BatchQueueInfo> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`ANALY_SITE_${i}_ucore`, { pending, running: i % 7, done: 0, failed: 0 }]));
}

function rec(source: string, at: number, q: SourceRecord['queues'], owner: string | null = null): Omit<SourceRecord, 'seq'> {
  return { source, owner, publisher: owner ?? 'a', at, queues: q };
}

/** Bytes Redis has sent to clients so far (INFO stats). */
async function bytesOut(c: Redis): Promise<number> {
  return Number(/total_net_output_bytes:(\d+)/.exec(await c.info('stats'))?.[1]);
}

describe('coordination/contributions', () => {
  it('sends and decodes an unchanged snapshot once, and a republished one again', async () => {
    const k = new Keys(`cr${++prefixSeq}`);
    const store = new ContributionStore(client(), k);
    const stats = client();
    for (const s of ['condor:a:p', 'condor:b:p', 'condor:local@x']) await store.publish(rec(s, T0, queues(2000, 1)));

    const b0 = await bytesOut(stats);
    const first = await store.readAll();
    const b1 = await bytesOut(stats);
    const second = await store.readAll();
    const b2 = await bytesOut(stats);
    expect(b1 - b0).toBeGreaterThan(3 * 2000 * 20);
    expect(b2 - b1).toBeLessThan(2000);
    expect(second.sources).toEqual(first.sources);
    // the very same decoded records: nothing was parsed again
    for (const [i, s] of second.sources.entries()) expect(s).toBe(first.sources[i]);

    // a new poll of one source: that one is read and decoded again, the others are not
    await store.publish(rec('condor:b:p', T0 + 60_000, queues(2000, 5)));
    const third = await store.readAll();
    const byId = new Map(third.sources.map((s) => [s.source, s]));
    expect(byId.get('condor:b:p')?.at).toBe(T0 + 60_000);
    expect(byId.get('condor:b:p')?.queues['ANALY_SITE_3_ucore']).toEqual({ pending: 5, running: 3, done: 0, failed: 0 });
    expect(byId.get('condor:a:p')).toBe(first.sources.find((s) => s.source === 'condor:a:p'));
  });

  it('still returns the submitted entries of an unchanged snapshot, newest ones included', async () => {
    const k = new Keys(`cr${++prefixSeq}`);
    const c = client();
    const store = new ContributionStore(c, k);
    await store.publish(rec('condor:local@x', T0, queues(10, 0), 'x'));
    expect((await store.readAll()).submitted).toEqual([]);
    await addSubmitted(c, k, 'condor:local@x', 'ANALY_SITE_1_ucore', 'c1', 2, T0 + 5);
    const after = await store.readAll();
    expect(after.sources.map((s) => s.source)).toEqual(['condor:local@x']);
    expect(after.submitted).toEqual([{ source: 'condor:local@x', queue: 'ANALY_SITE_1_ucore', cycleId: 'c1', n: 2, at: T0 + 5 }]);
  });

  it('forgets a decommissioned source and keeps reporting a damaged one', async () => {
    const k = new Keys(`cr${++prefixSeq}`);
    const c = client();
    const store = new ContributionStore(c, k);
    await store.publish(rec('condor:local@gone', T0, queues(5, 1), 'gone'));
    await store.publish(rec('condor:good:p', T0, queues(5, 1)));
    await c.zadd(k.sources, T0, 'condor:bad:p');
    await c.set(k.sourceSnapshot('condor:bad:p'), '{"at":1,"seq":1,"oops"');
    for (let i = 0; i < 2; i++) {
      const all = await store.readAll();
      expect(all.sources.map((s) => s.source).sort()).toEqual(['condor:good:p', 'condor:local@gone']);
      expect(all.invalid).toEqual(['condor:bad:p']);
    }
    await store.decommission('gone');
    expect((await store.readAll()).sources.map((s) => s.source)).toEqual(['condor:good:p']);
    // published again later under the same id: read afresh
    await store.publish(rec('condor:local@gone', T0 + 1, queues(5, 9), 'gone'));
    const back = (await store.readAll()).sources.find((s) => s.source === 'condor:local@gone');
    expect(back?.queues['ANALY_SITE_0_ucore']?.pending).toBe(9);
  });

  describe('submitted entries of an unchanged snapshot', () => {
    const SRC = 'condor:local@x';
    /** What a store that never read before gets: the whole list, in one read. */
    const fresh = (k: Keys): Promise<ContributionsSnapshot> => new ContributionStore(client(), k).readAll();

    it('are sent again only from the re-read window on; one recorded late below it makes the next read send them all', async () => {
      const k = new Keys(`cr${++prefixSeq}`);
      const c = client();
      const store = new ContributionStore(c, k);
      const stats = client();
      await store.publish(rec(SRC, T0, queues(10, 0), 'x'));
      // 2,000 entries over 50 s, as a busy source has them before its next poll
      for (let i = 0; i < 2000; i++) await addSubmitted(c, k, SRC, `ANALY_SITE_${i % 10}_ucore`, `ANALY_SITE_${i % 10}_ucore:${T0 + i}:7`, 2, T0 + 1000 + i * 25);
      const b0 = await bytesOut(stats);
      const first = await store.readAll();
      const b1 = await bytesOut(stats);
      expect(first.submitted).toHaveLength(2000);
      expect(first).toEqual(await fresh(k));

      const b2 = await bytesOut(stats);
      const second = await store.readAll();
      const b3 = await bytesOut(stats);
      expect(second).toEqual(await fresh(k));
      // only the last REREAD_WINDOW_MS of entries (400 of 2,000) came again, and the rest are the objects already held
      expect(b3 - b2).toBeLessThan((b1 - b0) / 3);
      expect(second.submitted[0]).toBe(first.submitted[0]);

      // new entries, one of them recorded late, 30 s below the newest: the whole list again
      await addSubmitted(c, k, SRC, 'ANALY_SITE_1_ucore', 'new-1', 1, T0 + 52_000);
      await addSubmitted(c, k, SRC, 'ANALY_SITE_2_ucore', 'late-1', 1, T0 + 52_000 - 3 * REREAD_WINDOW_MS);
      const b4 = await bytesOut(stats);
      const third = await store.readAll();
      const b5 = await bytesOut(stats);
      expect(third.submitted).toHaveLength(2002);
      expect(third.submitted.map((e) => e.cycleId)).toContain('late-1');
      expect(third).toEqual(await fresh(k));
      // (the first read also carried the snapshot's text)
      expect(b5 - b4).toBeGreaterThan(0.9 * (b1 - b0));

      // a new snapshot: its entries are read afresh from its time on, and the window applies again
      await store.publish(rec(SRC, T0 + 40_000, queues(10, 1), 'x'));
      const fourth = await store.readAll();
      expect(fourth).toEqual(await fresh(k));
      expect(fourth.submitted.every((e) => e.at > T0 + 40_000)).toBe(true);
      expect(await store.readAll()).toEqual(await fresh(k));
    });

    it('read after read, equal to a first read whatever is recorded, late or not, and however sources are republished', async () => {
      const k = new Keys(`cr${++prefixSeq}`);
      const c = client();
      const store = new ContributionStore(c, k);
      const ids = ['condor:local@a', 'condor:local@b', 'condor:ce1:pool'];
      let clock = T0;
      for (const id of ids) await store.publish(rec(id, clock, queues(5, 0), id.startsWith('condor:local@') ? id.slice(13) : null));
      // a fixed pseudo-random sequence (LCG), so a failure replays
      let seed = 20_261_126;
      const rand = (n: number): number => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return seed % n;
      };
      let cycles = 0;
      let compared = 0;
      for (let round = 0; round < 40; round++) {
        clock += 1000 + rand(4000);
        for (let j = rand(30); j > 0; j--) {
          const source = ids[rand(ids.length)] as string;
          // mostly on time, some a little late (inside the window), some far below it
          const late = rand(10) === 0 ? 2 * REREAD_WINDOW_MS + rand(20_000) : rand(4) === 0 ? rand(REREAD_WINDOW_MS) : 0;
          await addSubmitted(c, k, source, `ANALY_SITE_${rand(5)}_ucore`, `c${++cycles}`, 1 + rand(3), clock - late);
        }
        if (rand(6) === 0) {
          const source = ids[rand(ids.length)] as string;
          await store.publish(rec(source, clock - rand(5000), queues(5, rand(3)), source.startsWith('condor:local@') ? source.slice(13) : null));
        }
        const got = await store.readAll();
        expect(got, `round ${round}`).toEqual(await fresh(k));
        compared += got.submitted.length;
      }
      // the sequence did exercise the reads (hundreds of entries compared)
      expect(compared).toBeGreaterThan(500);
    });
  });
});
