/**
 * The admin API against a real redis-server: bearer-token checks (401 with WWW-Authenticate, 403
 * wrong token, 403 when admin is disabled), 413 oversized bodies, 400 malformed drill bodies, 404
 * unknown targets; pause/resume/run/drain/undrain/reload act on the real stores and are recorded
 * in the admin log with who; drills start in the background (202) and their progress and report
 * are readable here and, through Redis, from another server.
 */
import { Queue } from 'bullmq';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminActions } from '../../../src/coordination/control.ts';
import type { CycleJobData } from '../../../src/coordination/dispatch.ts';
import { InstanceRegistry } from '../../../src/coordination/instances.ts';
import type { AdminContext, AdminResult } from '../../../src/core/admin.ts';
import type { DrillOptions, DrillReport } from '../../../src/core/drill.ts';
import type { WebDeps } from '../../../src/web/deps.ts';
import { type DrillRun, type DrillStarter } from '../../../src/web/routes/admin.ts';
import { Keys } from '../../../src/coordination/keys.ts';
import { allRoutes } from '../../../src/web/routes/index.ts';
import { useRedis } from '../../helpers/redis-server.ts';
import { waitUntil } from '../../helpers/processes.ts';
import { CERN, TOKEN, WEIRD, startMonitorFixture, type MonitorFixture } from './monitor-fixture.ts';
import { serveWeb, type ServedWeb } from '../../helpers/web-server.ts';

const AUTH = { authorization: `Bearer ${TOKEN}` };

function serve(deps: WebDeps, startDrill?: DrillStarter): Promise<ServedWeb> {
  return serveWeb(deps, allRoutes(startDrill === undefined ? {} : { startDrill }));
}

/** Any answer of these routes: an admin result, a drill (or its id), or an error. */
type Body = Partial<AdminResult> & Partial<DrillRun> & { error?: string; href?: string };

