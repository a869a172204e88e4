import { describe, expect, it } from 'vitest';
import { maxToRunPlugin } from '../../../../src/plugins/sched/max-to-run.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/max-to-run', () => {
  const mtr = build(maxToRunPlugin, { 'sched.maxtorun.maximum': '30' });

  it('limits to maximum − (pending + running)', () => {
    expect(mtr(20, input({ batch: { pending: 4, running: 16 } }))).toEqual({
      n: 10,
      msg: 'MaxToRun:in=20,maxtorun=30,pending=4,running=16,ret=10',
    });
    expect(mtr(5, input({ batch: { pending: 4, running: 16 } }))).toEqual({
      n: 5,
      msg: 'MaxToRun:in=5,maxtorun=30,pending=4,running=16,ret=5',
    });
  });

  it('may go negative when over the maximum', () => {
    expect(mtr(5, input({ batch: { pending: 10, running: 25 } }))).toEqual({
      n: -5,
      msg: 'MaxToRun:in=5,maxtorun=30,pending=10,running=25,ret=-5',
    });
  });

  it('passes through with no message when unset', () => {
    expect(build(maxToRunPlugin)(20, input({ batch: { pending: 99, running: 99 } }))).toEqual({ n: 20, msg: null });
  });

  it('returns 0 with "No batchinfo" when batch info is None (set or not)', () => {
    const want = { n: 0, msg: 'MaxToRun:comment=No batchinfo,in=20' };
    expect(mtr(20, input({ batch: null }))).toEqual(want);
    expect(build(maxToRunPlugin)(20, input({ batch: null }))).toEqual(want);
  });
});
