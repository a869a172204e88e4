/**
 * Real Chromium (playwright-core) against the monitor of a running TWO-instance cluster: two
 * `apf start` processes with their own HTCondor simulators and the PanDA simulator
 * (test/helpers/cluster.ts), and the web server as the daemon hosts it (startWebServer, every
 * route) on 127.0.0.1 port 0 reading the same Redis. The queue table shows the simulators'
 * numbers; an admin logs in and pauses a queue from the page, and both instances obey; the queue
 * page draws its plot. Screenshots go to test-output/screenshots/.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApfConfig } from '../../../src/config/types.ts';
import { collectStatus } from '../../../src/core/status.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import { Metrics } from '../../../src/observability/metrics.ts';
import { startWebServer, type WebHost } from '../../../src/web/host.ts';
import { startCluster, type Cluster, type QueueSpec } from '../../helpers/cluster.ts';
import { makeTempDir, waitUntil } from '../../helpers/processes.ts';
import { HAVE_CHROMIUM, SCREENSHOTS, SKIP_REASON, launchChromium } from './browser-launch.ts';

const TOKEN = 'browser-cluster-admin-token-42';
/** Activated jobs per queue; MaxPerCycle 10 makes the larger ones take two cycles. */
const QUEUES: readonly QueueSpec[] = [
  { name: 'Q01', sleepS: 3, activated: 14 },
  { name: 'Q02', sleepS: 4, activated: 9 },
  { name: 'Q03', sleepS: 5, activated: 17 },
];

