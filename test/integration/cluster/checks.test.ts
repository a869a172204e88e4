/**
 * The cluster tests' checkers (test/helpers/cluster-checks.ts) on hand-made histories: each must
 * find what it is there to find, or the cluster tests would pass on nothing.
 */
import { describe, expect, it } from 'vitest';
import type { CycleRecord } from '../../../src/coordination/records.ts';
import { firstCycleAfter, parseCycleId, quantile, slotConflicts, tagProblems, type PilotTag } from '../../helpers/cluster-checks.ts';
import { cycleRecord } from '../../helpers/cycle-record.ts';

function rec(queue: string, slot: number, token: number, instance: string, at: number, jobIds: string[] = []): CycleRecord {
  return cycleRecord({ queue, slot, token, instance, at, jobIds });
}

function pilot(id: string, schedd: string, cycle: string, over: Partial<PilotTag> = {}): PilotTag {
  const c = parseCycleId(cycle);
  return { id, schedd, inQueue: true, jobStatus: 1, qdate: 0, queue: c?.queue ?? '', factory: 'f', cycle, instance: schedd, slot: c?.slot ?? NaN, token: c?.token ?? NaN, ...over };
}

describe('helpers/cluster-checks', () => {
  it('parses cycle ids, queue names with colons included', () => {
    expect(parseCycleId('A:B:1700000000000:1700000000000000')).toEqual({ queue: 'A:B', slot: 1700000000000, token: 1700000000000000 });
    expect(parseCycleId('Q:notaslot:1')).toBeNull();
  });

  it('finds a slot run twice, in the records or in the pilots', () => {
    const ok = [rec('Q', 1000, 1, 'a', 1010), rec('Q', 2000, 2, 'b', 2010)];
    expect(slotConflicts(ok, [pilot('1.0', 'a', 'Q:1000:1'), pilot('2.0', 'a', 'Q:1000:1')])).toEqual([]);
    const twice = slotConflicts([...ok, rec('Q', 2000, 3, 'a', 2020)], []);
    expect(twice).toEqual([{ queue: 'Q', slot: 2000, tokens: [2, 3], instances: ['b', 'a'], from: 'records' }]);
    const pilots = slotConflicts(ok, [pilot('1.0', 'a', 'Q:1000:1'), pilot('7.0', 'b', 'Q:1000:4')]);
    expect(pilots).toEqual([{ queue: 'Q', slot: 1000, tokens: [1, 4], instances: ['a', 'b'], from: 'pilots' }]);
  });

  it('finds pilots whose tags disagree', () => {
    const records = [rec('Q', 1000, 1, 'a', 1010, ['1.0'])];
    expect(tagProblems([pilot('1.0', 'a', 'Q:1000:1')], records, 'f')).toEqual([]);
    const problems = tagProblems(
      [pilot('1.0', 'a', 'Q:1000:1', { factory: 'other' }), pilot('2.0', 'b', 'Q:1000:1'), pilot('3.0', 'a', 'R:1000:1', { queue: 'Q' }), pilot('4.0', 'a', 'Q:1000:1', { instance: 'b' })],
      records,
      'f',
    );
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/APF_FACTORY other/);
    expect(problems.join('\n')).toMatch(/record of its cycle says instance a/);
    expect(problems.join('\n')).toMatch(/cycle queue R/);
    expect(problems.join('\n')).toMatch(/\+APF_INSTANCE b but it sits in a's schedd/);
  });

  it('measures the first cycle after a moment, leaving one instance out', () => {
    const h = new Map([
      ['Q1', [rec('Q1', 0, 1, 'a', 900), rec('Q1', 1000, 2, 'v', 1500), rec('Q1', 2000, 3, 'b', 2600)]],
      ['Q2', [rec('Q2', 0, 1, 'a', 900)]],
    ]);
    const gaps = firstCycleAfter(h, 1000, 'v');
    expect(gaps.get('Q1')?.gapMs).toBe(1600);
    expect(gaps.get('Q1')?.record.instance).toBe('b');
    expect(gaps.get('Q2')).toBeNull();
    expect(quantile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(quantile([5, 1, 3], 1)).toBe(5);
    expect(quantile([], 0.5)).toBeNull();
  });
});
