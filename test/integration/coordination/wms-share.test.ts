/**
 * The shared WMS fetch against a real redis-server, with two SharedWms objects standing for two
 * instances: one fetch per interval for the whole cluster, failures shared, the next interval
 * refetches, losers use what Redis holds, and a cycle costs a handful of Redis commands.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { Keys } from '../../../src/coordination/keys.ts';
import { SharedWms } from '../../../src/coordination/wms-share.ts';
import type { WmsSnapshot } from '../../../src/core/info.ts';
import { unusableReason, type SourceView } from '../../../src/core/source-view.ts';
import { ApfError } from '../../../src/errors.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import type { WmsSource } from '../../../src/plugins/define.ts';
import { freePort } from '../../helpers/free-port.ts';
import { sleep, waitUntil } from '../../helpers/processes.ts';
import { useRedis } from '../../helpers/redis-server.ts';

const server = useRedis();
const clients: Redis[] = [];
const shared: SharedWms[] = [];
let prefixSeq = 0;

afterEach(() => {
  for (const s of shared.splice(0)) s.close();
  for (const c of clients.splice(0)) c.disconnect();
});

async function client(port?: number): Promise<Redis> {
  const c = new Redis({
    host: '127.0.0.1',
    port: port ?? server().port,
    protocol: 2,
    commandTimeout: 5000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  c.on('error', () => undefined);
  clients.push(c);
  if (port === undefined) await c.connect();
  return c;
}

/** One "instance": its own connection and SharedWms. */
async function instance(keys: Keys, id: string, recheckMs = 20): Promise<SharedWms> {
  const s = new SharedWms(await client(), keys, id, silentLogger(), Date.now, { recheckMs });
  shared.push(s);
  return s;
}

/** A WMS source that counts its fetches; `next` decides what the next fetch does. */
class FakeWms implements WmsSource {
  readonly key = 'https://panda.example.org';
  readonly sleepS: number;
  readonly maxAgeS: number;
  fetches = 0;
  delayMs = 50;
  next: (n: number) => Promise<WmsSnapshot> = (n) => Promise.resolve(snapshot(n));
  gate: Promise<void> | undefined;

  constructor(sleepS: number, maxAgeS: number) {
    this.sleepS = sleepS;
    this.maxAgeS = maxAgeS;
  }

  async fetch(signal: AbortSignal): Promise<WmsSnapshot> {
    const n = ++this.fetches;
    await sleep(this.delayMs);
    if (this.gate !== undefined) await this.gate;
    signal.throwIfAborted();
    return this.next(n);
  }
}

/** The n-th fetch's data: `ready` = n, so tests can tell fetches apart. */
function snapshot(n: number, sites: WmsSnapshot['sites'] = new Map([['SITE_A', { status: 'online' }]])): WmsSnapshot {
  return { at: Date.now(), queues: new Map([['SITE_A', { ready: n, notready: 0, running: 10, done: 0, failed: 0 }]]), sites };
}

function ready(v: SourceView<WmsSnapshot>): number | string {
  return v.available ? (v.snapshot.queues.get('SITE_A')?.ready ?? -1) : `unavailable: ${v.reason}`;
}

async function commandCount(c: Redis): Promise<number> {
  const text = await c.info('commandstats');
  let total = 0;
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (m[1] !== 'config|resetstat' && m[1] !== 'info') total += Number(m[2]);
  return total;
}

const never = new AbortController().signal;

