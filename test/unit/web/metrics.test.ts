/** The Metrics class on its own registry (pure: no server, no Redis). */
import { describe, expect, it } from 'vitest';
import type { CycleRecord } from '../../../src/coordination/records.ts';
import { Metrics } from '../../../src/observability/metrics.ts';
import { cycleRecord } from '../../helpers/cycle-record.ts';

function record(over: Partial<CycleRecord> = {}): CycleRecord {
  return cycleRecord({
    instance: 'i',
    startedAt: 1000,
    at: 2000,
    durationMs: 1000,
    lagMs: 1000,
    outcome: 'retired',
    n: -2,
    submit: -2,
    inputs: { ready: 3, pending: 8, running: 1, siteStatus: 'online' },
    removed: ['5.0', '5.1'],
    ...over,
  });
}

async function value(m: Metrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = m.registry.getSingleMetric(name);
  if (metric === undefined) return undefined;
  const got = await metric.get();
  return got.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l) && Object.keys(v.labels).length === Object.keys(labels).length)?.value;
}

describe('observability/metrics', () => {
  it('keeps each instance on its own registry', async () => {
    const a = new Metrics({ processMetrics: false });
    const b = new Metrics({ processMetrics: false });
    a.onSkip('Q', 'busy');
    expect(await value(a, 'apf_cycles_skipped_total', { queue: 'Q', reason: 'busy' })).toBe(1);
    expect(await value(b, 'apf_cycles_skipped_total', { queue: 'Q', reason: 'busy' })).toBeUndefined();
    expect(a.registry).not.toBe(b.registry);
  });

  it('counts removed pilots and sets the gauges from the record inputs', async () => {
    const m = new Metrics({ processMetrics: false });
    m.onRecord(record());
    expect(await value(m, 'apf_pilots_removed_total', { queue: 'Q' })).toBe(2);
    expect(await value(m, 'apf_pilots_submitted_total', { queue: 'Q' })).toBeUndefined();
    expect(await value(m, 'apf_queue_pending', { queue: 'Q' })).toBe(8);
    expect(await value(m, 'apf_queue_last_cycle_timestamp_seconds', { queue: 'Q' })).toBe(2);
  });

  it('drops a gauge the cycle could not read instead of keeping a stale value', async () => {
    const m = new Metrics({ processMetrics: false });
    m.onRecord(record());
    m.onRecord(record({ inputs: { ready: null, pending: 9, running: null, siteStatus: null } }));
    expect(await value(m, 'apf_queue_ready', { queue: 'Q' })).toBeUndefined();
    expect(await value(m, 'apf_queue_running', { queue: 'Q' })).toBeUndefined();
    expect(await value(m, 'apf_queue_pending', { queue: 'Q' })).toBe(9);
    m.forgetQueue('Q');
    expect(await value(m, 'apf_queue_pending', { queue: 'Q' })).toBeUndefined();
    // counters stay
    expect(await value(m, 'apf_cycles_total', { queue: 'Q', outcome: 'retired' })).toBe(2);
  });

  it('keeps counting across scrapes: a scrape neither resets nor doubles the per-queue series', async () => {
    const m = new Metrics({ processMetrics: false });
    m.onRecord(record({ outcome: 'submitted', jobIds: ['1.0', '1.1'] }));
    m.onSkip('Q', 'busy');
    m.onSkip('R', 'stale');
    const first = (await m.exposition()).body;
    expect(first).toContain('apf_cycles_total{queue="Q",outcome="submitted"} 1');
    expect(first).toContain('apf_pilots_submitted_total{queue="Q"} 2');
    m.onRecord(record({ outcome: 'submitted', jobIds: ['2.0'] }));
    m.onRecord(record({ outcome: 'nothing' }));
    m.onSkip('Q', 'busy');
    expect(await value(m, 'apf_cycles_total', { queue: 'Q', outcome: 'submitted' })).toBe(2);
    expect(await value(m, 'apf_cycles_total', { queue: 'Q', outcome: 'nothing' })).toBe(1);
    expect(await value(m, 'apf_pilots_submitted_total', { queue: 'Q' })).toBe(3);
    const second = (await m.exposition()).body;
    expect(second).toContain('apf_cycles_skipped_total{queue="Q",reason="busy"} 2');
    expect(second).toContain('apf_cycles_skipped_total{queue="R",reason="stale"} 1');
    // a queue only skipped has no gauges and no submitted series
    expect(second).not.toContain('apf_queue_pending{queue="R"}');
    expect(second).not.toContain('apf_pilots_submitted_total{queue="R"}');
    m.onLeaseLost('R');
    m.observeSubmit('R', 0.5, false);
    expect(await value(m, 'apf_lease_losses_total', { queue: 'R' })).toBe(1);
    expect(await value(m, 'apf_submit_errors_total', { queue: 'R' })).toBe(1);
  });

  it('ignores negative and non-finite durations', async () => {
    const m = new Metrics({ processMetrics: false });
    m.onRecord(record({ durationMs: -5, lagMs: Number.NaN }));
    m.observeFetch('wms', 's', Number.POSITIVE_INFINITY, false);
    m.observeSubmit('Q', -1, true);
    const text = (await m.exposition()).body;
    expect(text).not.toContain('apf_cycle_duration_seconds_count{outcome="retired"}');
    expect(text).toContain('apf_dispatch_lag_seconds_count 0');
    // the failure still counts even though its latency is unusable
    expect(await value(m, 'apf_status_fetch_errors_total', { family: 'wms', source: 's' })).toBe(1);
    expect(text).not.toContain('apf_submit_seconds_count{result="ok"}');
    expect(await value(m, 'apf_submit_errors_total', { queue: 'Q' })).toBeUndefined();
  });

  it('collects the process metrics only when asked', async () => {
    expect((await new Metrics({ processMetrics: false }).exposition()).body).not.toContain('process_cpu');
    const withProcess = await new Metrics({ prefix: 'x_' }).exposition();
    expect(withProcess.body).toContain('x_process_cpu_user_seconds_total');
    expect(withProcess.body).toContain('x_cycles_total');
    expect(withProcess.contentType).toMatch(/^text\/plain/);
  });
});
