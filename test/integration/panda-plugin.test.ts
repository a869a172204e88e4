import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OptionValues } from '../../src/config/options.ts';
import { ApfError } from '../../src/errors.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { pandaPlugin, type pandaOptions } from '../../src/plugins/wms-status/panda/index.ts';
import { parseScenario, startPandaSim, type PandaSim } from '../../src/sim/panda/index.ts';
import { closeHttpAgent } from '../../src/util/http.ts';
import { pandaContext } from '../unit/plugins/wms-status/panda/context.ts';

type Opts = OptionValues<typeof pandaOptions>;

const SCENARIO = parseScenario({
  queues: {
    CERN: {
      labels: ['managed', 'user', 'ptest'],
      timeline: [{ t: 0, activated: 400, assigned: 10, defined: 2, running: 4900, starting: 30, holding: 80, transferring: 5, status: 'online' }],
    },
    TESTQ: { labels: ['rc_test', 'prod_test'], timeline: [{ t: 0, activated: 7, running: 1, status: 'test' }] },
    DOWNQ: { timeline: [{ t: 0, activated: 100, status: 'offline' }] },
    IDLEQ: { timeline: [{ t: 0, status: 'brokeroff' }] },
  },
});

/** What APF's mapping makes of SCENARIO, whatever the API. */
const EXPECTED_QUEUES = {
  CERN: { ready: 400, notready: 12, running: 5015, done: 0, failed: 0 },
  TESTQ: { ready: 7, notready: 0, running: 1, done: 0, failed: 0 },
  DOWNQ: { ready: 100, notready: 0, running: 0, done: 0, failed: 0 },
};

let sim: PandaSim;

beforeAll(async () => {
  sim = await startPandaSim({ scenario: SCENARIO });
});
afterEach(() => {
  sim.clearFaults();
});
afterAll(async () => {
  await sim.close();
  await closeHttpAgent();
});

function options(over: Partial<Opts> = {}): Opts {
  return {
    sleep: 150,
    maxage: 360,
    url: sim.url,
    api: 'v1',
    timeout: 2,
    retries: 1,
    'sitestatus.url': sim.cricUrl,
    'sitestatus.timeout': 2,
    ...over,
  };
}

function source(over: Partial<Opts> = {}, now: () => number = Date.now) {
  return pandaPlugin.createSource(options(over), pandaContext({ now }));
}