async function call(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  opts: { headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: Body }> {
  const r = await request(`${base}${path}`, { method, headers: opts.headers ?? {}, ...(opts.body === undefined ? {} : { body: opts.body }) });
  const text = await r.body.text();
  return { status: r.statusCode, headers: r.headers, body: (text === '' ? {} : JSON.parse(text)) as Body };
}

const q = (name: string): string => encodeURIComponent(name);

/** A drill starter whose end the test decides. */
function controllableDrill(): { start: DrillStarter; calls: Array<{ who: string; opts: DrillOptions }>; finish: (r: DrillReport) => void; fail: (e: Error) => void } {
  const calls: Array<{ who: string; opts: DrillOptions }> = [];
  let settle: { resolve: (r: DrillReport) => void; reject: (e: Error) => void } | undefined;
  return {
    calls,
    start: (ctx: AdminContext, opts: DrillOptions) => {
      calls.push({ who: ctx.who, opts });
      opts.progress?.('freezing node2 (pid 100 on node2.example.org); waiting up to 5 s');
      return new Promise<DrillReport>((resolve, reject) => (settle = { resolve, reject }));
    },
    finish: (r) => settle?.resolve(r),
    fail: (e) => settle?.reject(e),
  };
}

function report(now: number): DrillReport {
  return {
    victim: 'node2',
    method: 'freeze',
    startedAt: now,
    endedAt: now + 4000,
    queues: [{ queue: CERN, gapMs: 3500, instance: 'node1', intervalMs: 300_000, withinBound: true }],
    maxGapMs: 3500,
    p50GapMs: 3500,
    missed: [],
    duplicates: [],
    restored: true,
    note: 'node2 thawed',
  };
}

describe('web/routes/admin', () => {
  const redisServer = useRedis();
  let fx: MonitorFixture;
  let web: { base: string; close: () => Promise<void> };
  const drill = controllableDrill();

  beforeAll(async () => {
    fx = await startMonitorFixture(redisServer().url);
    web = await serve(fx.deps, drill.start);
  });
  afterAll(async () => {
    await web?.close();
    await fx?.close();
  });

  it('needs the bearer token: 401 with WWW-Authenticate without it, 403 with a wrong one', async () => {
    const none = await call(web.base, 'POST', `/api/v1/queues/${q(CERN)}/pause`);
    expect(none.status).toBe(401);
    expect(String(none.headers['www-authenticate'])).toMatch(/^Bearer realm=/);
    const wrong = await call(web.base, 'POST', `/api/v1/queues/${q(CERN)}/pause`, { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(403);
    expect(await fx.state.isPaused(CERN)).toBe(false);
  });

  it('answers 403 to every admin route when admin is disabled (no token file)', async () => {
    const off = await serve({ ...fx.deps, adminToken: () => undefined });
    try {
      for (const path of [`/api/v1/queues/${q(CERN)}/pause`, '/api/v1/reload', '/api/v1/drills', '/api/v1/instances/node1/drain']) {
        const r = await call(off.base, 'POST', path, { headers: AUTH });
        expect(r.status, path).toBe(403);
        expect(r.body.error, path).toMatch(/disabled/);
      }
      expect(await fx.state.isPaused(CERN)).toBe(false);
    } finally {
      await off.close();
    }
  });

  it('refuses bodies over 64 KiB with 413 and does nothing', async () => {
    const big = 'x'.repeat(65 * 1024);
    const r = await call(web.base, 'POST', `/api/v1/queues/${q(CERN)}/pause`, { headers: { ...AUTH, 'content-type': 'text/plain' }, body: big });
    expect(r.status).toBe(413);
    expect(await fx.state.isPaused(CERN)).toBe(false);
    const d = await call(web.base, 'POST', '/api/v1/drills', { headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ instance: big }) });
    expect(d.status).toBe(413);
    expect(drill.calls).toHaveLength(0);
  });

  it('pauses and resumes a queue with a name full of "/", ":", spaces and quotes, recording who', async () => {
    const r = await call(web.base, 'POST', `/api/v1/queues/${q(WEIRD)}/pause`, { headers: AUTH });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ action: 'pause', target: WEIRD, message: `queue ${WEIRD} paused cluster-wide` });
    expect(await fx.state.isPaused(WEIRD)).toBe(true);
    const log = await adminActions(fx.redis, fx.keys, 1);
    expect(log[0]).toMatchObject({ who: 'token@web:127.0.0.1', action: 'pause', target: WEIRD });
    expect(log[0]?.at).toBeGreaterThan(Date.now() - 60_000);
    expect((await fx.redis.hget(fx.keys.queueState(WEIRD), 'pausedBy')) ?? '').toBe('token@web:127.0.0.1');
    const resumed = await call(web.base, 'POST', `/api/v1/queues/${q(WEIRD)}/resume`, { headers: AUTH });
    expect(resumed.body.action).toBe('resume');
    expect(await fx.state.isPaused(WEIRD)).toBe(false);
  });

  it('answers 404 for unknown queues and instances, and records the refusal', async () => {
    const r = await call(web.base, 'POST', `/api/v1/queues/${q('no/such')}/pause`, { headers: AUTH });
    expect(r.status).toBe(404);
    expect(r.body.error).toContain('no/such');
    const log = await adminActions(fx.redis, fx.keys, 1);
    expect(log[0]).toMatchObject({ who: 'token@web:127.0.0.1', action: 'pause', target: 'no/such' });
    expect(log[0]?.result).toMatch(/^refused: 404/);
    const i = await call(web.base, 'POST', '/api/v1/instances/ghost/drain', { headers: AUTH });
    expect(i.status).toBe(404);
  });

  it('run queues a one-off cycle job for the queue', async () => {
    const bull = new Queue<CycleJobData>('cycles', { connection: fx.redis.duplicate(), prefix: fx.keys.bullPrefix });
    try {
      const before = await bull.getWaitingCount();
      const r = await call(web.base, 'POST', `/api/v1/queues/${q(WEIRD)}/run`, { headers: AUTH });
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ action: 'run', target: WEIRD });
      const waiting = await bull.getWaiting();
      expect(waiting.length).toBe(before + 1);
      expect(waiting.map((j) => j.data.queue)).toContain(WEIRD);
    } finally {
      await bull.close();
      await bull.disconnect();
    }
  });

  it('drains and undrains an instance through the registry', async () => {
    const registry = new InstanceRegistry(fx.redis, fx.keys, { deadAfterMs: 30_000 });
    const r = await call(web.base, 'POST', '/api/v1/instances/node1/drain', { headers: AUTH });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ action: 'drain', target: 'node1', message: 'instance node1 draining' });
    expect((await registry.get('node1'))?.state).toBe('draining');
    const u = await call(web.base, 'POST', '/api/v1/instances/node1/undrain', { headers: AUTH });
    expect(u.body.action).toBe('undrain');
    expect((await registry.get('node1'))?.state).toBe('active');
  });

  it('reload publishes the request and is recorded', async () => {
    const r = await call(web.base, 'POST', '/api/v1/reload', { headers: AUTH });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ action: 'reload', target: '*' });
    expect(r.body.message).toMatch(/^reload requested; \d+ instance connection\(s\) received it$/);
    expect((await adminActions(fx.redis, fx.keys, 1))[0]).toMatchObject({ action: 'reload', who: 'token@web:127.0.0.1' });
  });

  it('validates drill bodies with 400 naming the field', async () => {
    const h = { ...AUTH, 'content-type': 'application/json' };
    const malformed = await call(web.base, 'POST', '/api/v1/drills', { headers: h, body: '{"instance": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatch(/malformed JSON/);
    const wrongType = await call(web.base, 'POST', '/api/v1/drills', { headers: h, body: '{"timeoutSeconds": "soon"}' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.error).toContain('field "timeoutSeconds"');
    const badInstance = await call(web.base, 'POST', '/api/v1/drills', { headers: h, body: '{"instance": 7}' });
    expect(badInstance.body.error).toContain('field "instance"');
    const unknown = await call(web.base, 'POST', '/api/v1/drills', { headers: h, body: '{"victim": "node2"}' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toContain('victim');
    const notObject = await call(web.base, 'POST', '/api/v1/drills', { headers: h, body: '[1]' });
    expect(notObject.status).toBe(400);
    expect(drill.calls).toHaveLength(0);
  });

  it('starts a drill in the background (202), shows its progress, then its report, on any instance', async () => {
    const r = await call(web.base, 'POST', '/api/v1/drills', { headers: { ...AUTH, 'content-type': 'application/json' }, body: '{"instance":"node2","timeoutSeconds":5}' });
    expect(r.status).toBe(202);
    const id = r.body.id ?? '';
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.headers['location']).toBe(`/api/v1/drills/${id}`);
    expect(drill.calls).toHaveLength(1);
    expect(drill.calls[0]?.who).toBe('token@web:127.0.0.1');
    expect(drill.calls[0]?.opts).toMatchObject({ instance: 'node2', timeoutMs: 5000 });

    const running = await call(web.base, 'GET', `/api/v1/drills/${id}`);
    expect(running.status).toBe(200);
    expect(running.body).toMatchObject({ id, state: 'running', runner: 'node1', by: 'token@web:127.0.0.1', request: { instance: 'node2', timeoutSeconds: 5 }, report: null });
    expect(running.body.progress).toEqual(['freezing node2 (pid 100 on node2.example.org); waiting up to 5 s']);
    // one drill at a time on an instance
    const second = await call(web.base, 'POST', '/api/v1/drills', { headers: AUTH });
    expect(second.status).toBe(409);

    drill.finish(report(fx.now));
    await waitUntil('the drill is done', async () => ((await call(web.base, 'GET', `/api/v1/drills/${id}`)).body.state === 'done' ? true : undefined), { timeoutMs: 5000 });
    const done = await call(web.base, 'GET', `/api/v1/drills/${id}`);
    expect(done.body.report).toMatchObject({ victim: 'node2', maxGapMs: 3500, missed: [] });
    expect(done.body.endedAt).toBe(fx.now);

    // another instance's server (no shared memory) answers from Redis
    const other = await serve({ ...fx.deps, instanceId: 'node2' });
    try {
      await waitUntil('the drill is done in Redis', async () => ((await call(other.base, 'GET', `/api/v1/drills/${id}`)).body.state === 'done' ? true : undefined), { timeoutMs: 5000 });
      const remote = await call(other.base, 'GET', `/api/v1/drills/${id}`);
      expect(remote.body).toEqual(done.body);
      expect((await call(other.base, 'GET', '/api/v1/drills/0000-nope')).status).toBe(404);
    } finally {
      await other.close();
    }
    expect(await fx.redis.ttl(new Keys(fx.keys.prefix).drill(id))).toBeGreaterThan(6 * 86_400);
    const log = await adminActions(fx.redis, fx.keys, 5);
    expect(log.filter((a) => a.action === 'drill').map((a) => a.result)).toEqual([
      expect.stringMatching(new RegExp(`^drill ${id} done: victim node2, max gap 3.5 s`)),
      `refused: 409 drill ${id} (started by token@web:127.0.0.1) is still running on this instance`,
      `started drill ${id}`,
    ]);
  });

  it('reports a drill that fails', async () => {
    const r = await call(web.base, 'POST', '/api/v1/drills', { headers: AUTH });
    expect(r.status).toBe(202);
    expect(drill.calls.at(-1)?.opts.instance).toBeUndefined();
    drill.fail(new Error('a drill needs at least 2 live instances (found 1)'));
    await waitUntil('the drill failed', async () => ((await call(web.base, 'GET', `/api/v1/drills/${r.body.id ?? ''}`)).body.state === 'failed' ? true : undefined), { timeoutMs: 5000 });
    const failed = await call(web.base, 'GET', `/api/v1/drills/${r.body.id ?? ''}`);
    expect(failed.body).toMatchObject({ state: 'failed', report: null, error: 'a drill needs at least 2 live instances (found 1)' });
  });
});
