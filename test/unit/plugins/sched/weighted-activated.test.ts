import { describe, expect, it } from 'vitest';
import { weightedActivatedPlugin } from '../../../../src/plugins/sched/weighted-activated.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/weighted-activated', () => {
  it('defaults to weights 1.0: activated − pending', () => {
    expect(build(weightedActivatedPlugin)(0, input({ activated: 20, batch: { pending: 6, running: 3 } }))).toEqual({
      n: 14,
      msg: 'WeightedActivated:in=0,activated=20,weightedactivated=20,pending=6,weightedpending=6,ret=14',
    });
  });

  it('truncates each weighted count like Python int() and ignores its input', () => {
    const wa = build(weightedActivatedPlugin, {
      'sched.weightedactivated.activated': '0.55',
      'sched.weightedactivated.pending': '1.5',
    });
    // 10 × 0.55 = 5.5 → 5; 3 × 1.5 = 4.5 → 4
    expect(wa(99, input({ activated: 10, batch: { pending: 3, running: 0 } }))).toEqual({
      n: 1,
      msg: 'WeightedActivated:in=99,activated=10,weightedactivated=5,pending=3,weightedpending=4,ret=1',
    });
  });

  it('never goes below 0', () => {
    expect(build(weightedActivatedPlugin)(0, input({ activated: 2, batch: { pending: 9, running: 0 } })).n).toBe(0);
  });

  it('returns default when WMS or batch info is None', () => {
    const wa = build(weightedActivatedPlugin, { 'sched.weightedactivated.default': '2' });
    expect(wa(5, input({ activated: null }))).toEqual({ n: 2, msg: 'WeightedActivated:comment=no wmsinfo,in=5,ret=2' });
    expect(wa(5, input({ batch: null }))).toEqual({ n: 2, msg: 'WeightedActivated:comment=no batchinfo,in=5,ret=2' });
    expect(build(weightedActivatedPlugin)(5, input({ batch: null })).n).toBe(0);
  });
});
