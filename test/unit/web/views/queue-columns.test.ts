import { describe, expect, it } from 'vitest';
import type { CycleRecord } from '../../../../src/coordination/records.ts';
import type { QueueStatus } from '../../../../src/core/status.ts';
import { QUEUE_COLUMNS, filterQueueRows, parseSort, queueRow, sortQueueRows, type QueueRow } from '../../../../src/web/views/queue-columns.ts';

const NOW = 1_795_641_100_000;

function status(name: string, o: Partial<QueueStatus> = {}): QueueStatus {
  return { name, enabled: true, paused: false, lastCycle: null, pending: 4, running: 9, done: 2, failed: 1, ...o };
}

function last(o: Partial<CycleRecord>): CycleRecord {
  return {
    queue: 'Q',
    slot: 0,
    token: 7,
    cycleId: 'Q:0:7',
    instance: 'node2',
    owner: 'node2:1:1',
    startedAt: NOW - 61_000,
    at: NOW - 60_000,
    durationMs: 1000,
    lagMs: 0,
    outcome: 'submitted',
    n: 3,
    submit: 3,
    msg: 'Ready:in=0,activated=30,ret=3',
    steps: [],
    blocked: null,
    inputs: { ready: 30, pending: 4, running: 9, siteStatus: 'online' },
    jobIds: ['1.0', '1.1', '1.2'],
    removed: [],
    error: null,
    configHash: 'h',
    ...o,
  };
}

function row(name: string, o: Partial<QueueRow>): QueueRow {
  return { ...queueRow(status(name), [], null, NOW), ...o };
}

describe('web/views/queue-columns', () => {
  it('builds a row: created over the last hour, batch counts, the last cycle, exiting unknown', () => {
    const recs = [{ at: NOW - 10_000, jobIds: ['a', 'b'] }, { at: NOW - 3_599_000, jobIds: ['c'] }, { at: NOW - 3_601_000, jobIds: ['d', 'e', 'f'] }];
    const r = queueRow(status('Q', { paused: true }), recs, last({ blocked: 'stale' }), NOW);
    expect(r).toEqual({
      name: 'Q',
      enabled: true,
      paused: true,
      created: 3,
      running: 9,
      exiting: null,
      done: 2,
      fault: 1,
      ready: 30,
      pending: 4,
      lastMsgAgeMs: 60_000,
      lastMsg: 'Ready:in=0,activated=30,ret=3',
      lastInstance: 'node2',
      lastOutcome: 'submitted',
      blocked: 'stale',
    });
    const none = queueRow(status('Q', { pending: null, running: null }), [], null, NOW);
    expect([none.created, none.ready, none.pending, none.lastMsgAgeMs, none.lastInstance]).toEqual([0, null, null, null, null]);
  });

  it('defines every column once, with a label and a description', () => {
    expect(QUEUE_COLUMNS.map((c) => c.key)).toEqual(['name', 'created', 'running', 'exiting', 'done', 'fault', 'lastmsg', 'ready', 'pending', 'instance']);
    expect(QUEUE_COLUMNS.map((c) => c.label)).toContain('done (1 hr)');
    for (const c of QUEUE_COLUMNS) expect(c.description.length, c.key).toBeGreaterThan(10);
  });

  it('sorts on a column in both directions, ties by name, unknown values last', () => {
    const rows = [row('b', { pending: 5 }), row('a', { pending: null }), row('c', { pending: 5 }), row('d', { pending: 1 })];
    expect(sortQueueRows(rows, 'pending', 'asc').map((r) => r.name)).toEqual(['d', 'b', 'c', 'a']);
    expect(sortQueueRows(rows, 'pending', 'desc').map((r) => r.name)).toEqual(['b', 'c', 'd', 'a']);
    expect(sortQueueRows(rows, 'name', 'desc').map((r) => r.name)).toEqual(['d', 'c', 'b', 'a']);
    // numbers compare as numbers, not text
    const nums = [row('x', { created: 10 }), row('y', { created: 9 })];
    expect(sortQueueRows(nums, 'created', 'asc').map((r) => r.name)).toEqual(['y', 'x']);
  });

  it('parses ?sort= and ?dir= leniently', () => {
    expect(parseSort('pending', 'desc')).toEqual({ key: 'pending', dir: 'desc' });
    expect(parseSort('nope', 'up')).toEqual({ key: 'name', dir: 'asc' });
    expect(parseSort(null, null)).toEqual({ key: 'name', dir: 'asc' });
  });

  it('filters by a case-insensitive name substring', () => {
    const rows = [row('CERN-ce503', {}), row('BNL', {}), row('we/ird', {})];
    expect(filterQueueRows(rows, 'ce5').map((r) => r.name)).toEqual(['CERN-ce503']);
    expect(filterQueueRows(rows, '  ').length).toBe(3);
    expect(filterQueueRows(rows, 'IRD').map((r) => r.name)).toEqual(['we/ird']);
    expect(filterQueueRows(rows, 'zzz')).toEqual([]);
  });
});
