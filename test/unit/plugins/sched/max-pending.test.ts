import { describe, expect, it } from 'vitest';
import { maxPendingPlugin } from '../../../../src/plugins/sched/max-pending.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/max-pending', () => {
  const mp = build(maxPendingPlugin, { 'sched.maxpending.maximum': '25' });

  it('limits to maximum − pending while pilots are pending', () => {
    expect(mp(43, input({ batch: { pending: 10, running: 8 } }))).toEqual({
      n: 15,
      msg: 'MaxPending:in=43,pending=10,maxpending=25,ret=15',
    });
    expect(mp(3, input({ batch: { pending: 10, running: 8 } }))).toEqual({
      n: 3,
      msg: 'MaxPending:in=3,pending=10,maxpending=25,ret=3',
    });
  });

  it('imposes no limit while nothing is pending', () => {
    expect(mp(400, input({ batch: { pending: 0, running: 900 } }))).toEqual({
      n: 400,
      msg: 'MaxPending:in=400,pending=0,maxpending=25,ret=400',
    });
  });

  it('allows a negative result (retire) by default', () => {
    expect(mp(5, input({ batch: { pending: 30, running: 0 } }))).toEqual({
      n: -5,
      msg: 'MaxPending:in=5,pending=30,maxpending=25,ret=-5',
    });
  });

  it('floors at 0 with allow_negative = False', () => {
    const noNeg = build(maxPendingPlugin, { 'sched.maxpending.maximum': '25', 'sched.maxpending.allow_negative': 'False' });
    expect(noNeg(5, input({ batch: { pending: 30, running: 0 } }))).toEqual({
      n: 0,
      msg: 'MaxPending:in=5,pending=30,maxpending=25,ret=0',
    });
    // the floor applies to maximum − pending only; a negative input still passes through min()
    expect(noNeg(-4, input({ batch: { pending: 30, running: 0 } })).n).toBe(-4);
  });

  it('passes through with maxpending=None when unset', () => {
    expect(build(maxPendingPlugin)(12, input({ batch: { pending: 50, running: 0 } }))).toEqual({
      n: 12,
      msg: 'MaxPending:in=12,pending=50,maxpending=None,ret=12',
    });
  });

  it('passes through with "No queueinfo." when batch info is None', () => {
    expect(mp(12, input({ batch: null }))).toEqual({ n: 12, msg: 'MaxPending:comment=No queueinfo.' });
  });
});
