import { describe, expect, it } from 'vitest';
import { maxPerCyclePlugin } from '../../../../src/plugins/sched/max-per-cycle.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/max-per-cycle', () => {
  const cap = build(maxPerCyclePlugin, { 'sched.maxpercycle.maximum': '10' });

  it('caps at the maximum', () => {
    expect(cap(43, input())).toEqual({ n: 10, msg: 'MaxPerCycle:in=43,maxpercycle=10,ret=10' });
    expect(cap(4, input())).toEqual({ n: 4, msg: 'MaxPerCycle:in=4,maxpercycle=10,ret=4' });
    expect(cap(-6, input())).toEqual({ n: -6, msg: 'MaxPerCycle:in=-6,maxpercycle=10,ret=-6' });
  });

  it('passes through with "Not set" (no ret) when unset or None', () => {
    expect(build(maxPerCyclePlugin)(43, input())).toEqual({ n: 43, msg: 'MaxPerCycle:comment=Not set,in=43' });
    expect(build(maxPerCyclePlugin, { 'sched.maxpercycle.maximum': 'None' })(-2, input())).toEqual({
      n: -2,
      msg: 'MaxPerCycle:comment=Not set,in=-2',
    });
  });

  it('treats 0 as a real cap', () => {
    expect(build(maxPerCyclePlugin, { 'sched.maxpercycle.maximum': '0' })(5, input())).toEqual({
      n: 0,
      msg: 'MaxPerCycle:in=5,maxpercycle=0,ret=0',
    });
  });
});