describe.skipIf(!HAVE_CHROMIUM)(`web/routes/monitor (Chromium, 2-instance cluster)${HAVE_CHROMIUM ? '' : ` — skipped: ${SKIP_REASON}`}`, () => {
  let c: Cluster;
  let web: WebHost;
  let base: string;
  let browser: Browser;
  let page: Page;
  let config: ApfConfig;

  beforeAll(async () => {
    const dir = makeTempDir('apf-browser-');
    const tokenFile = join(dir, 'admin.token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    chmodSync(tokenFile, 0o600);
    c = await startCluster({ instances: ['i1', 'i2'], queues: QUEUES });
    config = { ...c.config, factory: { ...c.config.factory, web: { ...c.config.factory.web, adminTokenFile: tokenFile } } };
    web = await startWebServer({
      config: () => config,
      instanceId: 'i1',
      version: '0.1.0',
      redisSettings: c.config.factory.cluster.redis,
      env: {},
      keys: c.keys,
      logger: silentLogger(),
      metrics: new Metrics(),
      port: 0,
      bind: '127.0.0.1',
      ready: () => Promise.resolve({ ok: true, checks: {} }),
      retryBindMs: 0,
    });
    expect(web.listening).toBe(true);
    base = `http://127.0.0.1:${web.port}`;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // Steady state: every queue has all its activated pilots idle in the schedds, the cluster
    // status counts exactly those, and its last two cycles submitted nothing (a count read right
    // after a submission can still include the submitted-since pilots twice until the next poll).
    await waitUntil(
      'every queue to reach its activated count and stop submitting',
      async () => {
        const h = await c.histories();
        const quiet = QUEUES.every((q) => {
          const rs = h.get(q.name) ?? [];
          return rs.length >= 3 && rs.slice(-2).every((r) => r.outcome === 'nothing');
        });
        if (!quiet) return undefined;
        const pilots = await c.allPilots();
        const s = await c.status();
        return QUEUES.every(
          (q) => s.queues.find((x) => x.name === q.name)?.pending === q.activated && pilots.filter((p) => p.queue === q.name && p.inQueue && p.jobStatus === 1).length === q.activated,
        )
          ? true
          : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await web?.close();
    await c?.stop();
  }, 60_000);

  const cellOf = async (queue: string, col: string): Promise<string> => ((await page.locator(`tr[data-queue="${queue}"] td[data-col="${col}"]`).textContent()) ?? '').trim();

  it('shows the simulators\' numbers in the queue table', async () => {
    const pilots = await c.allPilots();
    await page.goto(`${base}/queues`);
    const status = await collectStatus(c.redis, c.keys, c.config);
    for (const q of QUEUES) {
      const mine = pilots.filter((p) => p.queue === q.name);
      const idle = mine.filter((p) => p.inQueue && p.jobStatus === 1).length;
      const running = mine.filter((p) => p.inQueue && p.jobStatus === 2).length;
      const st = status.queues.find((x) => x.name === q.name);
      // condor_q of both schedds, the cluster status and the page agree
      expect(idle, `${q.name}: idle pilots in condor_q`).toBe(q.activated);
      expect(await cellOf(q.name, 'pending'), `${q.name} pending`).toBe(String(idle));
      expect(await cellOf(q.name, 'pending')).toBe(String(st?.pending));
      expect(await cellOf(q.name, 'running'), `${q.name} running`).toBe(String(running));
      // every pilot was submitted within the hour: created counts them all
      expect(await cellOf(q.name, 'created'), `${q.name} created`).toBe(String(mine.length));
      expect(await cellOf(q.name, 'ready'), `${q.name} ready`).toBe(String(q.activated));
      expect(['i1', 'i2']).toContain(await cellOf(q.name, 'instance'));
      expect(await cellOf(q.name, 'exiting')).toBe('—');
    }
    // both instances published their schedd and ran cycles
    await page.goto(`${base}/`);
    for (const id of ['i1', 'i2']) {
      const row = page.locator(`tr[data-instance="${id}"]`);
      expect(await row.locator('.badge').first().textContent()).toBe('active');
      expect(await row.locator('svg.spark polyline').count()).toBe(1);
    }
    const ran = new Set([...(await c.histories()).values()].flat().map((r) => r.instance));
    expect([...ran].sort()).toEqual(['i1', 'i2']);
    await page.screenshot({ path: join(SCREENSHOTS, 'cluster-overview.png'), fullPage: true });
    await page.goto(`${base}/queues`);
    await page.screenshot({ path: join(SCREENSHOTS, 'cluster-queues.png'), fullPage: true });
  });

  it('logs in with the token and pauses a queue from the page, cluster-wide', async () => {
    await page.goto(`${base}/queues`);
    expect(await page.locator('form[action^="/ui/"]').count()).toBe(0);
    await page.click('text=log in');
    await page.fill('input[name="token"]', 'not-the-token');
    await page.click('form.login button');
    expect(await page.locator('.notice.error').textContent()).toBe('wrong admin token');
    await page.fill('input[name="token"]', TOKEN);
    await page.click('form.login button');
    await page.waitForURL(`${base}/queues`);
    const cookies = await page.context().cookies();
    const session = cookies.find((k) => k.name === 'apf_session');
    expect(session?.httpOnly).toBe(true);
    expect(session?.sameSite).toBe('Strict');
    expect(session?.value).not.toContain(TOKEN);

    await page.locator('tr[data-queue="Q02"] form[action="/ui/queues/Q02/pause"] button').click();
    await page.waitForURL(`${base}/queues`);
    expect(await page.locator('tr[data-queue="Q02"] td[data-col="name"] .badge.paused').textContent()).toBe('paused');
    expect(await page.locator('tr[data-queue="Q02"] form[action="/ui/queues/Q02/resume"]').count()).toBe(1);
    expect(await c.queueState().isPaused('Q02')).toBe(true);
    // both instances skip its cycles from now on
    const before = (await c.queueState().stats('Q02'))['skippedPaused'] ?? 0;
    await waitUntil('Q02 cycles to be skipped as paused', async () => (((await c.queueState().stats('Q02'))['skippedPaused'] ?? 0) >= before + 2 ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    // and commit nothing for it over more than one interval (4 s)
    const last = (await c.history('Q02')).at(-1);
    await new Promise((r) => setTimeout(r, 4500));
    expect((await c.history('Q02')).at(-1)?.cycleId).toBe(last?.cycleId);
    await page.screenshot({ path: join(SCREENSHOTS, 'cluster-queues-paused.png'), fullPage: true });
  });

  it('draws the queue page\'s plot from the stored history', async () => {
    const before = (await c.history('Q01')).length;
    await page.goto(`${base}/queues/Q01`);
    const after = (await c.history('Q01')).length;
    // one point per stored cycle (the queue keeps cycling while the page loads)
    const submitted = ((await page.locator('svg.plot polyline[data-series="submitted"]').getAttribute('points')) ?? '').trim().split(/\s+/);
    expect(submitted.length).toBeGreaterThanOrEqual(Math.max(2, before));
    expect(submitted.length).toBeLessThanOrEqual(after);
    for (const series of ['ready', 'pending', 'running']) expect(await page.locator(`svg.plot polyline[data-series="${series}"]`).count(), series).toBeGreaterThanOrEqual(1);
    const box = await page.locator('svg.plot').boundingBox();
    expect(box?.width).toBeGreaterThan(300);
    expect(await page.locator('section.trace').count()).toBeGreaterThanOrEqual(2);
    await page.screenshot({ path: join(SCREENSHOTS, 'cluster-queue-page.png'), fullPage: true });
  });
});
