/**
 * The read-only JSON API against a real redis-server holding realistic state (written by the real
 * stores: registry, contributions, fenced commits under real leases, pause): every route's status
 * and shape, the monitor columns computed from the stored records, percent-encoded queue names,
 * 404 for unknown names, 400 for bad parameters, 503 when Redis is unreachable.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueSourceShare } from '../../../src/coordination/cluster-view.ts';
import { recordAdminAction, type AdminAction } from '../../../src/coordination/control.ts';
import type { CycleRecord } from '../../../src/coordination/records.ts';
import { createRedis } from '../../../src/coordination/redis.ts';
import type { InstanceStatus, StatusReport } from '../../../src/core/status.ts';
import type { WebDeps } from '../../../src/web/deps.ts';
import type { ApiQueue } from '../../../src/web/routes/api.ts';
import { allRoutes } from '../../../src/web/routes/index.ts';
import { freePort } from '../../helpers/free-port.ts';
import { useRedis } from '../../helpers/redis-server.ts';
import { BNL, CERN, WEIRD, startMonitorFixture, type MonitorFixture } from './monitor-fixture.ts';
import { serveWeb, type ServedWeb } from '../../helpers/web-server.ts';

const MIN = 60_000;

function serve(deps: WebDeps): Promise<ServedWeb> {
  return serveWeb(deps, allRoutes());
}

/** The JSON bodies the routes answer (what a client of the API sees). */
type Listed = InstanceStatus & { activity: number[]; recently: number; cycles: number };
interface InstancesBody {
  at: number;
  activityBucketMs: number;
  instances: Listed[];
}
interface InstanceBody {
  at: number;
  instance: Listed & { self: boolean; factoryId: string; adminEmail: string; links: Record<string, string | null> };
  queues: ApiQueue[];
}
interface QueuesBody {
  at: number;
  createdWindowMs: number;
  queues: ApiQueue[];
}
type Ranked = CycleRecord & { bindingStep: number };
interface QueueBody {
  queue: ApiQueue;
  pausedBy: string | null;
  stats: Record<string, number>;
  sources: QueueSourceShare[];
  last: Ranked | null;
  config: Record<string, string>;
}
interface HistoryBody {
  queue: string;
  limit: number;
  records: Ranked[];
}
type Sections = Record<string, Record<string, string>>;
interface ErrorBody {
  error: string;
}

async function get<T = ErrorBody>(base: string, path: string): Promise<{ status: number; type: string; body: T }> {
  const r = await request(`${base}${path}`);
  const text = await r.body.text();
  return { status: r.statusCode, type: String(r.headers['content-type']), body: (text === '' ? null : JSON.parse(text)) as T };
}

const q = (name: string): string => encodeURIComponent(name);

