/**
 * `GET /metrics` served by buildServer with a real Metrics registry: Prometheus text format, the
 * per-queue gauges set by onRecord (queue names escaped as label values), counters, histograms and
 * the process metrics, all on the instance's own registry.
 */
import type { Server } from 'node:http';
import type { Redis } from 'ioredis';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../../src/coordination/keys.ts';
import type { CycleRecord } from '../../../src/coordination/records.ts';
import { createRedis, waitForRedis } from '../../../src/coordination/redis.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import { Metrics } from '../../../src/observability/metrics.ts';
import type { WebDeps } from '../../../src/web/deps.ts';
import { allRoutes } from '../../../src/web/routes/index.ts';
import { buildServer, listen } from '../../../src/web/server.ts';
import { useRedis } from '../../helpers/redis-server.ts';
import { redisSettings } from '../../helpers/redis-settings.ts';

const WEIRD = 'we/ird:q "x" \\ y';
const NOW = 1_795_641_100_000;

function record(queue: string, over: Partial<CycleRecord> = {}): CycleRecord {
  return {
    queue,
    slot: NOW - 2000,
    token: 7,
    cycleId: `${queue}:${NOW - 2000}:7`,
    instance: 'node1',
    owner: 'node1:1:1',
    startedAt: NOW - 1500,
    at: NOW,
    durationMs: 1500,
    lagMs: 500,
    outcome: 'submitted',
    n: 3,
    submit: 3,
    msg: 'Ready:in=0,activated=40,pending=5,ret=35',
    steps: [],
    blocked: null,
    inputs: { ready: 40, pending: 5, running: 12, siteStatus: 'online' },
    jobIds: ['1.0', '1.1', '1.2'],
    removed: [],
    error: null,
    configHash: 'h',
    ...over,
  };
}

describe('web/routes/metrics', () => {
  const redisServer = useRedis();
  let redis: Redis;
  let server: Server;
  let base: string;
  const metrics = new Metrics();

  beforeAll(async () => {
    redis = createRedis(
      redisSettings({ url: redisServer().url }),
      { role: 'metrics-test', env: {} },
    );
    await waitForRedis(redis, 5000);
    const deps = {
      config: () => {
        throw new Error('the metrics route reads no configuration');
      },
      redis,
      keys: new Keys('apfmetrics'),
      instanceId: 'node1',
      version: '0.1.0',
      logger: silentLogger(),
      adminToken: () => undefined,
      ready: () => Promise.resolve({ ok: true, checks: {} }),
      metrics: () => metrics.exposition(),
      now: () => NOW,
    } satisfies WebDeps;
    server = buildServer(deps, allRoutes());
    base = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    await redis?.quit();
  });

  async function scrape(): Promise<{ status: number; type: string; text: string }> {
    const r = await request(`${base}/metrics`);
    return { status: r.statusCode, type: String(r.headers['content-type']), text: await r.body.text() };
  }

  it('serves the Prometheus text format with the process metrics', async () => {
    const s = await scrape();
    expect(s.status).toBe(200);
    expect(s.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(s.text).toMatch(/^# HELP apf_process_cpu_user_seconds_total /m);
    expect(s.text).toMatch(/^apf_process_resident_memory_bytes \d+/m);
    expect(s.text).toMatch(/^# TYPE apf_cycle_duration_seconds histogram$/m);
  });

  it('has the per-queue gauges after onRecord, with the queue name escaped as a label value', async () => {
    metrics.onRecord(record(WEIRD));
    metrics.onRecord(record('CERN', { inputs: { ready: 400, pending: 30, running: 100, siteStatus: 'online' }, jobIds: [], outcome: 'nothing' }));
    const { text } = await scrape();
    const label = 'queue="we/ird:q \\"x\\" \\\\ y"';
    expect(text).toContain(`apf_queue_ready{${label}} 40\n`);
    expect(text).toContain(`apf_queue_pending{${label}} 5\n`);
    expect(text).toContain(`apf_queue_running{${label}} 12\n`);
    expect(text).toContain('apf_queue_ready{queue="CERN"} 400\n');
    expect(text).toContain(`apf_cycles_total{${label},outcome="submitted"} 1\n`);
    expect(text).toContain('apf_cycles_total{queue="CERN",outcome="nothing"} 1\n');
    expect(text).toContain(`apf_pilots_submitted_total{${label}} 3\n`);
    expect(text).toContain('apf_cycle_duration_seconds_count{outcome="submitted"} 1\n');
    // two records, each 0.5 s late
    expect(text).toContain('apf_dispatch_lag_seconds_sum 1\n');
    expect(text).toContain('apf_dispatch_lag_seconds_count 2\n');
  });

  it('exposes skips, fetch and submit latencies, lease losses and fence rejections', async () => {
    metrics.onSkip('CERN', 'busy');
    metrics.onSkip('CERN', 'busy');
    metrics.onSkip('CERN', 'stale');
    metrics.observeFetch('wms', 'panda:https://pandaserver.example.org', 0.8, true);
    metrics.observeFetch('batch', 'condor:local@node1', 2, false);
    metrics.observeSubmit('CERN', 1.2, true);
    metrics.observeSubmit('CERN', 30, false);
    metrics.onLeaseLost('CERN');
    metrics.onRecord(record('CERN', { outcome: 'fenced' }));
    const { text } = await scrape();
    expect(text).toContain('apf_cycles_skipped_total{queue="CERN",reason="busy"} 2\n');
    expect(text).toContain('apf_cycles_skipped_total{queue="CERN",reason="stale"} 1\n');
    expect(text).toContain('apf_status_fetch_seconds_count{family="wms",source="panda:https://pandaserver.example.org",result="ok"} 1\n');
    expect(text).toContain('apf_status_fetch_seconds_sum{family="batch",source="condor:local@node1",result="error"} 2\n');
    expect(text).toContain('apf_status_fetch_errors_total{family="batch",source="condor:local@node1"} 1\n');
    expect(text).toContain('apf_submit_seconds_count{result="ok"} 1\n');
    expect(text).toContain('apf_submit_seconds_bucket{le="30",result="error"} 1\n');
    expect(text).toContain('apf_submit_errors_total{queue="CERN"} 1\n');
    expect(text).toContain('apf_lease_losses_total{queue="CERN"} 1\n');
    expect(text).toContain('apf_fence_rejections_total{queue="CERN"} 1\n');
  });
});