describe('coordination/wms-share', () => {
  it('fetches once per interval for two instances calling concurrently', async () => {
    const keys = new Keys(`w${++prefixSeq}`);
    const [a, b] = [await instance(keys, 'a'), await instance(keys, 'b')];
    const src = new FakeWms(1, 10);
    const calls = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? a : b).view('panda', src, never));
    const views = await Promise.all(calls);
    expect(src.fetches).toBe(1);
    // The winner's queues see the new data; the loser's see what Redis held meanwhile (nothing
    // yet on a fresh cluster) and the new data as soon as it is stored.
    const winnerViews = views.filter((v) => v.available);
    expect(winnerViews.length).toBeGreaterThanOrEqual(50);
    expect(new Set(winnerViews.map(ready))).toEqual(new Set([1]));
    for (const s of [a, b]) {
      const v = await waitUntil('the stored snapshot', async () => {
        const r = await s.view('panda', src, never);
        return r.available ? r : undefined;
      }, { timeoutMs: 2000, intervalMs: 25 });
      expect(ready(v)).toBe(1);
      expect(v.maxAgeMs).toBe(10_000);
      expect(v.snapshot.sites?.get('SITE_A')).toEqual({ status: 'online' });
    }
    expect(src.fetches).toBe(1);

    // The next interval: exactly one more fetch, whoever asks first.
    await sleep(1100);
    const next = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? b : a).view('panda', src, never)));
    expect(src.fetches).toBe(2);
    // Meanwhile the loser keeps the previous snapshot: still within maxage, so usable.
    const seen = new Set(next.map(ready));
    expect([...seen].every((x) => x === 1 || x === 2)).toBe(true);
    expect(seen.has(2)).toBe(true);
    expect(next.every((v) => unusableReason(v, Date.now(), 'WMS') === null)).toBe(true);
  });

  it('shares a failure as unavailable until the next interval, then refetches', async () => {
    const keys = new Keys(`w${++prefixSeq}`);
    const [a, b] = [await instance(keys, 'a'), await instance(keys, 'b')];
    const src = new FakeWms(1, 10);
    src.next = () => Promise.reject(new ApfError('APF_ERR_WMS_UNAVAILABLE', 'PanDA answered 503'));
    const first = await a.view('panda', src, never);
    expect(first).toEqual({ available: false, key: 'panda', reason: 'APF_ERR_WMS_UNAVAILABLE: PanDA answered 503' });
    const other = await b.view('panda', src, never);
    expect(other).toEqual(first);
    expect(unusableReason(other, Date.now(), 'WMS')).toBe('WMS source panda unavailable: APF_ERR_WMS_UNAVAILABLE: PanDA answered 503');
    expect(src.fetches).toBe(1);
    src.next = (n) => Promise.resolve(snapshot(n));
    await sleep(1100);
    expect(ready(await b.view('panda', src, never))).toBe(2);
    await sleep(30);
    expect(ready(await a.view('panda', src, never))).toBe(2);
    expect(src.fetches).toBe(2);
  });

  it('blanks a good snapshot when the next fetch fails (as APF did)', async () => {
    const keys = new Keys(`w${++prefixSeq}`);
    const a = await instance(keys, 'a');
    const src = new FakeWms(1, 60);
    expect(ready(await a.view('panda', src, never))).toBe(1);
    await sleep(1100);
    src.next = () => Promise.reject(new ApfError('APF_ERR_HTTP_TIMEOUT', 'no answer'));
    expect(ready(await a.view('panda', src, never))).toBe('unavailable: APF_ERR_HTTP_TIMEOUT: no answer');
  });

  it('keeps sites: null through Redis', async () => {
    const keys = new Keys(`w${++prefixSeq}`);
    const [a, b] = [await instance(keys, 'a'), await instance(keys, 'b')];
    const src = new FakeWms(5, 10);
    src.next = (n) => Promise.resolve(snapshot(n, null));
    const va = await a.view('panda', src, never);
    const vb = await b.view('panda', src, never);
    expect(va.available && vb.available).toBe(true);
    if (!va.available || !vb.available) return;
    expect(va.snapshot.sites).toBeNull();
    expect(vb.snapshot.sites).toBeNull();
    expect(vb.snapshot.queues).toEqual(va.snapshot.queues);
  });

  it('costs a handful of Redis commands for thousands of queue cycles per interval', async () => {
    const keys = new Keys(`w${++prefixSeq}`);
    // The daemon's default recheck period (1 s).
    const a = await instance(keys, 'a', 1000);
    const b = await instance(keys, 'b', 1000);
    const src = new FakeWms(30, 60);
    const stats = await client();
    await stats.config('RESETSTAT');
    // 5,000 cycles of instance a and 5,000 of instance b, in waves.
    for (let wave = 0; wave < 10; wave++) {
      await Promise.all(Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? a : b).view('panda', src, never)));
      await sleep(10);
    }
    const total = await commandCount(stats);
    expect(src.fetches).toBe(1);
    expect(total).toBeLessThanOrEqual(15);
    console.info(`10,000 view() calls on two instances: ${total} Redis commands`);
  });

  it('lets a loser keep the previous snapshot while the winner fetches, then picks up the new one', async () => {
    const keys = new Keys(`w${++prefixSeq}`);
    const [a, b] = [await instance(keys, 'a'), await instance(keys, 'b')];
    const src = new FakeWms(1, 30);
    expect(ready(await a.view('panda', src, never))).toBe(1);
    await sleep(1100);
    let release: () => void = () => undefined;
    src.gate = new Promise((r) => (release = r));
    const winner = b.view('panda', src, never);
    await waitUntil('the second fetch to start', () => (src.fetches === 2 ? true : undefined), { timeoutMs: 2000 });
    // a lost the lock: it gets the previous snapshot, which is past the interval but within maxage.
    const during = await a.view('panda', src, never);
    expect(ready(during)).toBe(1);
    expect(unusableReason(during, Date.now(), 'WMS')).toBeNull();
    release();
    expect(ready(await winner)).toBe(2);
    await sleep(30);
    expect(ready(await a.view('panda', src, never))).toBe(2);
    expect(src.fetches).toBe(2);
  });

  it('stops waiting when the cycle is cancelled, while the shared fetch completes for the others', async () => {
    const keys = new Keys(`w${++prefixSeq}`);
    const [a, b] = [await instance(keys, 'a'), await instance(keys, 'b')];
    const src = new FakeWms(5, 10);
    src.delayMs = 300;
    const ac = new AbortController();
    const pending = a.view('panda', src, ac.signal);
    await sleep(50);
    ac.abort();
    expect(await pending).toEqual({ available: false, key: 'panda', reason: 'the cycle was cancelled' });
    const vb = await waitUntil('the shared fetch to be stored', async () => {
      const v = await b.view('panda', src, never);
      return v.available ? v : undefined;
    }, { timeoutMs: 3000, intervalMs: 25 });
    expect(ready(vb)).toBe(1);
    expect(ready(await a.view('panda', src, AbortSignal.timeout(1000)))).toBe(1);
    expect(src.fetches).toBe(1);
    const aborted = AbortSignal.abort();
    expect((await a.view('panda', src, aborted)).available).toBe(false);
  });

  it('never throws: Redis errors make the source unavailable with the reason', async () => {
    const keys = new Keys(`w${++prefixSeq}`);
    const s = new SharedWms(await client(await freePort()), keys, 'a', silentLogger());
    shared.push(s);
    const src = new FakeWms(5, 10);
    const v = await s.view('panda', src, never);
    expect(v.available).toBe(false);
    if (!v.available) expect(v.reason).toMatch(/^APF_ERR_REDIS: /);
    expect(src.fetches).toBe(0);
  });
});
