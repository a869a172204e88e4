import { describe, expect, it } from 'vitest';
import { minPerCyclePlugin } from '../../../../src/plugins/sched/min-per-cycle.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/min-per-cycle', () => {
  it('raises to the minimum', () => {
    const floor = build(minPerCyclePlugin, { 'sched.minpercycle.minimum': '2' });
    expect(floor(0, input())).toEqual({ n: 2, msg: 'MinPerCycle:in=0,minpercycle=2,ret=2' });
    expect(floor(9, input())).toEqual({ n: 9, msg: 'MinPerCycle:in=9,minpercycle=2,ret=9' });
  });

  it('minimum = 0 turns a retire request into nothing', () => {
    const zero = build(minPerCyclePlugin, { 'sched.minpercycle.minimum': '0' });
    expect(zero(-7, input())).toEqual({ n: 0, msg: 'MinPerCycle:in=-7,minpercycle=0,ret=0' });
  });

  it('passes through with the bare "Not set" message when unset', () => {
    expect(build(minPerCyclePlugin)(-7, input())).toEqual({ n: -7, msg: 'MinPerCycle:comment=Not set' });
  });
});
