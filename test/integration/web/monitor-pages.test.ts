/**
 * The monitor's HTML pages over HTTP (undici) against a real redis-server holding state written
 * by the real stores: the global view, the queue table (columns, sorting, filtering), the queue
 * page (plot, decision trace, sources, pilot log links), the instance page, escaping of a hostile
 * queue name everywhere, 404s and a 503 page when Redis is unreachable.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../../src/coordination/redis.ts';
import type { CycleRecord } from '../../../src/coordination/records.ts';
import { monitorRoutes } from '../../../src/web/routes/monitor.ts';
import { freePort } from '../../helpers/free-port.ts';
import { useRedis } from '../../helpers/redis-server.ts';
import { BNL, CERN, WEIRD, startMonitorFixture, type MonitorFixture } from './monitor-fixture.ts';
import { attr, cell, cellHtml, queueRows, text } from './monitor-html.ts';
import { serveWeb } from '../../helpers/web-server.ts';

const HOUR = 3_600_000;

async function get(f: MonitorFixture, path: string): Promise<{ status: number; body: string; type: string; csp: string }> {
  const r = await request(`${f.base}${path}`, { headersTimeout: 10_000, bodyTimeout: 10_000 });
  return { status: r.statusCode, body: await r.body.text(), type: String(r.headers['content-type']), csp: String(r.headers['content-security-policy']) };
}

function recs(f: MonitorFixture, q: string): readonly CycleRecord[] {
  return f.records.get(q) ?? [];
}

describe('web/routes/monitor (pages)', () => {
  const server = useRedis();
  let f: MonitorFixture;

  beforeAll(async () => {
    f = await startMonitorFixture(server().url);
  });
  afterAll(async () => {
    await f?.close();
  });

  it('lists every instance on the global page with state, version, activity and ages', async () => {
    const r = await get(f, '/');
    expect(r.status).toBe(200);
    expect(r.type).toContain('text/html');
    // no script may run on a monitor page, and no other site may frame it
    expect(r.csp).toContain("default-src 'none'");
    expect(r.csp).toContain("frame-ancestors 'none'");
    expect(r.body).not.toContain('<script');
    const rowOf = (id: string): string => new RegExp(`<tr data-instance="${id}">([\\s\\S]*?)</tr>`).exec(r.body)?.[1] ?? '';
    expect(text(rowOf('node1'))).toMatch(/^node1 active 0\.1\.0 /);
    expect(text(rowOf('node2'))).toContain('draining');
    // node3 registered as active but stopped heartbeating 10 minutes ago
    expect(text(rowOf('node3'))).toMatch(/^node3 offline 0\.0\.9 .* 10 min .*node3\.example\.org$/);
    // activity: pilots that node1's cycles created in the last 2 h (the fixture's commits)
    const mine = recs(f, CERN).concat(recs(f, WEIRD)).filter((x) => x.instance === 'node1' && x.at >= f.now - 2 * HOUR);
    const total = mine.reduce((s, x) => s + x.jobIds.length, 0);
    expect(total).toBeGreaterThan(0);
    expect(rowOf('node1')).toContain(`<title>${total} pilots created in the last 2 h by node1</title>`);
    expect(rowOf('node1')).toMatch(/<svg class="spark"[^>]*>.*<polyline [^>]*points="([\d.]+,[\d.]+ ){23}[\d.]+,[\d.]+"/);
    // last cycle of node1 (registered 2 min ago) and the JSON equivalent
    expect(text(rowOf('node1'))).toContain('2 min');
    expect(r.body).toContain('href="/api/v1/instances"');
    // a visitor without a session sees no admin form, but a log-in link
    expect(r.body).not.toContain('<form class="act" method="post" action="/ui/');
    expect(r.body).toContain('href="/login?next=%2F"');
  });

  it('shows the queue table with the monitor columns computed from history and batch counts', async () => {
    const r = await get(f, '/queues');
    expect(r.status).toBe(200);
    const rows = queueRows(r.body);
    expect([...rows.keys()]).toEqual([BNL, CERN, WEIRD]);
    const cern = rows.get(CERN) as string;
    const lastHour = recs(f, CERN).filter((x) => x.at >= f.now - HOUR);
    const newest = recs(f, CERN)[0] as CycleRecord;
    expect(cell(cern, 'created')).toBe(String(lastHour.reduce((s, x) => s + x.jobIds.length, 0)));
    expect(cell(cern, 'running')).toBe('120'); // 100 on node1's schedd + 20 on node2's
    expect(cell(cern, 'pending')).toBe('40');
    expect(cell(cern, 'done')).toBe('4');
    expect(cell(cern, 'fault')).toBe('1');
    expect(cell(cern, 'exiting')).toBe('—');
    expect(cell(cern, 'ready')).toBe(String(newest.inputs.ready));
    expect(cell(cern, 'instance')).toBe(newest.instance);
    expect(cell(cern, 'lastmsg')).toBe('2 min');
    expect(attr(cellHtml(cern, 'lastmsg'), /<td[^>]*>/, 'title')).toBe(newest.msg);
    const bnl = rows.get(BNL) as string;
    expect(cell(bnl, 'name')).toBe(`${BNL} paused`);
    expect(cell(bnl, 'lastmsg')).toBe('—');
    expect(cell(bnl, 'instance')).toBe('—');
    expect(cell(bnl, 'created')).toBe('0');
    const weird = rows.get(WEIRD) as string;
    expect(cell(weird, 'name')).toBe(`${WEIRD} blocked`);
    expect(attr(weird, /<span class="badge blocked"[^>]*>/, 'title')).toBe('batch source condor:local@node1 is stale (<i>age</i> 400 s)');
    expect(r.body).toContain('JSON: <a href="/api/v1/queues">');
  });

  it('sorts on any column with header links, unknown values last', async () => {
    const order = async (qs: string): Promise<string[]> => [...queueRows((await get(f, `/queues${qs}`)).body).keys()];
    expect(await order('?sort=pending&dir=desc')).toEqual([CERN, BNL, WEIRD]);
    expect(await order('?sort=pending&dir=asc')).toEqual([WEIRD, BNL, CERN]);
    expect(await order('?sort=lastmsg&dir=asc')).toEqual([CERN, WEIRD, BNL]);
    expect(await order('?sort=lastmsg&dir=desc')).toEqual([WEIRD, CERN, BNL]);
    expect(await order('?sort=fault&dir=desc')).toEqual([BNL, WEIRD, CERN]);
    expect(await order('?sort=bogus&dir=sideways')).toEqual([BNL, CERN, WEIRD]);
    const page = (await get(f, '/queues?sort=pending&dir=asc&q=e')).body;
    // the current column's link flips the direction and keeps the filter; others start fresh
    expect(page).toContain('<a href="/queues?sort=pending&amp;dir=desc&amp;q=e">pending</a> ▲');
    expect(page).toContain('<a href="/queues?sort=name&amp;dir=asc&amp;q=e">queue</a>');
  });

  it('filters by name with a GET form and echoes the filter escaped', async () => {
    expect([...queueRows((await get(f, '/queues?q=IRD')).body).keys()]).toEqual([WEIRD]);
    expect([...queueRows((await get(f, '/queues?q=ce503')).body).keys()]).toEqual([CERN]);
    const hostile = (await get(f, `/queues?q=${encodeURIComponent('"><script>alert(1)</script>')}`)).body;
    expect(queueRows(hostile).size).toBe(0);
    expect(hostile).not.toContain('<script>');
    expect(hostile).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
  });

  it('renders a queue page: plot, decision trace with the binding step, sources, pilot log links', async () => {
    const r = await get(f, `/queues/${encodeURIComponent(CERN)}`);
    expect(r.status).toBe(200);
    const all = recs(f, CERN);
    const plot = /<svg class="plot"[\s\S]*?<\/svg>/.exec(r.body)?.[0] ?? '';
    for (const s of ['ready', 'pending', 'running', 'submitted']) {
      const pts = attr(plot, new RegExp(`<polyline data-series="${s}"[^>]*>`), 'points') ?? '';
      expect(pts.split(' ').length, s).toBe(all.length);
    }
    // the ready series climbs (400 → 690): its last point is higher (smaller y) than its first
    const ready = (attr(plot, /<polyline data-series="ready"[^>]*>/, 'points') ?? '').split(' ').map((p) => Number(p.split(',')[1]));
    expect(ready[ready.length - 1]).toBeLessThan(ready[0] as number);
    const traces = [...r.body.matchAll(/<section class="trace" data-cycle="([^"]*)">([\s\S]*?)<\/section>/g)];
    expect(traces.map((m) => m[1])).toEqual(all.slice(0, 10).map((x) => x.cycleId));
    // Ready asks for more than 10: MaxPerCycle bound the number, and only its row is highlighted
    const first = traces[0]?.[2] ?? '';
    expect(text(/<tr class="bind"[^>]*>[\s\S]*?<\/tr>/.exec(first)?.[0] ?? '')).toMatch(/^MaxPerCycle \d+ 10 MaxPerCycle:in=\d+,max=10,ret=10$/);
    expect(first.match(/class="bind"/g)?.length).toBe(1);
    expect(text(r.body)).toMatch(/condor:local@node1 fresh 20 s 30 100 3 1 0/);
    expect(text(r.body)).toMatch(/condor:local@node2 fresh 30 s 10 20 1 0 0/);
    const newest = all[0] as CycleRecord;
    const day = new Date(newest.at).toISOString().slice(0, 10);
    expect(r.body).toContain(`href="http://factory.example.org:25880/${day}/${CERN}/${newest.jobIds[0]}.out"`);
    expect(r.body).toContain(`href="http://factory.example.org:25880/${day}/${CERN}/${newest.jobIds[0]}.err"`);
    expect(r.body).toContain(`href="/api/v1/queues/${CERN}"`);
  });

  it('escapes a hostile queue name in text, attributes and URLs on every page', async () => {
    const enc = encodeURIComponent(WEIRD);
    const escaped = 'we/ird:q &quot;&lt;b&gt;x&lt;/b&gt;&quot;';
    for (const path of ['/queues', `/queues/${enc}`, '/instances/node1']) {
      const r = await get(f, path);
      expect(r.status, path).toBe(200);
      expect(r.body, path).not.toContain('<b>');
      expect(r.body, path).toContain(escaped);
    }
    const page = (await get(f, `/queues/${enc}`)).body;
    expect(page).toContain(`<h1>${escaped} <span class="badge blocked"`);
    expect(page).toContain(`href="/api/v1/queues/${enc}"`);
    // log directory: '/' and ':' become '_', the rest is percent-encoded in the link
    const at = (recs(f, WEIRD)[1] as CycleRecord).at;
    expect(page).toContain(`href="http://factory.example.org:25880/${new Date(at).toISOString().slice(0, 10)}/${encodeURIComponent('we_ird_q "<b>x<_b>"')}/78.0.log"`);
    expect(page).toContain('blocked: batch source condor:local@node1 is stale (&lt;i&gt;age&lt;/i&gt; 400 s)');
    expect(page).not.toContain('<i>');
    const table = (await get(f, '/queues')).body;
    expect(table).toContain(`<a href="/queues/${enc}">${escaped}</a>`);
  });

  it('renders the instance page with the factory facts and the queues it last ran', async () => {
    const r = await get(f, '/instances/node1');
    expect(r.status).toBe(200);
    const t = text(r.body);
    expect(t).toContain('node1 (this instance)');
    expect(t).toMatch(/version 0\.1\.0 factory web-test host node1\.example\.org pid 100 last start-up \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(3\.0 h ago\)/);
    expect(r.body).toContain('href="mailto:admins@example.org"');
    expect(r.body).toContain('href="http://factory.example.org:25880/"');
    expect(r.body).toContain('href="/api/v1/config"');
    expect(r.body).toContain('href="/api/v1/instances/node1"');
    // WEIRD's last cycle ran on node1, CERN's on node2
    expect([...queueRows(r.body).keys()]).toEqual([WEIRD]);
    const other = await get(f, '/instances/node2');
    expect([...queueRows(other.body).keys()]).toEqual([CERN]);
    expect(other.body).toContain('href="http://node2.example.org:25880/instances/node2"');
  });

  it('answers 404 pages for unknown queues and instances, 405 for a wrong method', async () => {
    const q = await get(f, '/queues/NOPE');
    expect(q.status).toBe(404);
    expect(q.type).toContain('text/html');
    expect(q.csp).toContain("default-src 'none'");
    expect(text(q.body)).toContain('no queue "NOPE" in the configuration');
    const i = await get(f, `/instances/${encodeURIComponent('<x>')}`);
    expect(i.status).toBe(404);
    expect(i.body).toContain('no instance &quot;&lt;x&gt;&quot; is registered');
    const m = await request(`${f.base}/queues`, { method: 'POST', body: '' });
    await m.body.dump();
    expect(m.statusCode).toBe(405);
  });

  it('answers a 503 page when Redis cannot be reached', async () => {
    const port = await freePort();
    const dead = createRedis({ ...f.config.factory.cluster.redis, url: `redis://127.0.0.1:${port}` }, { role: 'dead', env: {} });
    const down = await serveWeb({ ...f.deps, redis: dead }, monitorRoutes);
    try {
      for (const path of ['/', '/queues', `/queues/${encodeURIComponent(CERN)}`]) {
        const r = await request(`${down.base}${path}`, { headersTimeout: 10_000 });
        const body = await r.body.text();
        expect(r.statusCode, path).toBe(503);
        expect(text(body), path).toContain('Redis unavailable');
      }
    } finally {
      await down.close();
      dead.disconnect();
    }
  });
});
