import { describe, expect, it } from 'vitest';
import { decide, schedInput, type QueueViews } from '../../../src/core/pipeline.ts';
import type { BatchSnapshot, WmsSnapshot } from '../../../src/core/info.ts';
import type { SourceView } from '../../../src/core/source-view.ts';
import type { QueueConfig } from '../../../src/config/types.ts';
import type { ChainLink } from '../../../src/plugins/sched/compose.ts';
import type { SchedInput } from '../../../src/plugins/define.ts';
import { ApfError } from '../../../src/errors.ts';

const NOW = 1_800_000_000_000;

function queue(over: Partial<QueueConfig> = {}): QueueConfig {
  return {
    name: 'Q1',
    location: { file: 'queues.conf', line: 1 },
    enabled: true,
    wmsqueue: 'PANDA_Q1',
    batchqueue: undefined,
    sleep: 360,
    sched: [],
    wmsstatus: { id: 'Panda', options: {} },
    batchstatus: { id: 'Condor', options: {} },
    batchsubmit: { id: 'CondorLocal', options: {} },
    monitorsections: [],
    cleanlogsKeepdays: undefined,
    executable: '/bin/true',
    arguments: undefined,
    raw: new Map(),
    ...over,
  };
}

function wmsView(at: number, queues: Record<string, number>, sites: Record<string, string> | null = {}): SourceView<WmsSnapshot> {
  return {
    available: true,
    key: 'panda',
    maxAgeMs: 360_000,
    snapshot: {
      at,
      queues: new Map(Object.entries(queues).map(([k, ready]) => [k, { ready, notready: 0, running: 0, done: 0, failed: 0 }])),
      sites: sites === null ? null : new Map(Object.entries(sites).map(([k, status]) => [k, { status }])),
    },
  };
}

function batchView(at: number, queues: Record<string, [number, number]>): SourceView<BatchSnapshot> {
  return {
    available: true,
    key: 'local',
    maxAgeMs: 360_000,
    snapshot: {
      at,
      queues: new Map(Object.entries(queues).map(([k, [pending, running]]) => [k, { pending, running, done: 0, failed: 0 }])),
      jobs: new Map(),
    },
  };
}

const down = <T,>(reason: string): SourceView<T> => ({ available: false, key: 'k', reason });

/** A chain link that records what it saw and answers a fixed number. */
function probe(out: number, seen: SchedInput[] = []): ChainLink {
  return {
    id: 'Probe',
    fn: (n, input) => {
      seen.push(input);
      return { n: out, msg: `Probe:in=${n},ret=${out}` };
    },
  };
}

