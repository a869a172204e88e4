import { describe, expect, it } from 'vitest';
import { activatedPlugin } from '../../../../src/plugins/sched/activated.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/activated', () => {
  const k = (over: Record<string, string>) => build(activatedPlugin, over);

  it('online: max(0, activated − pending), ignoring its input', () => {
    expect(k({})(99, input({ activated: 30, site: 'online', batch: { pending: 5, running: 7 } }))).toEqual({
      n: 25,
      msg: 'Activated:in=99,status=online,activated=30,pending=5,running=7,ret=25',
    });
    expect(k({})(0, input({ activated: 3, batch: { pending: 5, running: 0 } })).n).toBe(0);
  });

  it('applies max_jobs_torun to pending + running', () => {
    const a = k({ 'sched.activated.max_jobs_torun': '20' });
    expect(a(0, input({ activated: 30, batch: { pending: 5, running: 7 } })).n).toBe(8); // min(25, 20 − 12)
    expect(a(0, input({ activated: 30, batch: { pending: 5, running: 25 } })).n).toBe(-10); // may go negative
  });

  it('applies min_pilots_pending, max_pilots_per_cycle, min_pilots_per_cycle, max_pilots_pending in that order', () => {
    expect(k({ 'sched.activated.min_pilots_pending': '8' })(0, input({ activated: 0, batch: { pending: 2, running: 0 } })).n).toBe(6);
    expect(k({ 'sched.activated.max_pilots_per_cycle': '10' })(0, input({ activated: 30, batch: { pending: 5, running: 0 } })).n).toBe(10);
    expect(k({ 'sched.activated.min_pilots_per_cycle': '3' })(0, input({ activated: 0, batch: { pending: 5, running: 0 } })).n).toBe(3);
    expect(k({ 'sched.activated.max_pilots_pending': '12' })(0, input({ activated: 30, batch: { pending: 5, running: 0 } })).n).toBe(7);
    // max_pilots_pending comes last, so it can undo min_pilots_per_cycle
    const both = k({ 'sched.activated.min_pilots_per_cycle': '5', 'sched.activated.max_pilots_pending': '10' });
    expect(both(0, input({ activated: 0, batch: { pending: 8, running: 0 } }))).toEqual({
      n: 2,
      msg: 'Activated:in=0,status=online,activated=0,pending=8,running=0,ret=2',
    });
  });

  it('skips a limit that is 0 (APF tested truthiness)', () => {
    const zeros = k({
      'sched.activated.max_jobs_torun': '0',
      'sched.activated.max_pilots_per_cycle': '0',
      'sched.activated.max_pilots_pending': '0',
    });
    expect(zeros(0, input({ activated: 30, batch: { pending: 5, running: 50 } })).n).toBe(25);
  });

  it('offline site → 0', () => {
    expect(k({ 'sched.activated.default': '3' })(4, input({ activated: 30, site: 'offline' }))).toEqual({
      n: 0,
      msg: 'Activated:comment=offline,in=4,ret=0',
    });
  });

  it('test site with test mode allowed → testmode.pilots unless more than testmode.max_pending are pending', () => {
    const t = k({ 'sched.activated.testmode.allowed': 'True', 'sched.activated.testmode.pilots': '2' });
    expect(t(0, input({ activated: 30, site: 'test', batch: { pending: 10, running: 0 } }))).toEqual({
      n: 2,
      msg: 'Activated:comment=test,in=0,pending=10,max_pending=10,pilots=2,ret=2',
    });
    expect(t(0, input({ activated: 30, site: 'test', batch: { pending: 11, running: 0 } }))).toEqual({
      n: 0,
      msg: 'Activated:comment=test,in=0,pending=11,max_pending=10,pilots=2,ret=0',
    });
    const t3 = k({ 'sched.activated.testmode.allowed': 'yes', 'sched.activated.testmode.max_pending': '3' });
    expect(t3(0, input({ activated: 30, site: 'test', batch: { pending: 3, running: 0 } })).n).toBe(0); // pilots default 0
  });

  it('test site without test mode → the online algorithm', () => {
    expect(k({})(0, input({ activated: 30, site: 'test', batch: { pending: 5, running: 0 } }))).toEqual({
      n: 25,
      msg: 'Activated:in=0,status=test,activated=30,pending=5,running=0,ret=25',
    });
  });

  it('unknown site status ("") → the online algorithm', () => {
    expect(k({})(0, input({ activated: 6, site: '', batch: { pending: 1, running: 0 } })).msg).toBe(
      'Activated:in=0,status=,activated=6,pending=1,running=0,ret=5',
    );
  });

  it('invalid status (no WMS, site or batch info) → default', () => {
    const a = k({ 'sched.activated.default': '3' });
    for (const spec of [{ activated: null }, { site: null }, { batch: null }]) {
      expect(a(8, input(spec))).toEqual({ n: 3, msg: 'Activated:comment=invalid status,in=8,ret=3' });
    }
    expect(k({})(8, input({ batch: null })).n).toBe(0);
  });
});
