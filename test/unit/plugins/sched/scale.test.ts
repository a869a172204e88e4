import { describe, expect, it } from 'vitest';
import { isApfError } from '../../../../src/errors.ts';
import { scalePlugin } from '../../../../src/plugins/sched/scale.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/scale', () => {
  const half = build(scalePlugin, { 'sched.scale.factor': '0.5' });
  const inp = input();

  it('returns ceil(n × factor) and prints the factor as a Python float', () => {
    expect(half(86, inp)).toEqual({ n: 43, msg: 'Scale:in=86,factor=0.5,ret=43' });
    expect(half(85, inp)).toEqual({ n: 43, msg: 'Scale:in=85,factor=0.5,ret=43' });
  });

  it('turns any positive fraction of a pilot into one pilot', () => {
    expect(half(1, inp)).toEqual({ n: 1, msg: 'Scale:in=1,factor=0.5,ret=1' });
    expect(build(scalePlugin, { 'sched.scale.factor': '0.01' })(3, inp)).toEqual({ n: 1, msg: 'Scale:in=3,factor=0.01,ret=1' });
  });

  it('rounds negative numbers toward zero, with a plain 0 (never -0)', () => {
    expect(half(-3, inp)).toEqual({ n: -1, msg: 'Scale:in=-3,factor=0.5,ret=-1' });
    const r = half(-1, inp);
    expect(r.msg).toBe('Scale:in=-1,factor=0.5,ret=0');
    expect(Object.is(r.n, 0)).toBe(true);
  });

  it('defaults to factor 1.0 and prints integral floats with .0', () => {
    expect(build(scalePlugin)(7, inp)).toEqual({ n: 7, msg: 'Scale:in=7,factor=1.0,ret=7' });
    expect(build(scalePlugin, { 'sched.scale.factor': '2' })(7, inp)).toEqual({ n: 14, msg: 'Scale:in=7,factor=2.0,ret=14' });
    expect(build(scalePlugin, { 'sched.scale.factor': '0.333333333333333' })(10, inp).msg).toBe(
      'Scale:in=10,factor=0.333333333333,ret=4',
    );
  });

  it('raises APF_ERR_SCHED where Python int(ceil(x)) raised (inf, nan)', () => {
    const inf = build(scalePlugin, { 'sched.scale.factor': 'inf' });
    expect(() => inf(2, inp)).toThrow(expect.objectContaining({ code: 'APF_ERR_SCHED' }));
    let caught: unknown;
    try {
      inf(0, inp); // 0 × inf = nan
    } catch (err) {
      caught = err;
    }
    expect(isApfError(caught, 'APF_ERR_SCHED')).toBe(true);
  });
});
