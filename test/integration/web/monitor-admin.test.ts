/**
 * The monitor's admin buttons over HTTP (undici) against a real redis-server: log-in with the
 * admin token sets an HttpOnly, SameSite=Strict cookie holding an HMAC (never the token); the
 * `/ui/…` forms need that cookie, a CSRF field and our origin, act through src/core/admin.ts
 * (Redis state and the admin log change) and redirect back; log-out clears the cookie.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminActions } from '../../../src/coordination/control.ts';
import { InstanceRegistry } from '../../../src/coordination/instances.ts';
import type { DrillReport } from '../../../src/core/drill.ts';
import { launchDrill } from '../../../src/web/drills.ts';
import { monitorRoutes } from '../../../src/web/routes/monitor.ts';
import { SESSION_COOKIE, SESSION_TTL_MS, issueSession } from '../../../src/web/views/session.ts';
import { useRedis } from '../../helpers/redis-server.ts';
import { waitUntil } from '../../helpers/processes.ts';
import { BNL, CERN, TOKEN, WEIRD, startMonitorFixture, type MonitorFixture } from './monitor-fixture.ts';
import { attr, queueRows, text } from './monitor-html.ts';
import { serveWeb } from '../../helpers/web-server.ts';

interface Reply {
  status: number;
  body: string;
  location: string | undefined;
  cookie: string | undefined;
}

async function call(base: string, path: string, o: { method?: 'GET' | 'POST'; cookie?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.cookie !== undefined) headers['cookie'] = o.cookie;
  let body: string | undefined;
  if (o.form !== undefined) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
    body = new URLSearchParams(o.form).toString();
  }
  const r = await request(`${base}${path}`, { method: o.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, headersTimeout: 10_000 });
  const setCookie = r.headers['set-cookie'];
  return {
    status: r.statusCode,
    body: await r.body.text(),
    location: r.headers['location'] as string | undefined,
    cookie: Array.isArray(setCookie) ? setCookie.join('\n') : setCookie,
  };
}

/** The CSRF field and back path of the first form posting to `action` on a page. */
function formOf(html: string, action: string): { csrf: string; back: string } {
  const quoted = action.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`<form class="act" method="post" action="${quoted}">([\\s\\S]*?)</form>`).exec(html);
  if (m === null) throw new Error(`no form posting to ${action}`);
  return { csrf: attr(m[1] as string, /<input [^>]*name="csrf"[^>]*>/, 'value') ?? '', back: attr(m[1] as string, /<input [^>]*name="back"[^>]*>/, 'value') ?? '' };
}

