/**
 * Real Chromium (playwright-core) against the monitor over the fixture state: a queue named
 * `we/ird:q "<b>x</b>"` shows as literal text on every page, injects no element, and its links
 * lead to its own page; the queue page's plot renders.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRedis } from '../../helpers/redis-server.ts';
import { HAVE_CHROMIUM, SCREENSHOTS, SKIP_REASON, launchChromium } from './browser-launch.ts';
import { CERN, WEIRD, startMonitorFixture, type MonitorFixture } from './monitor-fixture.ts';

describe.skipIf(!HAVE_CHROMIUM)(`web/routes/monitor (Chromium, escaping)${HAVE_CHROMIUM ? '' : ` — skipped: ${SKIP_REASON}`}`, () => {
  const server = useRedis();
  let f: MonitorFixture;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    f = await startMonitorFixture(server().url);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await f?.close();
  });

  /** Elements a name like `<b>x</b>` would have injected, and script elements of any origin. */
  const injected = (): Promise<number> => page.locator('b, i, script').count();

  it('shows the hostile name as literal text in the queue table, and its link opens its page', async () => {
    await page.goto(`${f.base}/queues`);
    const names = await page.locator('tr[data-queue] td[data-col="name"] a').allTextContents();
    expect(names).toContain(WEIRD);
    expect(await injected()).toBe(0);
    expect(await page.locator(`tr[data-queue="${WEIRD.replaceAll('"', '\\"')}"]`).count()).toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, 'escaping-queues.png'), fullPage: true });
    await page.locator('td[data-col="name"] a', { hasText: 'we/ird' }).click();
    await page.waitForURL((u) => u.pathname.startsWith('/queues/we'));
    expect(new URL(page.url()).pathname).toBe(`/queues/${encodeURIComponent(WEIRD)}`);
    expect((await page.locator('h1').textContent())?.startsWith(WEIRD)).toBe(true);
    expect(await page.title()).toBe(`${WEIRD} · apf`);
    expect(await injected()).toBe(0);
    // the blocked reason carries markup too: a tooltip and a notice, as text
    expect(await page.locator('h1 .badge.blocked').getAttribute('title')).toBe('batch source condor:local@node1 is stale (<i>age</i> 400 s)');
    expect(await page.locator('.notice.error').first().textContent()).toBe('blocked: batch source condor:local@node1 is stale (<i>age</i> 400 s)');
    // the pilot log link's path decodes back to the log directory name
    const href = (await page.locator('table.pilots a', { hasText: 'out' }).first().getAttribute('href')) ?? '';
    expect(decodeURIComponent(new URL(href).pathname.split('/')[2] ?? '')).toBe('we_ird_q "<b>x<_b>"');
    await page.screenshot({ path: join(SCREENSHOTS, 'escaping-queue-page.png'), fullPage: true });
  });

  it('renders the escaped name on the instance page and in the filter box', async () => {
    await page.goto(`${f.base}/instances/node1`);
    expect(await page.locator('tr[data-queue] td[data-col="name"] a').allTextContents()).toEqual([WEIRD]);
    expect(await injected()).toBe(0);
    await page.goto(`${f.base}/queues`);
    await page.fill('input[name="q"]', '"><b>x</b>');
    await page.click('form.filter button');
    await page.waitForURL((u) => u.searchParams.has('q'));
    expect(await page.inputValue('input[name="q"]')).toBe('"><b>x</b>');
    expect(await page.locator('tr[data-queue]').count()).toBe(0);
    expect(await injected()).toBe(0);
  });

  it('draws the queue plot as SVG polylines with one point per stored cycle', async () => {
    await page.goto(`${f.base}/queues/${encodeURIComponent(CERN)}`);
    const line = page.locator('svg.plot polyline[data-series="submitted"]');
    const pts = ((await line.getAttribute('points')) ?? '').trim().split(/\s+/);
    expect(pts.length).toBe(f.records.get(CERN)?.length);
    const box = await page.locator('svg.plot').boundingBox();
    expect(box?.width).toBeGreaterThan(300);
    expect(box?.height).toBeGreaterThan(100);
    await page.screenshot({ path: join(SCREENSHOTS, 'fixture-queue-plot.png'), fullPage: true });
  });
});
