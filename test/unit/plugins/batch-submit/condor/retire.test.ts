import { describe, expect, it } from 'vitest';
import type { BatchJob } from '../../../../../src/core/info.ts';
import {
  parseRmOutput,
  pickJobsToRetire,
  retirePilots,
  retireSummary,
  scheddArgs,
} from '../../../../../src/plugins/batch-submit/condor/retire.ts';
import { fixtureCases } from './fixture-cases.ts';

const job = (id: string, qdate: number, jobStatus = 1): BatchJob => ({ id, queue: 'Q', jobStatus, qdate });

const JOBS: BatchJob[] = [
  job('100.0', 1000, 2),
  job('100.1', 1000, 1),
  job('101.0', 3000, 1),
  job('99.0', 500, 2),
  job('102.0', 2000, 5),
  job('98.0', 100, 3), // removed: never picked
  job('97.0', 50, 4), // completed: never picked
];

describe('plugins/batch-submit/condor/retire', () => {
  it('picks the newest first by QDate (ties: higher id first)', () => {
    expect(pickJobsToRetire(JOBS, 3, 'newest').map((j) => j.id)).toEqual(['101.0', '102.0', '100.1']);
  });

  it('picks the oldest first by QDate (ties: lower id first), idle or running alike', () => {
    expect(pickJobsToRetire(JOBS, 3, 'oldest').map((j) => j.id)).toEqual(['99.0', '100.0', '100.1']);
  });

  it('never picks removed or completed pilots, and gives fewer when the queue has fewer', () => {
    expect(pickJobsToRetire(JOBS, 50, 'oldest').map((j) => j.id)).toEqual(['99.0', '100.0', '100.1', '102.0', '101.0']);
    expect(pickJobsToRetire([], 2, 'newest')).toEqual([]);
    expect(pickJobsToRetire(JOBS, 0, 'newest')).toEqual([]);
  });

  it('does not reorder the caller\'s list', () => {
    const copy = [...JOBS];
    pickJobsToRetire(JOBS, 2, 'newest');
    expect(JOBS).toEqual(copy);
  });

  it('passes the schedd of submitargs to condor_rm', () => {
    expect(scheddArgs(['-remote', 'schedd01.example.org'])).toEqual(['-name', 'schedd01.example.org']);
    expect(scheddArgs(['-name', 's1', '-pool', 'cm.example.org:9618', '-spool'])).toEqual(['-name', 's1', '-pool', 'cm.example.org:9618']);
    expect(scheddArgs(['-verbose', '-append', 'x=1'])).toEqual([]);
    expect(scheddArgs(['-name'])).toEqual([]);
  });

  it('reads every per-job line of the condor_rm fixture', () => {
    const cases = fixtureCases('condor_rm_outputs.txt');
    const text = (titleStart: string): string => {
      const hit = cases.find((c) => c.title.startsWith(titleStart));
      if (hit === undefined) throw new Error(`no fixture case ${titleStart}`);
      return hit.text;
    };
    expect(parseRmOutput(text('condor_rm 4367890.0 4367890.1 '), ['4367890.0', '4367890.1']).removed).toEqual(['4367890.0', '4367890.1']);
    expect(parseRmOutput(text('condor_rm 4367999.0 (no such job)'), ['4367999.0']).notFound).toEqual(['4367999.0']);
    expect(parseRmOutput(text('condor_rm 4367890.0 (already being removed)'), ['4367890.0']).alreadyRemoving).toEqual(['4367890.0']);
    expect(parseRmOutput(text('condor_rm 4367999 (queue completely empty)'), ['1.0', '2.0']).notFound).toEqual(['1.0', '2.0']);
    expect(parseRmOutput(text('condor_rm -forcex 4367890.2 (job not in X state)'), ['4367890.2']).failed).toEqual(['4367890.2']);
    expect(parseRmOutput(text('condor_rm -forcex 4367890.2 (success)'), ['4367890.2']).removed).toEqual(['4367890.2']);
    // cluster-level lines and a failed cluster say nothing about individual requested ids
    expect(parseRmOutput(text('condor_rm 4367890 '), ['4367890.0']).unknown).toEqual(['4367890.0']);
    expect(parseRmOutput(text('condor_rm 4367999 (no such cluster'), ['4367999.0']).unknown).toEqual(['4367999.0']);
  });

  it('sorts a mixed answer and keeps the requested order', () => {
    const text = [
      'Job 5.1 not found',
      'Job 5.0 marked for removal',
      'Permission denied to remove job 6.0',
      'Job 9.9 marked for removal', // not requested: ignored
      'Job 7.0 already marked for removal',
    ].join('\n');
    expect(parseRmOutput(text, ['5.0', '5.1', '6.0', '7.0', '8.0'])).toEqual({
      removed: ['5.0'],
      alreadyRemoving: ['7.0'],
      notFound: ['5.1'],
      denied: ['6.0'],
      failed: [],
      unknown: ['8.0'],
    });
  });

  it('summarises what happened', () => {
    const outcome = { removed: ['1.0', '2.0'], alreadyRemoving: [], notFound: ['3.0'], denied: [], failed: [], unknown: ['4.0'] };
    expect(retireSummary(5, 'oldest', 4, outcome)).toBe('removed 2 oldest of 4 picked (asked to retire 5); not found: 3.0; no answer: 4.0');
  });

  it('removes nothing and runs nothing when peaceful', async () => {
    const report = await retirePilots(2, JOBS, { peaceful: true, killorder: 'newest', command: '/nonexistent/condor_rm', scheddArgs: [], timeoutMs: 1000 });
    expect(report).toEqual({ removed: [], summary: 'peaceful: nothing removed (asked to retire 2)' });
  });

  it('runs nothing when there is no live pilot', async () => {
    const report = await retirePilots(2, [job('1.0', 1, 3)], { peaceful: false, killorder: 'newest', command: '/nonexistent/condor_rm', scheddArgs: [], timeoutMs: 1000 });
    expect(report.removed).toEqual([]);
    expect(report.summary).toMatch(/^nothing to remove/);
  });
});
