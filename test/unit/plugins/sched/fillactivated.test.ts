import { describe, expect, it } from 'vitest';
import { fillactivatedPlugin } from '../../../../src/plugins/sched/fillactivated.ts';
import { build, input } from './helpers.ts';

describe('plugins/sched/fillactivated', () => {
  const fa = build(fillactivatedPlugin, { 'sched.fillactivated.default': '7' });

  it('submits activated − pending, ignoring its input', () => {
    expect(fa(100, input({ activated: 30, batch: { pending: 12, running: 40 } }))).toEqual({
      n: 18,
      msg: 'Fillactivated:in=100,activated=30,pending=12,running=40,ret=18',
    });
    expect(fa(0, input({ activated: 3, batch: { pending: 12, running: 0 } }))).toEqual({
      n: 0,
      msg: 'Fillactivated:in=0,activated=3,pending=12,running=0,ret=0',
    });
  });

  it('returns default when WMS or batch info is None', () => {
    expect(fa(4, input({ activated: null }))).toEqual({ n: 7, msg: 'Fillactivated:comment=Invalid wmsinfo,in=4,ret=7' });
    expect(fa(4, input({ batch: null }))).toEqual({ n: 7, msg: 'Fillactivated:comment=Invalid batchinfo,in=4,ret=7' });
    expect(build(fillactivatedPlugin)(4, input({ batch: null })).n).toBe(0);
  });
});