describe('web/routes/monitor (admin buttons)', () => {
  const server = useRedis();
  let f: MonitorFixture;
  let cookie: string;

  beforeAll(async () => {
    f = await startMonitorFixture(server().url);
  });
  afterAll(async () => {
    await f?.close();
  });

  it('refuses a wrong token at /login and sets no cookie', async () => {
    const page = await call(f.base, '/login?next=%2Fqueues');
    expect(page.status).toBe(200);
    expect(page.body).toContain('<input type="hidden" name="next" value="/queues">');
    const r = await call(f.base, '/login', { form: { token: 'wrong', next: '/queues' } });
    expect(r.status).toBe(403);
    expect(r.cookie).toBeUndefined();
    expect(text(r.body)).toContain('wrong admin token');
  });

  it('logs in with the token: HttpOnly SameSite=Strict cookie holding an HMAC, 303 to a local next', async () => {
    const r = await call(f.base, '/login', { form: { token: TOKEN, next: '/queues?sort=pending' } });
    expect(r.status).toBe(303);
    expect(r.location).toBe('/queues?sort=pending');
    const set = r.cookie ?? '';
    expect(set).toMatch(new RegExp(`^${SESSION_COOKIE}=\\d+\\.[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_TTL_MS / 1000}$`));
    expect(set).not.toContain(TOKEN);
    expect(set).not.toContain(Buffer.from(TOKEN).toString('base64url'));
    cookie = set.split(';')[0] as string;
    // an off-site `next` is not followed
    const off = await call(f.base, '/login', { form: { token: TOKEN, next: '//evil.example.org/x' } });
    expect(off.location).toBe('/');
  });

  it('shows admin buttons only to a visitor with a valid session', async () => {
    const anon = await call(f.base, '/queues');
    expect(anon.body).not.toContain('action="/ui/');
    const r = await call(f.base, '/queues', { cookie });
    const rows = queueRows(r.body);
    expect(rows.get(CERN)).toContain(`action="/ui/queues/${CERN}/pause"`);
    expect(rows.get(CERN)).toContain(`action="/ui/queues/${CERN}/run"`);
    expect(rows.get(BNL)).toContain(`action="/ui/queues/${BNL}/resume"`);
    expect(rows.get(WEIRD)).toContain(`action="/ui/queues/${encodeURIComponent(WEIRD)}/pause"`);
    expect(text(r.body)).toContain('admin log out');
    const home = await call(f.base, '/', { cookie });
    expect(home.body).toContain('action="/ui/instances/node1/drain"');
    expect(home.body).toContain('action="/ui/instances/node2/undrain"');
    expect(home.body).toContain('action="/ui/reload"');
    expect(home.body).toContain('action="/ui/drill"');
    // a tampered or expired session is no session
    const [name, value] = cookie.split('=') as [string, string];
    const tampered = `${name}=${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`;
    expect((await call(f.base, '/queues', { cookie: tampered })).body).not.toContain('action="/ui/');
    const expired = `${SESSION_COOKIE}=${issueSession(TOKEN, f.now - SESSION_TTL_MS - 1000)}`;
    expect((await call(f.base, '/queues', { cookie: expired })).body).not.toContain('action="/ui/');
    const otherToken = `${SESSION_COOKIE}=${issueSession('another-token', f.now)}`;
    expect((await call(f.base, '/queues', { cookie: otherToken })).body).not.toContain('action="/ui/');
  });

  it('refuses /ui posts without the session, without the CSRF field, or from another origin', async () => {
    const page = await call(f.base, '/queues', { cookie });
    const { csrf } = formOf(page.body, `/ui/queues/${CERN}/pause`);
    const path = `/ui/queues/${CERN}/pause`;
    expect((await call(f.base, path, { form: { csrf, back: '/queues' } })).status).toBe(401);
    expect((await call(f.base, path, { cookie, form: { back: '/queues' } })).status).toBe(403);
    expect((await call(f.base, path, { cookie, form: { csrf: `${csrf.slice(0, -1)}x`, back: '/queues' } })).status).toBe(403);
    expect((await call(f.base, path, { cookie, form: { csrf, back: '/queues' }, headers: { origin: 'http://evil.example.org' } })).status).toBe(403);
    expect((await call(f.base, path, { cookie, form: { csrf }, headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    expect(await f.state.isPaused(CERN)).toBe(false);
  });

  it('pauses and resumes a queue cluster-wide, records who did it, and redirects back', async () => {
    const page = await call(f.base, '/queues?sort=pending&dir=desc', { cookie });
    const form = formOf(page.body, `/ui/queues/${CERN}/pause`);
    expect(form.back).toBe('/queues?sort=pending&dir=desc');
    const r = await call(f.base, `/ui/queues/${CERN}/pause`, { cookie, form: { ...form }, headers: { origin: f.base } });
    expect(r.status).toBe(303);
    expect(r.location).toBe('/queues?sort=pending&dir=desc');
    expect(await f.state.isPaused(CERN)).toBe(true);
    const log = await adminActions(f.redis, f.keys, 1);
    expect(log[0]).toMatchObject({ action: 'pause', target: CERN, who: 'monitor@127.0.0.1' });
    const after = await call(f.base, '/queues', { cookie });
    expect(text(queueRows(after.body).get(CERN) ?? '')).toContain(`${CERN} paused`);
    const resume = formOf(after.body, `/ui/queues/${CERN}/resume`);
    expect((await call(f.base, `/ui/queues/${CERN}/resume`, { cookie, form: { ...resume } })).status).toBe(303);
    expect(await f.state.isPaused(CERN)).toBe(false);
  });

  it('acts on a hostile queue name through its encoded path', async () => {
    const enc = encodeURIComponent(WEIRD);
    const page = await call(f.base, `/queues/${enc}`, { cookie });
    const form = formOf(page.body, `/ui/queues/${enc}/pause`);
    expect(form.back).toBe(`/queues/${enc}`);
    const r = await call(f.base, `/ui/queues/${enc}/pause`, { cookie, form: { ...form } });
    expect(r.status).toBe(303);
    expect(r.location).toBe(`/queues/${enc}`);
    expect(await f.state.isPaused(WEIRD)).toBe(true);
  });

  it('queues a cycle now, drains and undrains an instance, asks for a reload', async () => {
    const page = await call(f.base, `/queues/${CERN}`, { cookie });
    const run = formOf(page.body, `/ui/queues/${CERN}/run`);
    expect((await call(f.base, `/ui/queues/${CERN}/run`, { cookie, form: { ...run } })).status).toBe(303);
    expect((await adminActions(f.redis, f.keys, 1))[0]).toMatchObject({ action: 'run', target: CERN });
    const home = await call(f.base, '/', { cookie });
    const drain = formOf(home.body, '/ui/instances/node1/drain');
    expect((await call(f.base, '/ui/instances/node1/drain', { cookie, form: { ...drain } })).status).toBe(303);
    const registry = new InstanceRegistry(f.redis, f.keys, { deadAfterMs: 3_600_000 });
    expect((await registry.list()).find((i) => i.id === 'node1')?.state).toBe('draining');
    const again = await call(f.base, '/', { cookie });
    const undrain = formOf(again.body, '/ui/instances/node1/undrain');
    expect((await call(f.base, '/ui/instances/node1/undrain', { cookie, form: { ...undrain } })).status).toBe(303);
    expect((await registry.list()).find((i) => i.id === 'node1')?.state).toBe('active');
    const reload = formOf(again.body, '/ui/reload');
    expect((await call(f.base, '/ui/reload', { cookie, form: { ...reload } })).status).toBe(303);
    expect((await adminActions(f.redis, f.keys, 1))[0]).toMatchObject({ action: 'reload', target: '*' });
  });

  it('answers an error page with the operation\'s status for an unknown target', async () => {
    const page = await call(f.base, '/queues', { cookie });
    const { csrf } = formOf(page.body, `/ui/queues/${CERN}/pause`);
    const r = await call(f.base, '/ui/queues/NOPE/pause', { cookie, form: { csrf, back: '/queues' } });
    expect(r.status).toBe(404);
    expect(text(r.body)).toContain('no queue named "NOPE" in the configuration');
    const i = await call(f.base, '/ui/instances/ghost/drain', { cookie, form: { csrf, back: '/' } });
    expect(i.status).toBe(404);
  });

  it('starts a drill in the background and shows its outcome on the global page', async () => {
    const home = await call(f.base, '/', { cookie });
    const form = formOf(home.body, '/ui/drill');
    // node3 is offline: the drill refuses it, and the page says so
    const r = await call(f.base, '/ui/drill', { cookie, form: { ...form, instance: 'node3' } });
    expect(r.status).toBe(303);
    const shown = await waitUntil('the drill outcome', async () => {
      const t = text((await call(f.base, '/', { cookie })).body);
      return t.includes('failed:') ? t : undefined;
    }, { timeoutMs: 10_000, intervalMs: 100 });
    expect(shown).toMatch(/failed: APF_ERR_USAGE: instance node3 is not alive/);
    await waitUntil('the drill in the admin log', async () => ((await adminActions(f.redis, f.keys, 1))[0]?.action === 'drill' ? true : undefined), { timeoutMs: 5000, intervalMs: 50 });
    expect((await adminActions(f.redis, f.keys, 1))[0]).toMatchObject({ action: 'drill', target: 'node3', who: 'monitor@127.0.0.1' });
  });

  it('shares one drill store with the admin API: one drill at a time, the latest shown whichever door started it', async () => {
    // a drill started as POST /api/v1/drills starts it (same store, same function), held running
    let finish: (r: DrillReport) => void = () => undefined;
    const held = new Promise<DrillReport>((resolve) => (finish = resolve));
    const api = { redis: f.redis, keys: f.keys, config: f.config, who: 'token@web:127.0.0.1' };
    const run = await launchDrill(f.deps, api, { instance: 'node2' }, () => held);
    expect(run.state).toBe('running');
    const home = await call(f.base, '/', { cookie });
    expect(text(home.body)).toContain('a drill is running');
    expect(text(home.body)).toContain('by token@web:127.0.0.1');
    const refused = await call(f.base, '/ui/drill', { cookie, form: { ...formOf(home.body, '/ui/drill'), instance: '' } });
    expect(refused.status).toBe(409);
    expect(text(refused.body)).toContain(`drill ${run.id} (started by token@web:127.0.0.1) is still running on this instance`);
    finish({ victim: 'node2', method: 'freeze', startedAt: f.now, endedAt: f.now + 1000, queues: [], maxGapMs: 4200, p50GapMs: 2100, missed: [], duplicates: [], restored: true, note: 'stub report' });
    const shown = await waitUntil('the API drill outcome on the page', async () => {
      const t = text((await call(f.base, '/', { cookie })).body);
      return t.includes('last drill (freeze node2') ? t : undefined;
    }, { timeoutMs: 10_000, intervalMs: 100 });
    expect(shown).toContain('stub report');
  });

  it('logs out by clearing the cookie', async () => {
    const r = await call(f.base, '/logout', { method: 'POST', cookie, form: {} });
    expect(r.status).toBe(303);
    expect(r.location).toBe('/');
    expect(r.cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0$`));
  });

  it('offers no log-in and refuses every button when the server has no admin token', async () => {
    const off = await serveWeb({ ...f.deps, adminToken: () => undefined }, monitorRoutes);
    const base = off.base;
    try {
      expect((await call(base, '/queues', { cookie })).body).not.toContain('log in');
      expect(text((await call(base, '/login')).body)).toContain('admin actions are disabled');
      expect((await call(base, '/login', { form: { token: TOKEN } })).status).toBe(403);
      expect((await call(base, `/ui/queues/${CERN}/pause`, { cookie, form: { csrf: 'x' } })).status).toBe(403);
    } finally {
      await off.close();
    }
  });
});