async function rejection(p: Promise<unknown>): Promise<ApfError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApfError) return err;
    throw new Error(`expected an ApfError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected the fetch to reject');
}

const plain = (m: ReadonlyMap<string, unknown> | null): Record<string, unknown> | null => (m === null ? null : Object.fromEntries(m));

describe('plugins/wms-status/panda (against the PanDA simulator)', () => {
  for (const api of ['v1', 'label', 'site'] as const) {
    it(`api=${api}: mapped counts per queue and CRIC site status`, async () => {
      const snap = await source({ api }, () => 1234).fetch(new AbortController().signal);
      expect(snap.at).toBe(1234);
      expect(plain(snap.queues)).toEqual(EXPECTED_QUEUES);
      expect(plain(snap.sites)).toEqual({
        CERN: { status: 'online' },
        TESTQ: { status: 'test' },
        DOWNQ: { status: 'offline' },
        IDLEQ: { status: 'brokeroff' },
      });
    });
  }

  it('sitestatus.url None: no CRIC call, sites is an empty map (every queue reads status "")', async () => {
    const before = sim.requestCounts()['cric'] ?? 0;
    const snap = await source({ 'sitestatus.url': undefined }).fetch(new AbortController().signal);
    expect(snap.sites).not.toBeNull();
    expect(snap.sites?.size).toBe(0);
    expect(sim.requestCounts()['cric'] ?? 0).toBe(before);
  });

  it('APF\'s /server/panda base URL works for the legacy calls', async () => {
    const snap = await source({ api: 'label', url: `${sim.url}/server/panda` }).fetch(new AbortController().signal);
    expect(plain(snap.queues)).toEqual(EXPECTED_QUEUES);
  });

  describe('statistics failures reject (fail closed)', () => {
    it('HTTP 500 → APF_ERR_WMS_UNAVAILABLE after the configured retries', async () => {
      sim.setFault({ endpoint: 'stats', kind: '500' });
      const before = sim.requestCounts()['stats'] ?? 0;
      const err = await rejection(source({ retries: 2 }).fetch(new AbortController().signal));
      expect(err.code).toBe('APF_ERR_WMS_UNAVAILABLE');
      expect(err.message).toContain('HTTP 500');
      expect(err.message).toContain('Traceback');
      expect((sim.requestCounts()['stats'] ?? 0) - before).toBe(3);
    });

    for (const api of ['v1', 'label'] as const) {
      it(`api=${api}: a hanging server → APF_ERR_WMS_UNAVAILABLE within the configured timeout`, async () => {
        sim.setFault({ endpoint: 'all', kind: 'hang' });
        const started = performance.now();
        const err = await rejection(source({ api, timeout: 0.8, retries: 3 }).fetch(new AbortController().signal));
        const elapsed = performance.now() - started;
        expect(err.code).toBe('APF_ERR_WMS_UNAVAILABLE');
        expect(err.message).toMatch(/within 800 ms/);
        expect(elapsed).toBeGreaterThanOrEqual(750);
        expect(elapsed).toBeLessThan(2500);
      });
    }

    it('api=v1: a garbage body → APF_ERR_WMS_RESPONSE "not JSON"', async () => {
      sim.setFault({ endpoint: 'stats', kind: 'garbage' });
      const err = await rejection(source().fetch(new AbortController().signal));
      expect(err.code).toBe('APF_ERR_WMS_RESPONSE');
      expect(err.message).toContain('not JSON');
      expect(err.message).toContain('502 Proxy Error');
    });

    it('api=label: a garbage body → APF_ERR_WMS_RESPONSE naming the refused opcode', async () => {
      sim.setFault({ endpoint: 'label', kind: 'garbage' });
      const err = await rejection(source({ api: 'label' }).fetch(new AbortController().signal));
      expect(err.code).toBe('APF_ERR_WMS_RESPONSE');
      expect(err.message).toContain("refused opcode '<'");
    });

    it('api=v1: success:false → APF_ERR_WMS_RESPONSE with PanDA\'s message', async () => {
      sim.setFault({ endpoint: 'stats', kind: 'success-false' });
      const err = await rejection(source().fetch(new AbortController().signal));
      expect(err.code).toBe('APF_ERR_WMS_RESPONSE');
      expect(err.message).toContain('success:false: Database failure getting the job statistics');
    });

    it('api=site: a legacy "False : …" answer → APF_ERR_WMS_RESPONSE', async () => {
      sim.setFault({ endpoint: 'site', kind: 'success-false' });
      const err = await rejection(source({ api: 'site' }).fetch(new AbortController().signal));
      expect(err.code).toBe('APF_ERR_WMS_RESPONSE');
      expect(err.message).toContain("'F' (FLOAT)");
      expect(err.message).toContain('body starts with "False : simulated failure');
    });

    for (const api of ['label', 'site'] as const) {
      it(`api=${api}: a pickled decimal.Decimal → APF_ERR_WMS_RESPONSE naming the GLOBAL opcode`, async () => {
        sim.setFault({ endpoint: api, kind: 'decimal' });
        const err = await rejection(source({ api }).fetch(new AbortController().signal));
        expect(err.code).toBe('APF_ERR_WMS_RESPONSE');
        expect(err.message).toContain("'c' (GLOBAL) decimal.Decimal");
        expect((err.cause as ApfError).code).toBe('APF_ERR_PICKLE');
      });
    }

    it('a statistics failure does not wait for a hanging CRIC call', async () => {
      sim.setFault({ endpoint: 'stats', kind: '500' });
      sim.setFault({ endpoint: 'cric', kind: 'hang' });
      const started = performance.now();
      const err = await rejection(source({ retries: 0, 'sitestatus.timeout': 10 }).fetch(new AbortController().signal));
      expect(err.code).toBe('APF_ERR_WMS_UNAVAILABLE');
      expect(performance.now() - started).toBeLessThan(2000);
    });

    it('the caller\'s abort ends the fetch with APF_ERR_ABORTED', async () => {
      sim.setFault({ endpoint: 'all', kind: 'hang' });
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      const err = await rejection(source({ timeout: 10 }).fetch(ac.signal));
      expect(err.code).toBe('APF_ERR_ABORTED');
    });

    it('a slow answer inside the deadline is fine', async () => {
      sim.setFault({ endpoint: 'stats', kind: 'slow', delayMs: 300 });
      const snap = await source().fetch(new AbortController().signal);
      expect(plain(snap.queues)).toEqual(EXPECTED_QUEUES);
    });
  });

  describe('only the site-status call fails → sites null, counts kept', () => {
    for (const kind of ['500', 'garbage', 'success-false', 'hang'] as const) {
      it(`CRIC ${kind}`, async () => {
        sim.setFault({ endpoint: 'cric', kind });
        const snap = await source({ 'sitestatus.timeout': 0.5 }).fetch(new AbortController().signal);
        expect(snap.sites).toBeNull();
        expect(plain(snap.queues)).toEqual(EXPECTED_QUEUES);
      });
    }
  });

  it('native states missing from the mapping are ignored with one debug log', async () => {
    const other = await startPandaSim({
      scenario: parseScenario({ queues: { Q: { timeline: [{ t: 0, activated: 3, closed: 9, running: 1 }] } } }),
    });
    try {
      const lines: string[] = [];
      const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
      const src = pandaPlugin.createSource(
        { ...options(), url: other.url, 'sitestatus.url': undefined },
        pandaContext({ logger }),
      );
      const snap = await src.fetch(new AbortController().signal);
      await src.fetch(new AbortController().signal);
      expect(plain(snap.queues)).toEqual({ Q: { ready: 3, notready: 0, running: 1, done: 0, failed: 0 } });
      const about = lines.map((l) => JSON.parse(l) as { level: number; states?: string[] }).filter((r) => r.states !== undefined);
      expect(about).toHaveLength(1);
      expect(about[0]?.states).toEqual(['closed']);
      expect(about[0]?.level).toBe(20);
    } finally {
      await other.close();
    }
  });

  it('never puts URL credentials in error messages', async () => {
    sim.setFault({ endpoint: 'stats', kind: '500' });
    const url = sim.url.replace('//', '//fred:hunter2@');
    const err = await rejection(source({ url, retries: 0 }).fetch(new AbortController().signal));
    expect(`${err.message} ${JSON.stringify(err.details)}`).not.toContain('hunter2');
  });
});