describe('web/routes/api', () => {
  const redisServer = useRedis();
  let fx: MonitorFixture;
  let web: { base: string; close: () => Promise<void> };

  beforeAll(async () => {
    fx = await startMonitorFixture(redisServer().url);
    web = await serve(fx.deps);
  });
  afterAll(async () => {
    await web?.close();
    await fx?.close();
  });

  it('GET /api/v1/cluster is the whole status report (apf status --json)', async () => {
    const r = await get<StatusReport>(web.base, '/api/v1/cluster');
    expect(r.status).toBe(200);
    expect(r.type).toMatch(/^application\/json/);
    expect(Object.keys(r.body).sort()).toEqual(['at', 'instances', 'queues', 'sources']);
    expect(r.body.at).toBe(fx.now);
    expect(r.body.instances.map((i) => [i.id, i.alive])).toEqual([
      ['node1', true],
      ['node2', true],
      ['node3', false],
    ]);
    expect(r.body.queues.map((x) => x.name)).toEqual([CERN, BNL, WEIRD]);
    expect(r.body.sources.map((s) => s.source).sort()).toEqual(['condor:local@node1', 'condor:local@node2']);
  });

  it('GET /api/v1/instances lists every instance with its activity', async () => {
    const r = await get<InstancesBody>(web.base, '/api/v1/instances');
    expect(r.status).toBe(200);
    expect(r.body.activityBucketMs).toBe(5 * MIN);
    const byId = new Map(r.body.instances.map((i) => [i.id, i]));
    expect([...byId.keys()]).toEqual(['node1', 'node2', 'node3']);
    const n2 = byId.get('node2');
    expect(n2).toMatchObject({ state: 'draining', alive: true, host: 'node2.example.org', webPort: 25880, configMismatch: false });
    expect(n2?.activity).toHaveLength(24);
    // node2 ran the odd-numbered CERN cycles; in the last 2 h those with pilots hold 10 each
    const expected = (fx.records.get(CERN) ?? []).filter((x) => x.instance === 'node2' && x.at >= fx.now - 2 * 60 * MIN).reduce((s, x) => s + x.jobIds.length, 0);
    expect(n2?.activity.reduce((s, v) => s + v, 0)).toBe(expected);
    expect(expected).toBeGreaterThan(0);
    expect(byId.get('node3')?.alive).toBe(false);
  });

  it('GET /api/v1/instances/:id is the instance view; unknown ids are 404 JSON', async () => {
    const r = await get<InstanceBody>(web.base, '/api/v1/instances/node1');
    expect(r.status).toBe(200);
    const i = r.body.instance;
    expect(i).toMatchObject({
      id: 'node1',
      self: true,
      version: '0.1.0',
      host: 'node1.example.org',
      webPort: 25880,
      configHash: 'hash-a',
      adminEmail: 'admins@example.org',
      factoryId: 'web-test',
      lastCycleAt: fx.now - 2 * MIN,
    });
    expect(i.startedAt).toBe(fx.now - 3 * 3_600_000);
    expect(i.links).toEqual({
      self: '/api/v1/instances/node1',
      logs: 'http://factory.example.org:25880/',
      config: '/api/v1/config',
      monitor: 'http://node1.example.org:25880/instances/node1',
    });
    // the weird queue's last cycle ran on node1, CERN's on node2
    expect(r.body.queues.map((x) => x.name)).toEqual([WEIRD]);
    const other = await get<InstanceBody>(web.base, '/api/v1/instances/node2');
    expect(other.body.instance.self).toBe(false);
    expect(other.body.queues.map((x) => x.name)).toEqual([CERN]);
    const missing = await get(web.base, '/api/v1/instances/nope');
    expect(missing.status).toBe(404);
    expect(missing.type).toMatch(/^application\/json/);
    expect(missing.body.error).toContain('nope');
  });

  it('GET /api/v1/queues has the status fields and the monitor columns', async () => {
    const r = await get<QueuesBody>(web.base, '/api/v1/queues');
    expect(r.status).toBe(200);
    expect(r.body.createdWindowMs).toBe(60 * MIN);
    const rows = new Map(r.body.queues.map((x) => [x.name, x]));
    const cern = rows.get(CERN) as ApiQueue;
    // cycles i = 18..29 ended within the hour; those with i % 3 !== 0 submitted 10 pilots each
    expect(cern.created).toBe(80);
    expect(cern).toMatchObject({
      enabled: true,
      paused: false,
      pending: 40,
      running: 120,
      done: 4,
      failed: 1,
      fault: 1,
      exiting: null,
      ready: 690,
      lastInstance: 'node2',
      lastOutcome: 'submitted',
      lastMsgAgeMs: 2 * MIN,
      blocked: null,
    });
    expect(cern.lastMsg).toBe('Ready:in=0,activated=690,pending=49,ret=641;MaxPerCycle:in=641,max=10,ret=10');
    expect(cern.lastCycle).toMatchObject({ instance: 'node2', outcome: 'submitted', ageMs: 2 * MIN });
    const weird = rows.get(WEIRD) as ApiQueue;
    expect(weird).toMatchObject({ created: 5, pending: 2, fault: 2, ready: 5, lastInstance: 'node1', lastOutcome: 'blocked' });
    expect(weird.blocked).toContain('is stale');
    const bnl = rows.get(BNL) as ApiQueue;
    expect(bnl).toMatchObject({ paused: true, lastCycle: null, created: 0, pending: 7, ready: null, lastMsg: null, lastInstance: null });
  });

  it('GET /api/v1/queues/:name round-trips a name with "/", ":", spaces and quotes', async () => {
    const r = await get<QueueBody>(web.base, `/api/v1/queues/${q(WEIRD)}`);
    expect(r.status).toBe(200);
    expect(r.body.queue.name).toBe(WEIRD);
    expect(r.body.queue.created).toBe(5);
    expect(r.body.config.wmsqueue).toBe('WEIRD');
    expect(r.body.sources).toHaveLength(1);
    expect(r.body.sources[0]).toMatchObject({ source: 'condor:local@node1', state: 'fresh', ageMs: 20_000, counts: { pending: 2, running: 1, done: 0, failed: 2 } });
    expect(r.body.last?.at).toBe(fx.now - 15 * MIN);
    expect(r.body.last?.outcome).toBe('blocked');
    // nothing changed n: no binding step
    expect(r.body.last?.bindingStep).toBe(-1);
    expect(r.body.stats).toMatchObject({ cycles: 3, submitted: 5 });
  });

  it('GET /api/v1/queues/:name gives the last record with its binding step, the sources and the pause', async () => {
    const cern = await get<QueueBody>(web.base, `/api/v1/queues/${q(CERN)}`);
    expect(cern.body.last?.steps.map((s) => s.plugin)).toEqual(['Ready', 'MaxPerCycle']);
    expect(cern.body.last?.bindingStep).toBe(1);
    expect(cern.body.sources.map((s) => [s.source, s.counts.pending]).sort()).toEqual([
      ['condor:local@node1', 30],
      ['condor:local@node2', 10],
    ]);
    const bnl = await get<QueueBody>(web.base, `/api/v1/queues/${q(BNL)}`);
    expect(bnl.body).toMatchObject({ pausedBy: 'alice@cli', last: null });
    expect(bnl.body.queue.paused).toBe(true);
    const missing = await get(web.base, `/api/v1/queues/${q('no/such queue')}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error).toContain('no/such queue');
  });

  it('GET /api/v1/queues/:name/history returns records newest first, each with its binding step', async () => {
    const all = await get<HistoryBody>(web.base, `/api/v1/queues/${q(CERN)}/history`);
    expect(all.status).toBe(200);
    expect(all.body.limit).toBe(50);
    expect(all.body.records).toHaveLength(30);
    const ats = all.body.records.map((x) => x.at);
    expect(ats).toEqual([...ats].sort((a, b) => b - a));
    expect(ats[0]).toBe(fx.now - 2 * MIN);
    const two = await get<HistoryBody>(web.base, `/api/v1/queues/${q(CERN)}/history?limit=2`);
    expect(two.body.records.map((x) => x.cycleId)).toEqual(all.body.records.slice(0, 2).map((x) => x.cycleId));
    // i = 29: Ready 0 → 641 then MaxPerCycle 641 → 10; i = 27 (no pilots, same steps shape)
    expect(two.body.records.map((x) => x.bindingStep)).toEqual([1, 1]);
    const weird = await get<HistoryBody>(web.base, `/api/v1/queues/${q(WEIRD)}/history?limit=10`);
    expect(weird.body.queue).toBe(WEIRD);
    expect(weird.body.records.map((x) => x.jobIds.length)).toEqual([0, 2, 3]);
    expect((await get(web.base, `/api/v1/queues/${q(CERN)}/history?limit=abc`)).status).toBe(400);
    expect((await get(web.base, `/api/v1/queues/${q(CERN)}/history?limit=0`)).status).toBe(400);
    expect((await get(web.base, `/api/v1/queues/${q('nope')}/history`)).status).toBe(404);
  });

  it('GET /api/v1/config is the effective configuration as check-config --print', async () => {
    const r = await get<Sections>(web.base, '/api/v1/config');
    expect(r.status).toBe(200);
    expect(Object.keys(r.body)).toEqual([CERN, BNL, WEIRD]);
    expect(r.body[WEIRD]).toMatchObject({ wmsqueue: 'WEIRD', schedplugin: 'Ready, MaxPerCycle', 'apfqueue.sleep': '300' });
    const factory = await get<Sections>(web.base, '/api/v1/config?file=factory');
    expect(factory.body['Factory']?.['factoryId']).toBe('web-test');
    const auth = await get(web.base, '/api/v1/config?file=auth');
    expect(auth.status).toBe(400);
    expect(auth.body.error).toContain('factory, queues, monitor, mappings');
  });

  it('GET /api/v1/admin-log lists admin actions newest first', async () => {
    await recordAdminAction(fx.redis, fx.keys, { who: 'alice@cli', action: 'pause', target: BNL, at: fx.now - 1000, result: 'ok' });
    await recordAdminAction(fx.redis, fx.keys, { who: 'token@web:127.0.0.1', action: 'reload', target: '*', at: fx.now, result: 'ok' });
    const r = await get<{ actions: AdminAction[] }>(web.base, '/api/v1/admin-log');
    expect(r.status).toBe(200);
    expect(r.body.actions.slice(0, 2).map((a) => [a.action, a.who])).toEqual([
      ['reload', 'token@web:127.0.0.1'],
      ['pause', 'alice@cli'],
    ]);
    expect((await get<{ actions: AdminAction[] }>(web.base, '/api/v1/admin-log?limit=1')).body.actions).toHaveLength(1);
  });

  it('HEAD works on read routes and a POST to one is 405', async () => {
    const head = await request(`${web.base}/api/v1/cluster`, { method: 'HEAD' });
    await head.body.text();
    expect(head.statusCode).toBe(200);
    const post = await request(`${web.base}/api/v1/queues`, { method: 'POST' });
    await post.body.text();
    expect(post.statusCode).toBe(405);
  });

  it('answers 503 JSON when its Redis is unreachable', async () => {
    const port = await freePort();
    const dead = createRedis({ ...fx.config.factory.cluster.redis, url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 500 }, { role: 'dead', env: {} });
    const down = await serve({ ...fx.deps, redis: dead });
    try {
      for (const path of ['/api/v1/cluster', '/api/v1/queues', `/api/v1/queues/${q(CERN)}/history`, '/api/v1/admin-log']) {
        const r = await get(down.base, path);
        expect(r.status, path).toBe(503);
        expect(r.body.error, path).toMatch(/Redis unavailable/);
      }
    } finally {
      await down.close();
      dead.disconnect();
    }
  });
});
