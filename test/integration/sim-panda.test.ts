import { execFile } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ApfError } from '../../src/errors.ts';
import { decodePickle, pickleToJson } from '../../src/plugins/wms-status/panda/pickle.ts';
import { encodePickle0, pyRepr, type PyValue } from '../../src/sim/panda/encode.ts';
import { loadScenario, parseFaults, parseScenario, startPandaSim, type PandaSim } from '../../src/sim/panda/index.ts';

const EXAMPLE = new URL('../../config/sim/panda-scenario.json', import.meta.url).pathname;
const STATS = '/api/v1/statistics/active_job_stats_by_site';
const JSON_ACCEPT = { accept: 'application/json' };

/** Runs python3 `code` with `input` on stdin; resolves with stdout. */
function python(code: string, input: Buffer | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('python3', ['-c', code], { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`python3 failed: ${stderr}`, { cause: err }));
      else resolve(stdout);
    });
    child.stdin?.end(input);
  });
}

/** Python 3 pickle.loads of `body`, printed back as JSON (Decimal → its text, None key → "null"). */
const PY_LOADS =
  'import sys, pickle, json, decimal\n' +
  'v = pickle.loads(sys.stdin.buffer.read())\n' +
  'print(json.dumps(v, default=lambda o: "Decimal(" + str(o) + ")" if isinstance(o, decimal.Decimal) else None))';