describe('core/pipeline', () => {
  it('passes the queue\'s own WMS/batch info, absent queues as zeros, and the factory total', () => {
    const views: QueueViews = {
      wms: wmsView(NOW - 1000, { PANDA_Q1: 40, OTHER: 7 }, { PANDA_Q1: 'test' }),
      batch: batchView(NOW - 1000, { Q1: [3, 5], Q2: [10, 20] }),
    };
    const input = schedInput({ queue: queue(), views, maxPerFactory: 100, now: NOW });
    expect(input.wms?.ready).toBe(40);
    expect(input.site).toEqual({ status: 'test' });
    expect(input.batch).toMatchObject({ pending: 3, running: 5 });
    expect(input.batchTotal).toEqual({ pending: 13, running: 25 });
    expect(input.maxPerFactory).toBe(100);

    const absent = schedInput({ queue: queue({ name: 'Q9', wmsqueue: 'NONE' }), views, maxPerFactory: undefined, now: NOW });
    expect(absent.wms).toEqual({ ready: 0, notready: 0, running: 0, done: 0, failed: 0 });
    expect(absent.batch).toEqual({ pending: 0, running: 0, done: 0, failed: 0 });
    expect(absent.site).toEqual({ status: '' });
  });

  it('shows missing or stale sources to the plugins as null (APF None)', () => {
    const stale = schedInput({
      queue: queue(),
      views: { wms: wmsView(NOW - 400_000, { PANDA_Q1: 40 }), batch: down('condor_q failed') },
      maxPerFactory: undefined,
      now: NOW,
    });
    expect(stale.wms).toBeNull();
    expect(stale.site).toBeNull();
    expect(stale.batch).toBeNull();
    expect(stale.batchTotal).toBeNull();
    const noSites = schedInput({
      queue: queue(),
      views: { wms: wmsView(NOW, { PANDA_Q1: 1 }, null), batch: batchView(NOW, {}) },
      maxPerFactory: undefined,
      now: NOW,
    });
    expect(noSites.wms?.ready).toBe(1);
    expect(noSites.site).toBeNull();
  });

  it('submits what the chain says when every source is fresh', () => {
    const d = decide({
      queue: queue(),
      chain: [probe(12)],
      views: { wms: wmsView(NOW, {}), batch: batchView(NOW, {}) },
      maxPerFactory: undefined,
      now: NOW,
    });
    expect(d).toMatchObject({ queue: 'Q1', n: 12, submit: 12, blocked: null, msg: 'Probe:in=0,ret=12' });
    expect(d.steps).toEqual([{ plugin: 'Probe', in: 0, out: 12, msg: 'Probe:in=0,ret=12' }]);
  });

  it('fails closed: an unavailable WMS blocks submission and says why, keeping the chain result', () => {
    const d = decide({
      queue: queue(),
      chain: [probe(12)],
      views: { wms: down('APF_ERR_HTTP: HTTP 500'), batch: batchView(NOW, {}) },
      maxPerFactory: undefined,
      now: NOW,
    });
    expect(d.n).toBe(12);
    expect(d.submit).toBe(0);
    expect(d.blocked).toContain('WMS source k unavailable: APF_ERR_HTTP: HTTP 500');
  });

  it('fails closed on stale batch data, naming its age and maxage', () => {
    const d = decide({
      queue: queue(),
      chain: [probe(5)],
      views: { wms: wmsView(NOW, {}), batch: batchView(NOW - 500_000, {}) },
      maxPerFactory: undefined,
      now: NOW,
    });
    expect(d.submit).toBe(0);
    expect(d.blocked).toBe('batch source local is stale: data is 500 s old (maxage 360 s)');
  });

  it('also refuses a retire (negative n) while a source is unknown', () => {
    const d = decide({
      queue: queue(),
      chain: [probe(-4)],
      views: { wms: wmsView(NOW, {}), batch: down('timeout') },
      maxPerFactory: undefined,
      now: NOW,
    });
    expect(d.n).toBe(-4);
    expect(d.submit).toBe(0);
  });

  it('lets negative numbers through to submit as a retire request when sources are fresh', () => {
    const d = decide({
      queue: queue(),
      chain: [probe(-4)],
      views: { wms: wmsView(NOW, {}), batch: batchView(NOW, {}) },
      maxPerFactory: undefined,
      now: NOW,
    });
    expect(d.submit).toBe(-4);
  });

  it('ignores the WMS gate for a queue without a WMS plugin', () => {
    const d = decide({
      queue: queue({ wmsstatus: undefined }),
      chain: [probe(3)],
      views: { wms: undefined, batch: batchView(NOW, {}) },
      maxPerFactory: undefined,
      now: NOW,
    });
    expect(d).toMatchObject({ submit: 3, blocked: null });
    expect(d.input.wms).toBeNull();
  });

  it('turns a throwing plugin into a blocked decision with the steps so far', () => {
    const boom: ChainLink = {
      id: 'Boom',
      fn: () => {
        throw new ApfError('APF_ERR_SCHED', 'MinPending: no batch info');
      },
    };
    const d = decide({
      queue: queue(),
      chain: [probe(7), boom],
      views: { wms: wmsView(NOW, {}), batch: batchView(NOW, {}) },
      maxPerFactory: undefined,
      now: NOW,
    });
    expect(d.submit).toBe(0);
    expect(d.blocked).toContain('sched chain failed');
    expect(d.blocked).toContain('MinPending: no batch info');
    expect(d.steps.map((s) => s.plugin)).toEqual(['Probe']);
  });

  it('adds pilots submitted since the snapshot to pending (cluster adjustment)', () => {
    const seen: SchedInput[] = [];
    decide({
      queue: queue(),
      chain: [probe(0, seen)],
      views: { wms: wmsView(NOW, {}), batch: batchView(NOW, { Q1: [2, 0], Q2: [1, 1] }) },
      maxPerFactory: undefined,
      now: NOW,
      adjust: { pending: 5, totalPending: 8 },
    });
    expect(seen[0]?.batch?.pending).toBe(7);
    expect(seen[0]?.batchTotal).toEqual({ pending: 11, running: 1 });
  });
});
