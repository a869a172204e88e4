import { describe, expect, it } from 'vitest';
import { carryOver, rememberRead, type RememberedSource } from '../../../src/coordination/carry-over.ts';
import type { SubmittedEntry } from '../../../src/coordination/cluster-view.ts';
import type { SourceRecord } from '../../../src/coordination/records.ts';

const NOW = 1_800_000_000_000;

function rec(source: string, at: number): SourceRecord {
  return { source, owner: source.split('@')[1] ?? null, publisher: 'x', at, seq: 1, queues: { A: { pending: 1, running: 0, done: 0, failed: 0 } } };
}

function sub(source: string, cycleId: string): SubmittedEntry {
  return { source, queue: 'A', cycleId, n: 1, at: NOW };
}

const remembered = (...ids: string[]): Map<string, RememberedSource> => new Map(ids.map((id) => [id, { rec: rec(id, NOW - 1000), submitted: [] }]));

describe('carryOver', () => {
  const base = { now: NOW, maxAgeMs: 60_000, carried: new Map<string, RememberedSource>() };

  it('carries nothing while Redis kept its data, even when sources went away (decommission, prune)', () => {
    expect(carryOver({ ...base, lost: false, previous: remembered('a', 'b'), present: new Set(['a']) }).size).toBe(0);
  });

  it('after a loss carries exactly the sources the previous read had and this one lacks', () => {
    const next = carryOver({ ...base, lost: true, previous: remembered('a', 'b', 'c'), present: new Set(['a', 'd']) });
    expect([...next.keys()]).toEqual(['b', 'c']);
  });

  it('keeps carrying until the source is published again, and lets too old ones go', () => {
    const carried = new Map([...remembered('b'), ['old', { rec: rec('old', NOW - 61_000), submitted: [] }]]);
    expect([...carryOver({ ...base, carried, lost: false, previous: new Map(), present: new Set() }).keys()]).toEqual(['b']);
    expect(carryOver({ ...base, carried, lost: false, previous: new Map(), present: new Set(['b']) }).size).toBe(0);
  });

  it('a second loss adds to what is carried, without duplicates', () => {
    const next = carryOver({ ...base, carried: remembered('b'), lost: true, previous: remembered('a', 'b'), present: new Set() });
    expect([...next.keys()]).toEqual(['b', 'a']);
  });
});

describe('rememberRead', () => {
  it("groups the submitted entries under their source's snapshot", () => {
    const m = rememberRead([rec('a', NOW), rec('b', NOW)], [sub('b', 'A:1:1'), sub('a', 'A:2:1'), sub('b', 'A:3:1'), sub('z', 'A:4:1')]);
    expect([...m.keys()]).toEqual(['a', 'b']);
    expect(m.get('a')?.submitted.map((e) => e.cycleId)).toEqual(['A:2:1']);
    expect(m.get('b')?.submitted.map((e) => e.cycleId)).toEqual(['A:1:1', 'A:3:1']);
  });
});