function simError(fn: () => unknown): ApfError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApfError && err.code === 'APF_ERR_SIM') return err;
    throw new Error(`expected APF_ERR_SIM, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected APF_ERR_SIM');
}

const SMALL = {
  queues: {
    A: {
      labels: ['managed', 'user', 'rc_test'],
      timeline: [
        { t: 0, activated: 10, running: 7, status: 'online' },
        { t: 100, activated: 0, running: 20, defined: 2, status: 'test' },
      ],
    },
    B: { loop: 60, timeline: [{ t: 10, activated: 5 }, { t: 30, running: 1, status: 'offline' }] },
    Z: { timeline: [{ t: 0, activated: 0, running: 0, status: 'brokeroff' }] },
  },
};

let sim: PandaSim | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** Starts a simulator; with `clock`, t = clock.t - (clock.t at start). */
async function start(scenario: unknown = SMALL, clock?: { t: number }): Promise<PandaSim> {
  const base = 1_700_000_000_000;
  sim = await startPandaSim({
    scenario: parseScenario(scenario),
    ...(clock === undefined ? {} : { now: () => base + clock.t * 1000 }),
  });
  return sim;
}

async function getJson(s: PandaSim, path: string): Promise<{ status: number; type: string | null; body: unknown }> {
  const r = await fetch(s.url + path, { headers: JSON_ACCEPT });
  const text = await r.text();
  return { status: r.status, type: r.headers.get('content-type'), body: JSON.parse(text) as unknown };
}

describe('sim/panda', () => {
  describe('scenario validation', () => {
    it('accepts the shipped example scenario', async () => {
      const s = await loadScenario(EXAMPLE);
      expect(s.queues.size).toBe(6);
      const statuses = [...s.queues.values()].map((q) => q.timeline[0]?.status);
      expect(statuses).toContain('test');
      expect(statuses).toContain('offline');
    });

    it.each([
      ['a misspelt state', { queues: { A: { timeline: [{ t: 0, activatd: 1 }] } } }, 'queues.A.timeline.0'],
      ['a negative count', { queues: { A: { timeline: [{ t: 0, running: -1 }] } } }, 'queues.A.timeline.0.running'],
      ['a bad status', { queues: { A: { timeline: [{ t: 0, status: 'maybe' }] } } }, 'queues.A.timeline.0.status'],
      ['points out of order', { queues: { A: { timeline: [{ t: 5 }, { t: 1 }] } } }, 'queues.A.timeline.1.t'],
      ['a point beyond the loop', { queues: { A: { loop: 10, timeline: [{ t: 10 }] } } }, 'queues.A.timeline.0.t'],
      ['an empty timeline', { queues: { A: { timeline: [] } } }, 'queues.A.timeline'],
      ['a bad fault kind', { queues: {}, faults: [{ endpoint: 'stats', kind: '404' }] }, 'faults.0.kind'],
      ['a fault ending before it starts', { queues: {}, faults: [{ from: 5, to: 5, endpoint: 'all', kind: 'hang' }] }, 'faults.0.to'],
      ['no queues', {}, 'queues'],
    ])('names the field for %s', (_name, scenario, path) => {
      expect(simError(() => parseScenario(scenario)).message).toContain(path);
    });

    it('a missing or non-JSON file is APF_ERR_SIM', async () => {
      await expect(loadScenario('/nonexistent/scenario.json')).rejects.toMatchObject({ code: 'APF_ERR_SIM' });
      await expect(loadScenario(new URL(import.meta.url).pathname)).rejects.toMatchObject({ code: 'APF_ERR_SIM' });
    });
  });

  describe('timeline', () => {
    it('steps with the injected clock: latest point with t <= now, loop, nothing before the first point', async () => {
      const clock = { t: 0 };
      const s = await start(SMALL, clock);
      const stats = async (): Promise<Record<string, Record<string, number>>> =>
        ((await getJson(s, STATS)).body as { data: Record<string, Record<string, number>> }).data;

      // t=0: A at its first point; B (first point at t=10) has no jobs; Z has no jobs at all.
      expect(await stats()).toEqual({ A: { assigned: 0, activated: 10, running: 7 } });
      clock.t = 15;
      expect((await stats())['B']).toEqual({ assigned: 0, activated: 5, running: 0 });
      clock.t = 99.9;
      expect((await stats())['A']).toEqual({ assigned: 0, activated: 10, running: 7 });
      clock.t = 100;
      expect((await stats())['A']).toEqual({ assigned: 0, activated: 0, running: 20, defined: 2 });
      // B loops every 60 s: t=100 → 40 (second point), t=125 → 5 (before its first point: no jobs).
      expect((await stats())['B']).toEqual({ assigned: 0, activated: 0, running: 1 });
      clock.t = 125;
      expect((await stats())['B']).toBeUndefined();
      clock.t = 135;
      expect((await stats())['B']).toEqual({ assigned: 0, activated: 5, running: 0 });
    });

    it('CRIC lists every queue with the status of the current point', async () => {
      const clock = { t: 0 };
      const s = await start(SMALL, clock);
      const cric = async (): Promise<Record<string, { status: string; panda_resource: string; nickname: string }>> =>
        (await getJson(s, '/cric/api/atlas/pandaqueue/query/?json')).body as Record<string, { status: string; panda_resource: string; nickname: string }>;
      let d = await cric();
      expect(Object.keys(d)).toEqual(['A', 'B', 'Z']);
      expect([d['A']?.status, d['B']?.status, d['Z']?.status]).toEqual(['online', 'online', 'brokeroff']);
      expect(d['A']?.panda_resource).toBe('A');
      expect(d['A']?.nickname).toBe('A');
      clock.t = 130;
      d = await cric();
      expect([d['A']?.status, d['B']?.status]).toEqual(['test', 'online']);
      clock.t = 150;
      expect((await cric())['B']?.status).toBe('offline');
    });

    it('the /_sim/state view and POST /_sim/scenario (which restarts t at 0)', async () => {
      const clock = { t: 0 };
      const s = await start(SMALL, clock);
      clock.t = 500;
      const before = (await getJson(s, '/_sim/state')).body as { t: number; queues: Record<string, { status: string }> };
      expect(before.t).toBe(500);
      expect(before.queues['A']?.status).toBe('test');
      const r = await fetch(`${s.url}/_sim/scenario`, {
        method: 'POST',
        body: JSON.stringify({ queues: { N: { timeline: [{ t: 0, activated: 3 }] } } }),
      });
      expect(r.status).toBe(200);
      expect(s.elapsedSeconds()).toBe(0);
      expect(((await getJson(s, STATS)).body as { data: unknown }).data).toEqual({ N: { assigned: 0, activated: 3, running: 0 } });
      const bad = await fetch(`${s.url}/_sim/scenario`, { method: 'POST', body: '{"queues": {"N": {}}}' });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toContain('queues.N.timeline');
    });
  });

  describe('endpoints', () => {
    it('v1 stats: JSON envelope with Accept, Python str(dict) without, text/plain both ways', async () => {
      const s = await start();
      const withJson = await getJson(s, STATS);
      expect(withJson.type).toMatch(/^text\/plain/);
      expect(withJson.body).toEqual({ success: true, message: '', data: { A: { assigned: 0, activated: 10, running: 7 } } });
      const r = await fetch(s.url + STATS);
      expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await r.text()).toBe("{'success': True, 'message': '', 'data': {'A': {'assigned': 0, 'activated': 10, 'running': 7}}}");
    });

    it('v1 stats refuses other verbs with success:false like PanDA', async () => {
      const s = await start();
      const r = await fetch(s.url + STATS, { method: 'POST', headers: JSON_ACCEPT });
      expect(await r.json()).toEqual({ success: false, message: 'expecting GET, received POST', data: null });
    });

    it('is_alive (v1 and legacy) and 404 for unknown paths', async () => {
      const s = await start();
      expect((await getJson(s, '/api/v1/system/is_alive')).body).toEqual({ success: true, message: '', data: null });
      expect(await (await fetch(`${s.url}/server/panda/isAlive`)).text()).toBe('alive=yes');
      const r = await fetch(`${s.url}/server/panda/getSiteSpecs`);
      expect(r.status).toBe(404);
      await r.text();
    });

    it('legacy pickles read back equal in Python 3 pickle.loads; labels add up to the per-site counts', async () => {
      const clock = { t: 0 };
      const s = await start(SMALL, clock);
      clock.t = 100;
      const v1 = ((await getJson(s, STATS)).body as { data: Record<string, Record<string, number>> }).data;
      const siteBody = Buffer.from(await (await fetch(`${s.url}/server/panda/getJobStatisticsPerSite`)).arrayBuffer());
      const labelBody = Buffer.from(await (await fetch(`${s.url}/server/panda/getJobStatisticsWithLabel`)).arrayBuffer());
      expect(JSON.parse(await python(PY_LOADS, siteBody))).toEqual(v1);
      const labels = JSON.parse(await python(PY_LOADS, labelBody)) as Record<string, Record<string, Record<string, number>>>;
      // A (at t=100): activated 0, running 20, defined 2 over three labels: 7/7/6 and 1/1/0.
      expect(labels['A']).toEqual({ managed: { running: 7, defined: 1 }, user: { running: 7, defined: 1 }, rc_test: { running: 6 } });
      for (const [site, perLabel] of Object.entries(labels)) {
        const sum: Record<string, number> = {};
        for (const c of Object.values(perLabel)) for (const [k, n] of Object.entries(c)) sum[k] = (sum[k] ?? 0) + n;
        const nonZero = Object.fromEntries(Object.entries(v1[site] ?? {}).filter(([, n]) => n > 0));
        expect(sum).toEqual(nonZero);
      }
      // and the factory's own decoder agrees with Python
      expect(pickleToJson(decodePickle(labelBody))).toEqual(labels);
    });

    it('getJobStatisticsWithLabel honours site=', async () => {
      const clock = { t: 0 };
      const s = await start(SMALL, clock);
      clock.t = 20;
      const body = Buffer.from(await (await fetch(`${s.url}/server/panda/getJobStatisticsWithLabel?site=B`)).arrayBuffer());
      expect(Object.keys(pickleToJson(decodePickle(body)) as object)).toEqual(['B']);
    });
  });

  describe('encoders', () => {
    it('encodePickle0 writes what Python 3 pickle.loads reads back equal (escapes, unicode, big ints, floats, None key)', async () => {
      const value: PyValue = new Map<string | number | boolean | null, PyValue>([
        ['plain', 1],
        ['back\\slash', 2],
        ['new\nline', 3],
        ['ctrl\r\x1a\0', 4],
        ['été €uro 😀', 5],
        ["q'\"", true],
        ['big', 2n ** 70n],
        ['i32', 2 ** 31],
        ['neg', -5],
        ['f', 1.5],
        ['tiny', 2.5e-7],
        ['none', null],
        [null, { nested: { deep: false } }],
      ]);
      const out = JSON.parse(
        await python(
          'import sys, pickle, json\nv = pickle.loads(sys.stdin.buffer.read())\nprint(json.dumps([[k, x if not isinstance(x, int) or isinstance(x, bool) else str(x)] for k, x in v.items()]))',
          encodePickle0(value),
        ),
      ) as Array<[string | null, unknown]>;
      expect(out).toEqual([
        ['plain', '1'],
        ['back\\slash', '2'],
        ['new\nline', '3'],
        ['ctrl\r\x1a\0', '4'],
        ['été €uro 😀', '5'],
        ["q'\"", true],
        ['big', String(2n ** 70n)],
        ['i32', String(2 ** 31)],
        ['neg', '-5'],
        ['f', 1.5],
        ['tiny', 2.5e-7],
        ['none', null],
        [null, { nested: { deep: false } }],
      ]);
    });

    it('reuses memo slots for repeated strings, as the Python 3 server fixture does', () => {
      const text = encodePickle0({ CERN: { activated: 1, running: 2 }, BNL: { activated: 3, running: 4 } }).toString('latin1');
      expect(text).toBe('(dp0\nVCERN\np1\n(dp2\nVactivated\np3\nI1\nsVrunning\np4\nI2\nssVBNL\np5\n(dp6\ng3\nI3\nsg4\nI4\nss.');
    });

    it('a decimal.Decimal is a GLOBAL + REDUCE that Python reads and the factory refuses', async () => {
      const body = encodePickle0({ A: { activated: { pyDecimal: '12' }, running: { pyDecimal: '3' } } });
      expect(JSON.parse(await python(PY_LOADS, body))).toEqual({ A: { activated: 'Decimal(12)', running: 'Decimal(3)' } });
      expect(() => decodePickle(body)).toThrow(/GLOBAL/);
    });

    it('pyRepr matches Python str() of the same dict', async () => {
      const value = { success: true, message: "it's", data: { 'a"b': [1][0] ?? 0, n: null, f: 0.5 } } as PyValue;
      const py = await python(
        "import sys, json\nprint(str(json.loads(sys.stdin.read())), end='')",
        JSON.stringify({ success: true, message: "it's", data: { 'a"b': 1, n: null, f: 0.5 } }),
      );
      expect(pyRepr(value)).toBe(py);
    });
  });

  describe('faults', () => {
    it('scheduled faults apply only inside [from, to) and to their endpoint', async () => {
      const clock = { t: 0 };
      const s = await start({ ...SMALL, faults: [{ from: 10, to: 20, endpoint: 'stats', kind: '500' }] }, clock);
      expect((await fetch(s.url + STATS, { headers: JSON_ACCEPT })).status).toBe(200);
      clock.t = 10;
      const r = await fetch(s.url + STATS, { headers: JSON_ACCEPT });
      expect(r.status).toBe(500);
      expect(await r.text()).toContain('Traceback');
      const cric = await fetch(`${s.url}/cric/api/atlas/pandaqueue/query/?json`);
      expect(cric.status).toBe(200);
      await cric.text();
      clock.t = 20;
      expect((await fetch(s.url + STATS, { headers: JSON_ACCEPT })).status).toBe(200);
    });

    it('runtime control: POST replaces, GET lists, DELETE clears; bad bodies are 400 naming the field', async () => {
      const s = await start();
      let r = await fetch(`${s.url}/_sim/faults`, { method: 'POST', body: JSON.stringify({ endpoint: 'cric', kind: 'success-false' }) });
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual([{ from: 0, endpoint: 'cric', kind: 'success-false' }]);
      expect(await (await fetch(`${s.url}/cric/api/atlas/pandaqueue/query/?json`)).json()).toEqual({
        success: false,
        message: 'simulated CRIC failure',
      });
      r = await fetch(`${s.url}/_sim/faults`, { method: 'POST', body: JSON.stringify([{ endpoint: 'everything', kind: 'hang' }]) });
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: string }).error).toContain('0.endpoint');
      r = await fetch(`${s.url}/_sim/faults`, { method: 'DELETE' });
      expect(r.status).toBe(204);
      expect(await (await fetch(`${s.url}/_sim/faults`)).json()).toEqual([]);
      expect((await fetch(`${s.url}/cric/api/atlas/pandaqueue/query/?json`)).status).toBe(200);
    });

    it('garbage, success-false and decimal bodies per endpoint', async () => {
      const s = await start();
      s.setFault({ endpoint: 'all', kind: 'garbage' });
      const g = Buffer.from(await (await fetch(s.url + STATS, { headers: JSON_ACCEPT })).arrayBuffer());
      expect(() => JSON.parse(g.toString('utf8')) as unknown).toThrow();
      s.clearFaults();
      s.setFault({ endpoint: 'stats', kind: 'success-false' });
      expect(await (await fetch(s.url + STATS, { headers: JSON_ACCEPT })).json()).toEqual({
        success: false,
        message: 'Database failure getting the job statistics',
        data: {},
      });
      s.clearFaults();
      s.setFault({ endpoint: 'site', kind: 'decimal' });
      const d = Buffer.from(await (await fetch(`${s.url}/server/panda/getJobStatisticsPerSite`)).arrayBuffer());
      expect(d.toString('latin1')).toContain('cdecimal\nDecimal\n');
      expect(parseFaults({ endpoint: 'all', kind: 'slow', delayMs: 5 })).toEqual([{ from: 0, endpoint: 'all', kind: 'slow', delayMs: 5 }]);
    });

    it('slow answers after delayMs', async () => {
      const s = await start();
      s.setFault({ endpoint: 'stats', kind: 'slow', delayMs: 300 });
      const started = performance.now();
      const r = await fetch(s.url + STATS, { headers: JSON_ACCEPT });
      expect(r.status).toBe(200);
      await r.text();
      expect(performance.now() - started).toBeGreaterThanOrEqual(280);
    });

    it('hang holds the request open, and close() still returns promptly and frees the client', async () => {
      const s = await start();
      s.setFault({ endpoint: 'stats', kind: 'hang' });
      const pending = fetch(s.url + STATS, { headers: JSON_ACCEPT }).then(
        () => 'answered',
        () => 'connection dropped',
      );
      const raced = await Promise.race([pending, new Promise((r) => setTimeout(() => r('still waiting'), 300))]);
      expect(raced).toBe('still waiting');
      const started = performance.now();
      await s.close();
      sim = undefined;
      expect(performance.now() - started).toBeLessThan(1000);
      expect(await pending).toBe('connection dropped');
    });

    it('a port already in use is APF_ERR_SIM', async () => {
      const s = await start();
      const port = Number(new URL(s.url).port);
      await expect(startPandaSim({ port, scenario: parseScenario(SMALL) })).rejects.toMatchObject({ code: 'APF_ERR_SIM' });
    });
  });
});
