import { describe, expect, it } from 'vitest';
import { throttlePlugin } from '../../../../src/plugins/sched/throttle.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/throttle', () => {
  const th = build(throttlePlugin);
  const recent = (total: number, short: number) => input({ batch: { pending: 0, running: 0, recent: { total, short } } });

  it('throttles to submit when short/total is above the ratio', () => {
    expect(th(40, recent(10, 6))).toEqual({ n: 1, msg: 'Throttle:in=40,total=10,short=6,ratio=0.5,submit=1,ret=1' });
  });

  it('does not throttle at exactly the ratio (strictly greater)', () => {
    expect(th(40, recent(10, 5))).toEqual({ n: 40, msg: 'Throttle:in=40,total=10,short=5,ratio=0.5,submit=1,ret=40' });
    expect(th(40, recent(10, 0))).toEqual({ n: 40, msg: 'Throttle:in=40,total=10,short=0,ratio=0.5,submit=1,ret=40' });
  });

  it('uses the configured ratio and submit, printing the ratio as a Python float', () => {
    const t = build(throttlePlugin, { 'sched.throttle.ratio': '1', 'sched.throttle.submit': '3' });
    expect(t(40, recent(4, 4))).toEqual({ n: 40, msg: 'Throttle:in=40,total=4,short=4,ratio=1.0,submit=3,ret=40' });
    const t2 = build(throttlePlugin, { 'sched.throttle.ratio': '0.25', 'sched.throttle.submit': '3' });
    expect(t2(40, recent(4, 2))).toEqual({ n: 3, msg: 'Throttle:in=40,total=4,short=2,ratio=0.25,submit=3,ret=3' });
  });

  it('passes the input through without recent pilots, history or batch info', () => {
    expect(th(40, recent(0, 0))).toEqual({ n: 40, msg: 'Throttle:in=40,ret=40' });
    expect(th(40, input({ batch: { pending: 2, running: 2 } }))).toEqual({ n: 40, msg: 'Throttle:in=40,ret=40' });
    expect(th(-2, input({ batch: null }))).toEqual({ n: -2, msg: 'Throttle:in=-2,ret=-2' });
  });

  it('declares interval (3600) and maxtime (10) for the batch status source', () => {
    expect(throttlePlugin.options.interval.default).toBe(3600);
    expect(throttlePlugin.options.maxtime.default).toBe(10);
    expect(() => build(throttlePlugin, { 'sched.throttle.interval': '600', 'sched.throttle.maxtime': '30' })).not.toThrow();
  });
});
